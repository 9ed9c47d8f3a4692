"""Tiny detector configs, checkpoints and videos for the video tests."""
from pathlib import Path
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch

CLASSES = ('car', 'person', 'bicycle')


TINY_YOLO_CONFIG = """
default_scope = 'mmdet'
model = dict(
    type='YOLOV3',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[0, 0, 0],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='MobileNetV2',
        widen_factor=0.25,
        out_indices=(2, 4, 6),
        act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
        init_cfg=None),
    neck=dict(
        type='YOLOV3Neck',
        num_scales=3,
        in_channels=[80, 24, 8],
        out_channels=[16, 16, 16]),
    bbox_head=dict(
        type='YOLOV3Head',
        num_classes=3,
        in_channels=[16, 16, 16],
        out_channels=[16, 16, 16],
        anchor_generator=dict(
            type='YOLOAnchorGenerator',
            base_sizes=[[(116, 90), (156, 198), (373, 326)],
                        [(30, 61), (62, 45), (59, 119)],
                        [(10, 13), (16, 30), (33, 23)]],
            strides=[32, 16, 8]),
        bbox_coder=dict(type='YOLOBBoxCoder'),
        featmap_strides=[32, 16, 8],
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True),
        loss_conf=dict(type='CrossEntropyLoss', use_sigmoid=True),
        loss_xy=dict(type='CrossEntropyLoss', use_sigmoid=True),
        loss_wh=dict(type='MSELoss')),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.0,
        conf_thr=0.0,
        nms=dict(type='nms', iou_threshold=0.45),
        max_per_img=MAX_PER_IMG))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(SCALE, SCALE), keep_ratio=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
test_dataloader = dict(
    batch_size=1,
    dataset=dict(
        type='CocoDataset',
        data_root='',
        ann_file='none.json',
        data_prefix=dict(img=''),
        metainfo=dict(classes=('car', 'person', 'bicycle')),
        test_mode=True,
        pipeline=test_pipeline))
"""


def make_detector(tmp_path: Path,
                  scale: int = 64,
                  max_per_img: int = 5) -> Tuple[str, str]:
    """Write a tiny YOLOv3 (MobileNetV2 x0.25) config and a checkpoint of
    its random weights holding only ``state_dict`` and ``dataset_meta``.

    Returns:
        tuple[str, str]: Config and checkpoint paths.
    """
    from mmdet.apis import init_detector

    config = tmp_path / 'tiny_yolov3.py'
    config.write_text(
        TINY_YOLO_CONFIG.replace('MAX_PER_IMG', str(max_per_img)).replace(
            'SCALE', str(scale)))
    torch.manual_seed(0)
    model = init_detector(str(config), None, device='cpu')
    checkpoint = tmp_path / 'tiny_yolov3.pth'
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'dataset_meta': {
                    'classes': CLASSES
                }
            }
        }, checkpoint)
    return str(config), str(checkpoint)


def video_frames(num_frames: int,
                 size: Tuple[int, int],
                 gray: bool = False) -> List[np.ndarray]:
    """Frames with moving shapes; ``size`` is (W, H)."""
    width, height = size
    frames = []
    for i in range(num_frames):
        frame = np.full((height, width, 3), 30, np.uint8)
        x = (5 + 7 * i) % max(1, width - 20)
        cv2.rectangle(frame, (x, height // 4), (x + 18, height // 4 + 14),
                      (40, 200, 240), -1)
        cv2.circle(frame, (width - 1 - x, height * 2 // 3), 9, (200, 80, 60),
                   -1)
        frames.append(
            cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if gray else frame)
    return frames


def make_video(path: Path,
               num_frames: int = 10,
               size: Tuple[int, int] = (96, 64),
               fps: float = 10.0,
               fourcc: str = 'mp4v',
               gray: bool = False) -> Path:
    """Write a small video with OpenCV and check it reads back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(
        str(path),
        cv2.VideoWriter_fourcc(*fourcc),
        fps,
        size,
        isColor=not gray)
    assert writer.isOpened(), path
    for frame in video_frames(num_frames, size, gray):
        writer.write(frame)
    writer.release()
    return path


def read_frames(path: Path) -> List[np.ndarray]:
    """All frames of a video as decoded by OpenCV."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def read_jsonl(path: Path) -> List[dict]:
    import json
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def frame_count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return count


def manifest_statuses(manifest: dict) -> dict:
    return {e['output']: e['status'] for e in manifest['inputs']}


def write_images(folder: Path,
                 frames: Sequence[np.ndarray],
                 ext: str = '.png') -> List[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        paths.append(folder / f'frame{i}{ext}')
        assert cv2.imwrite(str(paths[-1]), frame)
    return paths
