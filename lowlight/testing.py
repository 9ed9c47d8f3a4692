"""Helpers for lowlight's tests and measurements: a tiny YOLOv3 and its
checkpoint, demo batches, synthetic videos and a crafted checkpoint.

Like ``mmdet.testing`` this module is not imported by ``import lowlight``;
everything in it runs on CPU in milliseconds and never downloads.
"""
import builtins
import json
import pickle
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config

PathLike = Union[str, Path]

#: classes of the tiny detector of :func:`make_detector`
TINY_CLASSES = ('car', 'person', 'bicycle')


def tiny_yolov3_model(num_classes: int,
                      score_thr: float = 0.01,
                      conf_thr: float = 0.005,
                      nms_pre: int = 100,
                      max_per_img: int = 20) -> dict:
    """YOLOv3 with a MobileNetV2 x0.25 backbone (random init) and 16-channel
    neck and head, on BGR uint8 input scaled to [0, 1].

    It runs at 64 px in milliseconds on a CPU; the head uses mmdet's
    default COCO anchors and losses.
    """
    return dict(
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
            num_classes=num_classes,
            in_channels=[16, 16, 16],
            out_channels=[16, 16, 16]),
        train_cfg=dict(
            assigner=dict(
                type='GridAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0)),
        test_cfg=dict(
            nms_pre=nms_pre,
            min_bbox_size=0,
            score_thr=score_thr,
            conf_thr=conf_thr,
            nms=dict(type='nms', iou_threshold=0.45),
            max_per_img=max_per_img))


def tiny_detector_config(scale: int = 64, max_per_img: int = 5) -> Config:
    """Config of the tiny YOLOv3 on ``scale`` px inputs, keeping every
    detection (score and objectness thresholds 0) up to ``max_per_img``."""
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(scale, scale), keep_ratio=True),
        dict(
            type='PackDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                       'scale_factor'))
    ]
    return Config(
        dict(
            default_scope='mmdet',
            model=tiny_yolov3_model(
                len(TINY_CLASSES),
                score_thr=0.0,
                conf_thr=0.0,
                nms_pre=1000,
                max_per_img=max_per_img),
            test_dataloader=dict(
                batch_size=1,
                dataset=dict(
                    type='CocoDataset',
                    data_root='',
                    ann_file='none.json',
                    data_prefix=dict(img=''),
                    metainfo=dict(classes=TINY_CLASSES),
                    test_mode=True,
                    pipeline=test_pipeline))))


def make_detector(folder: PathLike,
                  scale: int = 64,
                  max_per_img: int = 5) -> Tuple[str, str]:
    """Write a tiny YOLOv3 (MobileNetV2 x0.25) config and a checkpoint of
    its random weights holding only ``state_dict`` and ``dataset_meta``.

    Returns:
        tuple[str, str]: Config and checkpoint paths.
    """
    from lowlight.apis import init_low_light_detector

    config = Path(folder) / 'tiny_yolov3.py'
    config.write_text(tiny_detector_config(scale, max_per_img).pretty_text)
    torch.manual_seed(0)
    model = init_low_light_detector(str(config))
    checkpoint = Path(folder) / 'tiny_yolov3.pth'
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'dataset_meta': {
                    'classes': TINY_CLASSES
                }
            }
        }, checkpoint)
    return str(config), str(checkpoint)


def demo_batch(height: int,
               width: int,
               batch_size: int = 1,
               seed: int = 0) -> dict:
    """A batch of seeded random uint8 images as a dataloader would give it.

    Returns:
        dict: ``inputs`` (list of (3, H, W) uint8 tensors) and
        ``data_samples`` (list of :class:`DetDataSample` with the metainfo
        mmdet's test pipeline would set for an unresized image).
    """
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(
            torch.randint(
                0, 256, (3, height, width), generator=gen, dtype=torch.uint8))
        samples.append(
            DetDataSample(
                metainfo=dict(
                    img_id=i,
                    img_path=f'random_{i}.png',
                    ori_shape=(height, width),
                    img_shape=(height, width),
                    scale_factor=(1., 1.))))
    return dict(inputs=inputs, data_samples=samples)


def video_frames(num_frames: int,
                 size: Tuple[int, int],
                 gray: bool = False) -> List[np.ndarray]:
    """Frames with two moving shapes on a flat background; ``size`` is
    (W, H)."""
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


