"""init_low_light_detector: mmdet's init_detector, loading weights-only."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from lowlight.apis import init_low_light_detector
from lowlight.engine import CheckpointLoadError
from lowlight.testing import TINY_CLASSES as CLASSES
from lowlight.testing import make_detector, write_crafted_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'configs', 't2',
                  't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')


def test_same_model_as_mmdet_init_detector(tmp_path):
    from mmdet.apis import init_detector
    config, checkpoint = make_detector(tmp_path)
    ours = init_low_light_detector(config, checkpoint)
    theirs = init_detector(config, checkpoint, device='cpu')
    assert not ours.training
    assert next(ours.parameters()).device.type == 'cpu'
    assert ours.dataset_meta['classes'] == CLASSES
    assert ours.dataset_meta == theirs.dataset_meta  # classes and palette
    assert ours.cfg.pretty_text == theirs.cfg.pretty_text
    expected = torch.load(checkpoint, weights_only=True)['state_dict']
    state = ours.state_dict()
    assert state.keys() == expected.keys()
    assert all(
        torch.equal(state[key], value) for key, value in expected.items())


def test_config_object_is_copied_and_options_merged(tmp_path):
    config_path, checkpoint = make_detector(tmp_path)
    config = Config.fromfile(config_path)
    model = init_low_light_detector(
        config, checkpoint, cfg_options={'model.test_cfg.max_per_img': 3})
    assert model.cfg.model.test_cfg.max_per_img == 3
    assert config.model.test_cfg.max_per_img == 5
    with pytest.raises(TypeError, match='Config'):
        init_low_light_detector(dict(config.model))


def test_low_light_detector_config_needs_no_cfg_options():
    # mmdet's init_detector with cfg_options=None reads model.backbone,
    # which LowLightDetector (backbone under model.detector) does not have.
    with pytest.warns(UserWarning, match='No checkpoint'):
        model = init_low_light_detector(SAMPLE)
    assert type(model).__name__ == 'LowLightDetector'
    assert model.dataset_meta['palette'] is not None


@pytest.mark.parametrize('writer', ['torch.save', 'pickle.dump'])
def test_crafted_checkpoint_is_refused(tmp_path, writer):
    config, _ = make_detector(tmp_path)
    marker = tmp_path / 'pwned'
    evil = write_crafted_checkpoint(tmp_path / 'evil.pth', marker, writer)
    with pytest.raises(CheckpointLoadError) as error:
        init_low_light_detector(config, evil)
    message = str(error.value)
    assert not marker.exists()
    assert evil in message
    assert 'io.open' in message  # what the file references
    assert 're-save its tensors' in message  # the safe way out
    assert 'weights_only=False' not in message
    assert 'set to `False`' not in message


def test_truncated_and_missing_checkpoints_name_the_file(tmp_path):
    config, checkpoint = make_detector(tmp_path)
    truncated = tmp_path / 'epoch_1.pth'
    data = open(checkpoint, 'rb').read()
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointLoadError, match='truncated') as error:
        init_low_light_detector(config, str(truncated))
    assert str(truncated) in str(error.value)
    with pytest.raises(CheckpointLoadError, match='not found: .*nope.pth'):
        init_low_light_detector(config, str(tmp_path / 'nope.pth'))


def test_checkpoint_of_another_model_is_refused_naming_keys(tmp_path):
    config, checkpoint = make_detector(tmp_path)
    state = torch.load(checkpoint, weights_only=True)
    # another class count: a head tensor of another shape
    head = next(k for k in state['state_dict'] if k.startswith('bbox_head')
                and state['state_dict'][k].dim() == 4)
    weight = state['state_dict'][head]
    state['state_dict'][head] = weight.new_zeros(
        (weight.shape[0] + 3, ) + weight.shape[1:])
    other = tmp_path / 'other_classes.pth'
    torch.save(state, other)
    with pytest.raises(CheckpointLoadError,
                       match=f'{other}.*other shapes.*{head}'):
        init_low_light_detector(config, str(other))
    # a detector tensor missing (another model), never a silent random part
    del state['state_dict'][head]
    torch.save(state, other)
    with pytest.raises(CheckpointLoadError, match=f'not in the file.*{head}'):
        init_low_light_detector(config, str(other))
