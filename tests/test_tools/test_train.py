"""tools/train.py: mmdet's command line, applied to the config."""
import os.path as osp

import pytest
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'configs', 't2',
                  't2_yolov3_mobilenetv2_1xb16-256-8e_night-sample.py')


train = load_tool('train')


def build(argv):
    return train.build_train_config(train.parse_args(argv))


def test_amp_without_gpu_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args([SAMPLE, '--amp'])
    assert exit_info.value.code == 2
    assert '--amp needs a GPU' in capsys.readouterr().err


def test_defaults():
    cfg = build([SAMPLE])
    assert cfg.work_dir == osp.join(
        './work_dirs', 't2_yolov3_mobilenetv2_1xb16-256-8e_night-sample')
    assert cfg.launcher == 'none' and not cfg.resume
    assert cfg.runner_type == 'mmdet.LowLightRunner'
    assert not cfg.auto_scale_lr.enable


def test_options_reach_the_config(tmp_path):
    cfg = build([
        SAMPLE, '--work-dir',
        str(tmp_path), '--resume', '--auto-scale-lr', '--launcher',
        'pytorch', '--cfg-options', 'train_cfg.max_epochs=1',
        'image_check.on_invalid=skip'
    ])
    assert cfg.work_dir == str(tmp_path)
    assert cfg.resume is True and cfg.load_from is None  # auto resume
    assert cfg.auto_scale_lr.enable is True
    assert cfg.launcher == 'pytorch'
    assert cfg.train_cfg.max_epochs == 1
    assert cfg.image_check.on_invalid == 'skip'

    cfg = build([SAMPLE, '--resume', 'work_dirs/x/epoch_3.pth'])
    assert cfg.resume is True and cfg.load_from == 'work_dirs/x/epoch_3.pth'


def test_auto_scale_lr_needs_base_batch_size(tmp_path):
    config = tmp_path / 'plain.py'
    config.write_text("model = dict(type='YOLOV3')\n")
    with pytest.raises(SystemExit, match='has no auto_scale_lr'):
        build([str(config), '--auto-scale-lr'])
    # a config that names no runner gets the safe-checkpoint runner
    assert build([str(config)]).runner_type == 'mmdet.LowLightRunner'


def test_missing_annotation_files_end_training_with_one_message(tmp_path):
    from lowlight.datasets.annotation_files import making_command
    tool = load_tool('train')
    root = tmp_path / 'ExDark_converted'
    with pytest.raises(SystemExit) as exit_info:
        tool.main([
            SAMPLE, '--work-dir',
            str(tmp_path / 'work'), '--cfg-options',
            f'train_dataloader.dataset.data_root={root}/',
            f'val_dataloader.dataset.data_root={root}/'
        ])
    message = str(exit_info.value)
    for split in ('train', 'val'):
        assert str(root / 'annotations' / f'exdark_{split}.json') in message
    assert ('python tools/dataset_converters/exdark.py RAW_EXDARK_ROOT '
            f'{root}') in message
    assert making_command('elsewhere/labels.json') == 'see data/README.md'
    day = osp.join('data', 'night_sample', 'day')
    assert making_command(osp.join(day, 'annotations', 'exdark_val.json')) \
        == (f'python tools/misc/make_night_sample.py data/night_sample && '
            f'python tools/dataset_converters/exdark.py {day} {day}')
