"""ExDarkDataset / DarkFaceDataset built from the shipped base configs."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from lowlight.datasets import EXDARK_CLASSES, EXDARK_META_KEYS
from lowlight.datasets.converters import convert_darkface, convert_exdark
from lowlight.datasets.night_sample import generate_night_sample
from mmdet.registry import DATASETS
from mmdet.utils import register_all_modules

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / '_base_' / 'datasets'
register_all_modules()  # default scope 'mmdet', as configs set it


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('data') / 'night_sample'
    generate_night_sample(str(root), num_train=6, num_val=2, num_test=4,
                          size=128)
    convert_exdark(str(root), str(root))
    return root


def _dataset(cfg_name, loader, data_root):
    cfg = Config.fromfile(str(CONFIGS / cfg_name))
    dataset_cfg = cfg[loader].dataset
    dataset_cfg.data_root = str(data_root) + '/'
    return DATASETS.build(dataset_cfg)


def test_lighting_fields_reach_the_data_sample(sample_root):
    dataset = _dataset('night_sample.py', 'test_dataloader', sample_root)
    assert len(dataset) == 4
    assert dataset.metainfo['classes'] == EXDARK_CLASSES
    assert len(dataset.metainfo['palette']) == 12
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        meta = dataset[index]['data_samples'].metainfo
        for key in EXDARK_META_KEYS:
            assert meta[key] == info[key] is not None, key
        assert meta['light_name'] in dataset.metainfo['lights']
        assert meta['in_out'] in (1, 2)
        assert Path(meta['img_path']).is_file()
    # the test pipeline keeps ground truth in original coordinates
    sample = dataset[0]['data_samples']
    assert sample.gt_instances.bboxes.shape[-1] == 4


def test_train_split_and_transform_metainfo(sample_root):
    dataset = _dataset('night_sample.py', 'train_dataloader', sample_root)
    assert 0 < len(dataset) <= 6  # images without boxes are filtered
    item = dataset[0]
    assert item['inputs'].shape[0] == 3
    assert 'light' in item['data_samples'].metainfo
    # LowLightSynthesis parameters can be kept the same way
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LowLightSynthesis', seed=0),
        dict(type='PackDetInputs', meta_keys=('img_path',
                                              'low_light_params'))
    ])
    out = pipeline(dict(img_path=dataset.get_data_info(0)['img_path']))
    params = out['data_samples'].metainfo['low_light_params']
    assert 0.05 <= params['exposure'] <= 0.3


def test_darkface_dataset(tmp_path):
    (tmp_path / 'image').mkdir()
    (tmp_path / 'label').mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / 'image' / f'{i}.png'),
                    np.zeros((20, 30, 3), np.uint8))
        (tmp_path / 'label' / f'{i}.txt').write_text('1\n2 3 12 13\n')
    convert_darkface(str(tmp_path), str(tmp_path), num_val=1)
    dataset = _dataset('darkface.py', 'val_dataloader', tmp_path)
    assert dataset.metainfo['classes'] == ('face', )
    sample = dataset[0]['data_samples']
    assert sample.gt_instances.bboxes.tensor.tolist() == [[2, 3, 12, 13]]
    assert 'light' not in sample.metainfo
