import numpy as np
import pytest

from lowlight.datasets.transforms import (LowLightSynthesis, darken_linear,
                                          synthesize_low_light)
from mmdet.registry import TRANSFORMS

NO_NOISE = dict(shot_noise_range=(1e-12, 1e-12),
                read_noise_range=(1e-12, 1e-12))


def _params(**kwargs):
    params = dict(exposure=1.0, gamma=1.0, shot_noise=1e-12,
                  read_noise=1e-12, color_cast=[1.0, 1.0, 1.0])
    params.update(kwargs)
    return params


def _linear(img, gamma=2.2):
    return (img.astype(np.float64) / 255.0)**gamma


@pytest.mark.parametrize('exposure', [0.05, 0.2, 0.5])
def test_brightness_scales_with_exposure(exposure):
    rng = np.random.default_rng(0)
    img = rng.integers(30, 230, (48, 64, 3), dtype=np.uint8)
    transform = TRANSFORMS.build(
        dict(type='LowLightSynthesis', exposure_range=(exposure, exposure),
             gamma_range=(2.2, 2.2), color_cast_prob=0.0, seed=1,
             **NO_NOISE))
    out = transform(dict(img=img.copy(), img_path='a.jpg'))
    # the linear mean scales by the exposure (up to 8-bit rounding)
    ratio = _linear(out['img']).mean() / _linear(img).mean()
    assert ratio == pytest.approx(exposure, rel=0.03)
    assert out['img'].mean() < img.mean()
    assert out['low_light_params']['exposure'] == pytest.approx(exposure)


def test_noise_variance_grows_with_signal_as_modelled():
    shot, read = 0.01, 0.01
    rng = np.random.default_rng(0)
    variances = []
    for level in (0.1, 0.3, 0.6):
        flat = np.full((96, 96, 3), level, np.float32)
        out = darken_linear(flat, _params(shot_noise=shot, read_noise=read),
                            rng)
        measured = (out / 255.0).var()
        # Var = shot * s + read^2, plus 8-bit quantisation (1/12 LSB^2)
        expected = shot * level + read**2 + 1 / 12 / 255.0**2
        assert measured == pytest.approx(expected, rel=0.1)
        variances.append(measured)
    assert variances[0] < variances[1] < variances[2]


def test_zero_noise_is_exact_and_curve_round_trips():
    img = np.arange(256, dtype=np.uint8).reshape(16, 16)[..., None].repeat(
        3, axis=2)
    out = synthesize_low_light(img, _params(gamma=2.2), np.random.default_rng(
        0))
    np.testing.assert_array_equal(out, img)


def test_color_cast_and_gray_images():
    img = np.full((8, 8, 3), 200, np.uint8)
    out = synthesize_low_light(img, _params(color_cast=[0.5, 1.0, 1.0]),
                               np.random.default_rng(0))
    assert out[..., 0].mean() == pytest.approx(100, abs=1)
    assert out[..., 1].mean() == pytest.approx(200, abs=1)
    gray = synthesize_low_light(img[..., 0], _params(exposure=0.5),
                                np.random.default_rng(0))
    assert gray.shape == (8, 8) and gray.mean() == pytest.approx(100, abs=1)


def test_seeded_transform_is_deterministic_per_image():
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8)
    transform = LowLightSynthesis(seed=3)
    a = transform(dict(img=img.copy(), img_path='x/1.jpg'))
    b = transform(dict(img=img.copy(), img_path='x/1.jpg'))
    c = transform(dict(img=img.copy(), img_path='x/2.jpg'))
    np.testing.assert_array_equal(a['img'], b['img'])
    assert a['low_light_params'] == b['low_light_params']
    assert a['low_light_params'] != c['low_light_params']
    assert set(a['low_light_params']) == {
        'exposure', 'gamma', 'shot_noise', 'read_noise', 'color_cast'
    }


def test_prob_zero_leaves_image_and_bad_ranges_raise():
    img = np.full((4, 4, 3), 90, np.uint8)
    out = LowLightSynthesis(prob=0.0, seed=0)(dict(img=img.copy()))
    np.testing.assert_array_equal(out['img'], img)
    assert out['low_light_params'] is None
    with pytest.raises(ValueError, match='exposure_range'):
        LowLightSynthesis(exposure_range=(0.5, 0.1))
    with pytest.raises(ValueError, match='read_noise_range'):
        LowLightSynthesis(read_noise_range=(0.0, 0.1))
    assert 'exposure_range=(0.05, 0.3)' in repr(LowLightSynthesis())


def test_keep_original_makes_a_night_day_pair():
    img = np.full((8, 8, 3), 180, np.uint8)
    out = LowLightSynthesis(seed=0, keep_original='day_img')(dict(
        img=img.copy(), img_path='x/1.jpg'))
    np.testing.assert_array_equal(out['day_img'], img)
    assert out['img'].mean() < out['day_img'].mean()
    assert "keep_original='day_img'" in repr(
        LowLightSynthesis(keep_original='day_img'))
