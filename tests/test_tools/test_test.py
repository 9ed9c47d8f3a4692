"""tools/test.py on the embedded night sample with a weights-only checkpoint.
"""
import json
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmdet.registry import MODELS

from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import generate_night_sample
from lowlight.testing import write_crafted_checkpoint
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'configs', 't2',
                  't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')


@pytest.fixture(scope='module')
def sample_and_checkpoint(tmp_path_factory):
    """A 4-image test split of the night sample and an initial checkpoint."""
    root = str(tmp_path_factory.mktemp('night') / 'sample')
    generate_night_sample(
        root, seed=0, num_train=2, num_val=1, num_test=4, size=96, workers=1)
    convert_exdark(root, root)
    cfg = Config.fromfile(SAMPLE)
    init_default_scope('mmdet')
    set_random_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    checkpoint = osp.join(root, 'init.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=('a', ) * 12))), checkpoint)
    return root + '/', checkpoint


def options(data_root):
    return [
        '--cfg-options', f'test_dataloader.dataset.data_root={data_root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]


def test_test_tool_evaluates_dumps_and_draws(sample_and_checkpoint,
                                             tmp_path):
    data_root, checkpoint = sample_and_checkpoint
    out = tmp_path / 'preds.pkl'
    metrics = load_tool('test').main([
        SAMPLE, checkpoint, '--work-dir',
        str(tmp_path), '--out',
        str(out), '--show-dir', 'vis'
    ] + options(data_root))
    assert any('AP' in key or 'mAP' in key for key in metrics), metrics
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4
    assert all(p['pred_instances']['bboxes'].shape[-1] == 4
               for p in predictions)
    drawn = list(tmp_path.glob('*/vis/*'))
    assert len(drawn) == 4
    reports = list(tmp_path.glob('**/lighting_eval_test.json'))
    assert reports and json.loads(reports[0].read_text())


def test_test_tool_refuses_crafted_checkpoint(sample_and_checkpoint,
                                              tmp_path):
    data_root, _ = sample_and_checkpoint
    marker = tmp_path / 'pwned'
    evil = write_crafted_checkpoint(
        tmp_path / 'evil.pth', marker, 'pickle.dump', key='state_dict')
    with pytest.raises(SystemExit, match='evil.pth'):
        load_tool('test').main(
            [SAMPLE, evil, '--work-dir',
             str(tmp_path)] + options(data_root))
    assert not marker.exists()


def test_out_must_be_pickle(capsys):
    with pytest.raises(SystemExit):
        load_tool('test').parse_args([SAMPLE, 'x.pth', '--out', 'x.json'])
    assert '--out must name a .pkl file' in capsys.readouterr().err


def test_missing_annotation_file_is_named_with_the_command_that_makes_it(
        tmp_path, capsys):
    """A config whose sample was never generated: one message naming the
    file and how to make it, before any dataset is built."""
    root = tmp_path / 'data' / 'night_sample'
    config = SAMPLE
    with pytest.raises(SystemExit) as exit_info:
        load_tool('test').main([
            config, str(tmp_path / 'never_read.pth'), '--work-dir',
            str(tmp_path / 'work'), '--cfg-options',
            f'test_dataloader.dataset.data_root={root}/'
        ])
    message = str(exit_info.value)
    assert message.startswith('error: ')
    assert str(root / 'annotations' / 'exdark_test.json') in message
    assert 'test split of' in message and config in message
    assert (f'python tools/misc/make_night_sample.py {root} && '
            f'python tools/dataset_converters/exdark.py {root} {root}'
            ) in message
