import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData

from lowlight.visualization import (colorize_illumination,
                                    render_decomposition_panels)

TITLE, SCALE = 24, 52


def test_panels_show_the_unpadded_decomposition(t2_model, make_item):
    # two sizes in one batch: the smaller one is padded by the preprocessor
    items = [make_item(70, 90, 'a', seed=1), make_item(64, 64, 'b', seed=2)]
    batch = pseudo_collate(items)
    panels = render_decomposition_panels(t2_model, batch,
                                         dict(classes=('x', ) * 12))
    assert [p.shape for p in panels] == [(70 + TITLE, 4 * 90 + SCALE, 3),
                                         (64 + TITLE, 4 * 64 + SCALE, 3)]
    data = t2_model.data_preprocessor(batch, False)
    with torch.no_grad():
        dec = t2_model.decompose(data['inputs'], data['data_samples'])
    for i, (item, panel) in enumerate(zip(items, panels)):
        h, w = item['inputs'].shape[1:]
        # input tile: the loaded BGR image shown in RGB
        np.testing.assert_array_equal(
            panel[TITLE:, :w], item['inputs'].permute(1, 2,
                                                      0).numpy()[..., ::-1])
        ill = dec.illumination[i, :, :h, :w].permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(panel[TITLE:, w:2 * w],
                                      colorize_illumination(ill))
        refl = dec.reflectance[i, :, :h, :w].permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(
            panel[TITLE:, 2 * w + SCALE:3 * w + SCALE],
            np.round(np.clip(refl, 0, 1) * 255).astype(np.uint8))


def test_detections_are_drawn_at_network_input_scale(t2_model, make_item,
                                                     monkeypatch):
    # the image was resized by 0.5 from its original size: a box at
    # (40, 40, 100, 100) in original pixels is at (20, 20, 50, 50) here
    item = make_item(64, 64, 'c', ori_scale=2.0)
    item['inputs'][:] = 0

    predict = t2_model.predict

    def fake_predict(inputs, samples, rescale=True, with_decomposition=False):
        samples = predict(inputs, samples, rescale, with_decomposition)
        for sample in samples:
            sample.pred_instances = InstanceData(
                bboxes=torch.tensor([[40., 40., 100., 100.]]),
                labels=torch.tensor([1]),
                scores=torch.tensor([0.9]))
        return samples

    monkeypatch.setattr(t2_model, 'predict', fake_predict)
    panel = render_decomposition_panels(
        t2_model, pseudo_collate([item]),
        dict(classes=('a', 'b'), palette=[(0, 0, 255), (255, 0, 0)]))[0]
    det = panel[TITLE:, 3 * 64 + SCALE:]
    np.testing.assert_array_equal(det[35, 20], (255, 0, 0))  # left edge
    np.testing.assert_array_equal(det[35, 50], (255, 0, 0))  # right edge
    np.testing.assert_array_equal(det[35, 35], (0, 0, 0))  # inside
    np.testing.assert_array_equal(det[60, 60], (0, 0, 0))  # outside


def test_the_enhancer_runs_once_per_batch(t2_model, make_item):
    calls = []
    handle = t2_model.enhancer.register_forward_hook(
        lambda module, args, output: calls.append(args[0].shape[0]))
    try:
        render_decomposition_panels(
            t2_model,
            pseudo_collate([make_item(32, 32, 'a'),
                            make_item(32, 32, 'b')]))
    finally:
        handle.remove()
    assert calls == [2]


def test_model_without_decompose_is_refused(make_item):
    with pytest.raises(TypeError, match='decompose'):
        render_decomposition_panels(torch.nn.Identity(),
                                    pseudo_collate([make_item(8, 8, 'x')]))
