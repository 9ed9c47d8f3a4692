from types import SimpleNamespace

import cv2
import pytest
import torch
from mmengine.visualization import Visualizer

from mmdet.registry import HOOKS

TITLE, SCALE = 24, 52


class _Dataset(list):
    metainfo = dict(classes=('a', 'b'), palette=[(255, 0, 0), (0, 255, 0)])


@pytest.fixture
def runner(t2_model, make_item, tmp_path):
    dataset = _Dataset([
        make_item(64, 96, 'night_0', seed=0),
        make_item(64, 64, 'night_1', seed=1),
        make_item(32, 32, 'night_2', seed=2)
    ])
    visualizer = Visualizer(
        name=f'vis_{tmp_path.name}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path))
    return SimpleNamespace(
        model=t2_model,
        val_dataloader=SimpleNamespace(dataset=dataset),
        visualizer=visualizer,
        iter=7)


def _images(tmp_path):
    folder = tmp_path / 'vis_data' / 'vis_image'
    return sorted(p.name for p in folder.glob('*.png'))


def test_logs_panels_of_fixed_images(runner, tmp_path):
    hook = HOOKS.build(
        dict(type='DecompositionVisualizationHook', indices=(1, 0, 5)))
    hook.before_run(runner)
    hook.after_val_epoch(runner, {})
    # index 5 is past the end of the dataset and is skipped
    assert _images(tmp_path) == [
        'decomposition_night_0_7.png', 'decomposition_night_1_7.png'
    ]
    panel = cv2.imread(
        str(tmp_path / 'vis_data' / 'vis_image' /
            'decomposition_night_0_7.png'))
    assert panel.shape == (64 + TITLE, 4 * 96 + SCALE, 3)
    runner.iter = 20
    hook.after_val_epoch(runner, {})
    assert 'decomposition_night_1_20.png' in _images(tmp_path)


def test_interval_and_model_state(runner, tmp_path):
    hook = HOOKS.build(
        dict(type='DecompositionVisualizationHook', indices=(2, ), interval=2))
    hook.after_val_epoch(runner, {})
    assert _images(tmp_path) == []
    hook.after_val_epoch(runner, {})
    assert _images(tmp_path) == ['decomposition_night_2_7.png']
    assert all(p.grad is None for p in runner.model.parameters())


def test_refuses_a_model_without_decomposition(runner):
    runner.model = torch.nn.Conv2d(3, 3, 1)
    hook = HOOKS.build(dict(type='DecompositionVisualizationHook'))
    with pytest.raises(TypeError, match='LowLightDetector'):
        hook.before_run(runner)
    with pytest.raises(ValueError, match='interval'):
        HOOKS.build(dict(type='DecompositionVisualizationHook', interval=0))