def night_frames(num_frames: int,
                 size: Tuple[int, int],
                 seed: int = 0) -> Iterable[np.ndarray]:
    """Frames of eight moving shapes on a dark, noisy background (the
    throughput clip), generated one at a time; ``size`` is (W, H)."""
    width, height = size
    rng = np.random.RandomState(seed)
    shapes = [(rng.randint(0, width), rng.randint(0, height),
               rng.randint(20, 120), rng.randint(20, 120),
               tuple(int(c) for c in rng.randint(60, 255, 3)),
               rng.uniform(-8, 8), rng.uniform(-5, 5)) for _ in range(8)]
    for i in range(num_frames):
        frame = rng.randint(0, 40, (height, width, 3)).astype(np.uint8)
        for x, y, w, h, color, vx, vy in shapes:
            cx, cy = int(x + vx * i) % width, int(y + vy * i) % height
            cv2.rectangle(frame, (cx, cy), (cx + w, cy + h), color, -1)
        yield frame


def make_video(path: PathLike,
               num_frames: int = 10,
               size: Tuple[int, int] = (96, 64),
               fps: float = 10.0,
               fourcc: str = 'mp4v',
               gray: bool = False,
               night: bool = False) -> Path:
    """Write a synthetic video with OpenCV.

    Args:
        path (str | Path): the file to write; its folder is created.
        num_frames (int): frames to write.
        size (tuple[int, int]): width and height.
        fps (float): frame rate.
        fourcc (str): OpenCV codec code, e.g. ``'mp4v'`` or ``'MJPG'``.
        gray (bool): single-channel frames (:func:`video_frames` only).
        night (bool): the throughput clip (:func:`night_frames`) instead of
            the tests' two shapes (:func:`video_frames`).

    Returns:
        Path: ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(
        str(path),
        cv2.VideoWriter_fourcc(*fourcc),
        fps,
        tuple(size),
        isColor=not gray)
    if not writer.isOpened():
        raise RuntimeError(f'cannot write {path}')
    frames = (
        night_frames(num_frames, size) if night else video_frames(
            num_frames, size, gray))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def read_frames(path: PathLike, limit: Optional[int] = None) -> list:
    """The frames of a video as decoded by OpenCV, at most ``limit``."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while limit is None or len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def frame_count(path: PathLike) -> int:
    """The frame count a video's container states."""
    cap = cv2.VideoCapture(str(path))
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return count


def write_images(folder: PathLike,
                 frames: Sequence[np.ndarray],
                 ext: str = '.png') -> List[Path]:
    """Write ``frames`` as ``folder/frame<i><ext>``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        paths.append(folder / f'frame{i}{ext}')
        if not cv2.imwrite(str(paths[-1]), frame):
            raise RuntimeError(f'cannot write {paths[-1]}')
    return paths


def read_jsonl(path: PathLike) -> List[dict]:
    """The records of a JSON Lines file."""
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def manifest_statuses(manifest: dict) -> dict:
    """Output folder -> status of each input of a video run's manifest."""
    return {e['output']: e['status'] for e in manifest['inputs']}


class CreatesFile:
    """Unpickling this calls open(path, 'w'): a visible side effect."""

    def __init__(self, path: PathLike):
        self.path = str(path)

    def __reduce__(self):
        return builtins.open, (self.path, 'w')


def write_crafted_checkpoint(path: PathLike,
                             marker: PathLike,
                             writer: str = 'torch.save',
                             key: str = 'meta') -> str:
    """A checkpoint whose unpickling would create the file ``marker``.

    Args:
        path (str | Path): the checkpoint to write.
        marker (str | Path): the file a full unpickle would create.
        writer (str): ``'torch.save'`` or ``'pickle.dump'``.
        key (str): where the payload sits: ``'meta'`` (next to an empty
            ``state_dict``) or ``'state_dict'``.

    Returns:
        str: ``path``.
    """
    payload = dict(state_dict={})
    payload[key] = CreatesFile(marker)
    if writer == 'torch.save':
        torch.save(payload, path)
    elif writer == 'pickle.dump':
        with open(path, 'wb') as f:
            pickle.dump(payload, f)
    else:
        raise ValueError(f'unknown writer {writer!r}')
    return str(path)
