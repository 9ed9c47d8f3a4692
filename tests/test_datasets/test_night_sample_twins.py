"""The paired night sample: day twins with the night boxes, brighter by the
camera's factor, and true illumination maps that read back."""
import json

import cv2
import numpy as np
import pytest
from scipy.special import ndtr

from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import (generate_night_sample,
                                            illumination_path,
                                            read_illumination, render_scene)
from lowlight.datasets.night_sample.scene import DAY_CAMERA


@pytest.fixture(scope='module')
def paired(tmp_path_factory):
    root = tmp_path_factory.mktemp('paired') / 'sample'
    generate_night_sample(str(root), seed=0, num_train=6, num_val=2,
                          num_test=4, size=128)
    return root


def _boxes(ann_file):
    data = json.loads(ann_file.read_text())
    names = {img['id']: img['file_name'] for img in data['images']}
    out = {}
    for ann in data['annotations']:
        out.setdefault(names[ann['image_id']], []).append(
            (ann['category_id'], tuple(ann['bbox'])))
    return {name: sorted(boxes) for name, boxes in out.items()}


def test_day_twins_have_the_night_boxes(paired, tmp_path):
    night = convert_exdark(str(paired), str(tmp_path / 'night'))
    day = convert_exdark(str(paired / 'day'), str(tmp_path / 'day'))
    assert not night.report.skipped and not day.report.skipped
    for split in ('train', 'val', 'test'):
        name = f'annotations/exdark_{split}.json'
        night_boxes = _boxes(tmp_path / 'night' / name)
        assert night_boxes  # a split with objects
        assert _boxes(tmp_path / 'day' / name) == night_boxes
    night_means, day_means = [], []
    for path in (paired / 'ExDark').rglob('2015_*'):
        night_img = cv2.imread(str(path))
        day_img = cv2.imread(str(paired / 'day' / path.relative_to(paired)))
        assert day_img.shape == night_img.shape
        night_means.append(night_img.mean())
        day_means.append(day_img.mean())
    assert np.mean(day_means) > 2 * np.mean(night_means)


def test_illumination_maps_read_back(paired):
    images = sorted((paired / 'ExDark').rglob('2015_*'))
    assert images
    for img in images:
        path = illumination_path(str(img))
        assert path is not None, img
        illum = read_illumination(path)
        assert illum.shape == cv2.imread(str(img)).shape[:2]
        assert illum.dtype == np.float32 and illum.min() > 0
    assert illumination_path(str(paired / 'day' / images[0].relative_to(
        paired))) is None  # day twins have none
    bad = paired.parent / 'rgb.png'
    cv2.imwrite(str(bad), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match='rgb.png'):
        read_illumination(str(bad))


@pytest.mark.parametrize('light,indoor', [(1, True), (2, False), (6, False),
                                          (8, True), (10, False)])
def test_day_twin_is_brighter_by_the_camera_factor(light, indoor):
    """In the linear domain, day / night = (day exposure * day light) /
    (night exposure * cast * night light) wherever emission does not add
    to the albedo's reflection. The night sensor clips its noise at 0,
    which brightens the darkest pixels on average, so the night image is
    compared with the clipped mean that the day twin predicts,
    ``E[max(0, s + n)] = s Phi(s / sd) + sd phi(s / sd)`` with
    ``s = day / factor``; both are box-filtered so that noise averages out,
    and the median over the image is compared (chairs carry no lamps)."""
    scene = render_scene(np.random.default_rng(7), 240, 320, 'Chair', light,
                         indoor, day_rng=np.random.default_rng(8))
    again = render_scene(np.random.default_rng(7), 240, 320, 'Chair', light,
                         indoor)
    assert np.array_equal(again.night, scene.night)  # twin costs nothing
    assert again.day is None and scene.boxes == again.boxes
    params = scene.params
    night = cv2.blur((scene.night / 255.0)**params['gamma'], (9, 9))
    day_linear = (scene.day / 255.0)**DAY_CAMERA['gamma']
    cast = np.asarray(params['color_cast'])
    intended = (DAY_CAMERA['exposure'] * scene.day_illumination[..., None]) / (
        params['exposure'] * cast * scene.illumination[..., None])
    signal = day_linear / intended
    sd = np.sqrt(params['shot_noise'] * signal + params['read_noise']**2)
    clipped_mean = signal * ndtr(signal / sd) + sd * np.exp(
        -0.5 * (signal / sd)**2) / np.sqrt(2 * np.pi)
    predicted = cv2.blur(clipped_mean, (9, 9))
    day = cv2.blur(day_linear, (9, 9))
    valid = (night > 0.001) & (night < 0.9) & (day > 0.02) & (day < 0.9)
    assert valid.mean() > 0.3
    ratio = np.median(predicted[valid] / night[valid])
    assert 0.88 < ratio < 1.12, ratio
    assert np.median(intended) > 3  # the twin really is a day image


def test_clean_night_twin_is_the_night_without_noise():
    """The noise-free twin leaves the night image as it was, and differs
    from it by the sensor noise alone: zero-mean where the signal is far
    from the clip at 0, of the camera's standard deviation."""
    noisy = render_scene(np.random.default_rng(3), 240, 320, 'Car', 10, False)
    scene = render_scene(np.random.default_rng(3), 240, 320, 'Car', 10,
                         False, clean_night=True)
    assert np.array_equal(scene.night, noisy.night)
    assert noisy.clean_night is None and scene.boxes == noisy.boxes
    params = scene.params
    night = (scene.night / 255.0)**params['gamma']
    clean = (scene.clean_night / 255.0)**params['gamma']
    sd = np.sqrt(params['shot_noise'] * clean + params['read_noise']**2)
    lit = (clean > 4 * sd) & (clean < 0.9)
    assert lit.mean() > 0.2
    residual = (night - clean)[lit] / sd[lit]
    assert abs(residual.mean()) < 0.1
    # 8-bit quantisation adds a little to the noise of the darkest pixels
    assert 0.8 < residual.std() < 1.3


def test_clean_twins_tree_has_the_night_boxes(paired, tmp_path):
    root = tmp_path / 'clean'
    generate_night_sample(str(root), seed=0, num_train=6, num_val=2,
                          num_test=4, size=128, clean_twins=True)
    assert json.loads((root / 'night_sample.json').read_text())[
        'settings']['clean_twins'] is True
    for path in (paired / 'ExDark').rglob('2015_*'):
        same = root / path.relative_to(paired)
        assert same.read_bytes() == path.read_bytes()  # night unchanged
        assert (root / 'night_clean' / path.relative_to(paired)).is_file()
    convert_exdark(str(paired), str(tmp_path / 'night'))
    convert_exdark(str(root / 'night_clean'), str(tmp_path / 'clean_conv'))
    for split in ('train', 'val', 'test'):
        name = f'annotations/exdark_{split}.json'
        assert _boxes(tmp_path / 'clean_conv' / name) == _boxes(
            tmp_path / 'night' / name)
    with pytest.raises(ValueError, match='clean_twins'):
        generate_night_sample(str(tmp_path / 'x'), kind='day',
                              clean_twins=True)
