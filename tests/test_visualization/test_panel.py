import cv2
import numpy as np
import pytest

from lowlight.visualization import (colorize_illumination,
                                    draw_decomposition_panel, draw_detections,
                                    draw_scale_bar)

H, W = 40, 60
TITLE = 24  # height of the title strip above every tile
SCALE = 52  # width of the scale bar column


def _inputs():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    illumination = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    reflectance = rng.random((H, W, 3)).astype(np.float32)
    return image, illumination, reflectance


def test_colorize_uses_fixed_unit_scale():
    lut = cv2.applyColorMap(
        np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_INFERNO)
    lut = lut[:, 0, ::-1]  # BGR -> RGB
    ill = np.array([[0.0, 0.5, 1.0, 2.0, -1.0]], np.float32)
    out = colorize_illumination(ill)
    assert out.shape == (1, 5, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 0], lut[0])
    np.testing.assert_array_equal(out[0, 1], lut[128])
    np.testing.assert_array_equal(out[0, 2], lut[255])
    # out-of-range values are clipped, not rescaled
    np.testing.assert_array_equal(out[0, 3], lut[255])
    np.testing.assert_array_equal(out[0, 4], lut[0])
    # three channels are averaged
    rgb = np.stack([np.zeros(
        (1, 1)), np.ones(
            (1, 1)), np.full((1, 1), .5)],
                   axis=2)
    np.testing.assert_array_equal(colorize_illumination(rgb)[0, 0], lut[128])


def test_scale_bar_runs_from_one_at_top_to_zero_at_bottom():
    bar = draw_scale_bar(100)
    assert bar.shape == (100, SCALE, 3)
    top, bottom = bar[0, 5], bar[-1, 5]
    np.testing.assert_array_equal(top,
                                  colorize_illumination(np.ones((1, 1)))[0, 0])
    np.testing.assert_array_equal(
        bottom,
        colorize_illumination(np.zeros((1, 1)))[0, 0])
    # tick labels are drawn in black on the right
    assert (bar[:, 20:].sum(axis=2) < 100).any()


def test_detections_respect_threshold_and_palette():
    image = np.zeros((50, 50, 3), np.uint8)
    palette = [(255, 0, 0), (0, 0, 255)]
    out = draw_detections(
        image,
        np.array([[5, 20, 20, 40], [30, 20, 45, 40]]),
        np.array([0, 1]),
        np.array([0.9, 0.1]), ['car', 'bus'],
        palette,
        score_thr=0.5)
    assert image.sum() == 0, 'the input must not be modified'
    np.testing.assert_array_equal(out[30, 5], palette[0])  # left edge, box 0
    np.testing.assert_array_equal(out[30, 45], (0, 0, 0))  # box 1 skipped
    assert not (out == palette[1]).all(axis=2).any()


def test_panel_layout():
    image, ill, refl = _inputs()
    panel = draw_decomposition_panel(
        image,
        ill,
        refl,
        np.array([[2., 2., 30., 30.]]),
        np.array([0]),
        np.array([0.8]),
        class_names=['car'],
        palette=[(0, 255, 0)])
    assert panel.shape == (H + TITLE, 4 * W + SCALE, 3)
    assert panel.dtype == np.uint8
    np.testing.assert_array_equal(panel[TITLE:, :W], image)
    np.testing.assert_array_equal(panel[TITLE:, W:2 * W],
                                  colorize_illumination(ill))
    np.testing.assert_array_equal(panel[TITLE:, 2 * W + SCALE:3 * W + SCALE],
                                  np.round(refl * 255).astype(np.uint8))
    detections = panel[TITLE:, 3 * W + SCALE:]
    np.testing.assert_array_equal(detections[25, 2], (0, 255, 0))
    np.testing.assert_array_equal(detections[35, 50], image[35, 50])


def test_panel_without_detections_and_with_single_channel_map():
    image, ill, refl = _inputs()
    panel = draw_decomposition_panel(image, ill[..., None], refl)
    np.testing.assert_array_equal(panel[TITLE:, 3 * W + SCALE:], image)


@pytest.mark.parametrize('bad', ['illumination', 'reflectance', 'image'])
def test_panel_rejects_mismatched_inputs(bad):
    image, ill, refl = _inputs()
    if bad == 'illumination':
        ill = ill[:-1]
    elif bad == 'reflectance':
        refl = refl[:, :-1]
    else:
        image = image.astype(np.float32)
    with pytest.raises(ValueError, match=bad if bad != 'image' else 'uint8'):
        draw_decomposition_panel(image, ill, refl)
