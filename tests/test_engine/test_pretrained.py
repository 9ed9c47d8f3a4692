"""Fine-tuning from a pretrained plain detector: T2 loads it with the
additions at their identity initialisation; a file of another model or
class count is an error naming it and the keys; a published checkpoint is
fp16, weights-only and named by its sha256."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

from lowlight.engine import CheckpointLoadError
from lowlight.engine.pretrained import (PretrainedMismatchError,
                                        load_pretrained,
                                        t2_addition_prefixes)
from lowlight.engine.publish import publish_checkpoint, sha256_of
from lowlight.testing import tiny_yolov3_model


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


def _low_light(mode, num_classes=3, **options):
    detector = tiny_yolov3_model(num_classes)
    detector.pop('data_preprocessor')
    if mode != 'none':
        detector['backbone'] = dict(
            type='IlluminationGuidedBackbone', guide_channels=4,
            backbone=detector['backbone'])
        detector['neck'] = [
            detector['neck'],
            dict(type='SemanticAggregationNeck', in_channels=[16, 16, 16],
                 context_channels=8)
        ]
    return MODELS.build(
        dict(type='LowLightDetector', mode=mode, detector=detector,
             enhancer=None if mode == 'none' else dict(
                 type='RetinexDecomposer', num_stages=1, calib_channels=4),
             data_preprocessor=dict(type='DetDataPreprocessor',
                                    mean=[0, 0, 0], std=[255, 255, 255]),
             **options))


@pytest.fixture()
def plain_file(tmp_path):
    torch.manual_seed(0)
    plain = _low_light('none')
    path = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=plain.state_dict(), meta=dict(epoch=6)), path)
    return plain, path


def test_t2_fine_tunes_from_a_plain_checkpoint(plain_file):
    plain, path = plain_file
    torch.manual_seed(1)
    t2 = _low_light('joint')
    before = copy.deepcopy(t2.state_dict())
    load_pretrained(t2, str(path))
    after = t2.state_dict()
    source = plain.state_dict()
    assert torch.equal(after['detector.backbone.backbone.conv1.conv.weight'],
                       source['detector.backbone.conv1.conv.weight'])
    assert torch.equal(after['detector.bbox_head.convs_pred.0.weight'],
                       source['detector.bbox_head.convs_pred.0.weight'])
    prefixes = t2_addition_prefixes(t2)
    assert 'enhancer.' in prefixes and 'detector.neck.1.' in prefixes
    assert 'detector.backbone.heads.' in prefixes
    additions = [k for k in after if k.startswith(prefixes)]
    assert additions
    for key in additions:  # kept at their initialisation
        assert torch.equal(after[key], before[key]), key
    # the wrapped plain detector loads its own file too
    load_pretrained(_low_light('none'), str(path))
    # so do the optional input additions, at their identity start
    t2 = _low_light('joint', illumination_correction='learned',
                    reflectance_side_input=True)
    load_pretrained(t2, str(path))
    assert {'input_correction.', 'reflectance_input.'} <= set(
        t2_addition_prefixes(t2))
    assert t2.reflectance_input.proj.weight.abs().sum() == 0


def test_another_class_count_or_model_is_refused(plain_file, tmp_path):
    _, path = plain_file
    with pytest.raises(PretrainedMismatchError) as err:
        load_pretrained(_low_light('joint', num_classes=5), str(path))
    assert str(path) in str(err.value)
    assert 'detector.bbox_head.convs_pred.0.weight' in str(err.value)
    other = tmp_path / 'other.pth'
    torch.save(dict(state_dict=dict(
        {'backbone.layer1.weight': torch.zeros(2)})), other)
    with pytest.raises(PretrainedMismatchError,
                       match='other.pth.*not in the file.*detector\\.'):
        load_pretrained(_low_light('joint'), str(other))
    with pytest.raises(CheckpointLoadError, match='not found.*missing.pth'):
        load_pretrained(_low_light('joint'), str(tmp_path / 'missing.pth'))


def test_published_checkpoint_is_fp16_weights_only_and_checksummed(
        plain_file, tmp_path):
    _, path = plain_file
    out, digest = publish_checkpoint(str(path), str(tmp_path / 'pub' / 'm'))
    assert out.endswith(f'm-{digest[:8]}.pth') and sha256_of(out) == digest
    saved = torch.load(out, weights_only=True)
    assert set(saved) == {'state_dict', 'meta'} and saved['meta'] == dict(
        epoch=6)
    assert saved['state_dict'][
        'detector.backbone.conv1.conv.weight'].dtype == torch.float16
    t2 = _low_light('joint')
    load_pretrained(t2, out)
    assert t2.state_dict()[
        'detector.backbone.backbone.conv1.conv.weight'].dtype == torch.float32
