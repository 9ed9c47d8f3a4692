"""Tiny COCO-style data and a tiny YOLOv3 config for the engine tests."""
import json
import os.path as osp

import cv2
import numpy as np
from mmengine.config import Config

from lowlight.testing import tiny_yolov3_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('box', 'disc')


def make_tiny_coco(root: str, num_images: int = 4, size: int = 64) -> str:
    """Write ``num_images`` drawn images and a COCO json under ``root``.

    Returns:
        str: The annotation file, relative to ``root``.
    """
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for index in range(num_images):
        img = np.full((size, size, 3), 20, np.uint8)
        x, y = (int(v) for v in rng.integers(4, size // 2, 2))
        w, h = (int(v) for v in rng.integers(12, size // 2, 2))
        label = index % 2
        if label == 0:
            cv2.rectangle(img, (x, y), (x + w, y + h), (90, 160, 220), -1)
        else:
            cv2.ellipse(img, (x + w // 2, y + h // 2), (w // 2, h // 2), 0, 0,
                        360, (200, 120, 60), -1)
        name = f'images/{index:03d}.png'
        cv2.imwrite(osp.join(root, name), img)
        images.append(dict(id=index, file_name=name, width=size, height=size))
        annotations.append(
            dict(
                id=index,
                image_id=index,
                category_id=label,
                bbox=[x, y, w, h],
                area=w * h,
                iscrowd=0))
    with open(osp.join(root, 'ann.json'), 'w') as f:
        json.dump(
            dict(
                images=images,
                annotations=annotations,
                categories=[
                    dict(id=i, name=name) for i, name in enumerate(CLASSES)
                ]), f)
    return 'ann.json'


def tiny_config_file(path: str,
                     data_root: str,
                     work_dir: str,
                     max_epochs: int = 2,
                     with_val: bool = False) -> str:
    """Write a YOLOv3-MobileNetV2 (width 0.25) config on the tiny data.

    The config inherits ``configs/_base_/default_runtime.py`` (so it uses
    ``LowLightRunner`` and imports lowlight through ``custom_imports``).

    2 iterations per epoch (4 images, batch 2); SGD with momentum; LR warm-up
    by iteration then a step by epoch, so LR and momentum change over the
    run; no random augmentation, so runs are reproducible.
    """
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='Resize', scale=(64, 64), keep_ratio=False),
        dict(type='PackDetInputs')
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(64, 64), keep_ratio=False),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(
            type='PackDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                       'scale_factor'))
    ]
    dataset = dict(
        type='CocoDataset',
        data_root=data_root,
        ann_file='ann.json',
        data_prefix=dict(img=''),
        metainfo=dict(classes=CLASSES))
    cfg = dict(
        model=tiny_yolov3_model(len(CLASSES)),
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                **dataset,
                filter_cfg=dict(filter_empty_gt=True),
                pipeline=train_pipeline)),
        train_cfg=dict(
            type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(
                type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)),
        param_scheduler=[
            dict(
                type='LinearLR',
                start_factor=0.5,
                by_epoch=False,
                begin=0,
                end=3),
            dict(type='MultiStepLR', by_epoch=True, milestones=[1], gamma=0.1)
        ],
        default_hooks=dict(logger=dict(interval=1)),
        randomness=dict(seed=0),
        work_dir=work_dir)
    if with_val:
        loader = dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(**dataset, test_mode=True, pipeline=test_pipeline))
        evaluator = dict(
            type='CocoMetric',
            ann_file=osp.join(data_root, 'ann.json'),
            metric='bbox')
        cfg.update(
            val_dataloader=loader,
            test_dataloader=loader,
            val_evaluator=evaluator,
            test_evaluator=evaluator,
            val_cfg=dict(type='ValLoop'),
            test_cfg=dict(type='TestLoop'))
    base = osp.join(REPO, 'configs', '_base_', 'default_runtime.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n' + Config(cfg).pretty_text)
    return str(path)
