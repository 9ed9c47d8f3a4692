"""Missing or unreadable images are found when the dataloader is built."""
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import RUNNERS

from lowlight.engine import DatasetImageError, check_dataset_images
from tiny_detection import tiny_config_file


def break_images(data_root):
    """Delete image 1, overwrite image 2 with text, truncate image 3."""
    images = osp.join(data_root, 'images')
    os.remove(osp.join(images, '001.png'))
    with open(osp.join(images, '002.png'), 'w') as f:
        f.write('not an image')
    path = osp.join(images, '003.png')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:40])


def build_runner(tiny_coco, tmp_path, name, **image_check):
    cfg = Config.fromfile(
        tiny_config_file(tmp_path / f'{name}.py', tiny_coco,
                         str(tmp_path / name)))
    cfg.image_check.update(image_check)
    cfg.experiment_name = name
    return RUNNERS.build(cfg)


def test_fail_fast_names_the_files(tiny_coco, tmp_path):
    break_images(tiny_coco)
    runner = build_runner(tiny_coco, tmp_path, 'fail')
    with pytest.raises(DatasetImageError) as error:
        runner.build_dataloader(runner._train_dataloader)
    message = str(error.value)
    assert '2 of 4 images are missing or unreadable' in message
    assert '001.png: missing' in message
    assert '002.png: not an image format' in message
    assert 'ann.json' in message and "on_invalid='skip'" in message


def test_decode_level_finds_truncated_file(tiny_coco, tmp_path):
    break_images(tiny_coco)
    runner = build_runner(tiny_coco, tmp_path, 'decode', level='decode')
    with pytest.raises(DatasetImageError,
                       match='003.png: cannot be decoded') as error:
        runner.build_dataloader(runner._train_dataloader)
    assert '3 of 4 images' in str(error.value)


def test_skip_mode_drops_entries_with_a_count(tiny_coco, tmp_path):
    break_images(tiny_coco)
    runner = build_runner(
        tiny_coco, tmp_path, 'skip', level='decode', on_invalid='skip')
    loader = runner.build_dataloader(runner._train_dataloader)
    assert len(loader.dataset) == 1
    assert len(loader.sampler) == 1  # the sampler saw the reduced dataset
    assert loader.dataset.get_data_info(0)['img_path'].endswith('000.png')
    log = open(runner.logger.log_file).read()
    assert 'skipped 3 of 4 entries' in log


def test_clean_dataset_and_bad_options(tiny_coco, tmp_path):
    runner = build_runner(tiny_coco, tmp_path, 'clean', level='decode')
    loader = runner.build_dataloader(runner._train_dataloader)
    assert len(loader.dataset) == 4
    assert check_dataset_images(loader.dataset, level='off') == 0
    with pytest.raises(ValueError, match='level must be one of'):
        check_dataset_images(loader.dataset, level='full')
    with pytest.raises(ValueError, match='on_invalid'):
        check_dataset_images(loader.dataset, on_invalid='ignore')
