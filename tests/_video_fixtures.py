"""Tiny detector configs, checkpoints and videos for the video tests."""
from pathlib import Path
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config
from tiny_yolov3 import tiny_yolov3_model

CLASSES = ('car', 'person', 'bicycle')


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
                len(CLASSES),
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
                    metainfo=dict(classes=CLASSES),
                    test_mode=True,
                    pipeline=test_pipeline))))


def make_detector(tmp_path: Path,
                  scale: int = 64,
                  max_per_img: int = 5) -> Tuple[str, str]:
    """Write a tiny YOLOv3 (MobileNetV2 x0.25) config and a checkpoint of
    its random weights holding only ``state_dict`` and ``dataset_meta``.

    Returns:
        tuple[str, str]: Config and checkpoint paths.
    """
    from lowlight.apis import init_low_light_detector

    config = tmp_path / 'tiny_yolov3.py'
    config.write_text(tiny_detector_config(scale, max_per_img).pretty_text)
    torch.manual_seed(0)
    model = init_low_light_detector(str(config))
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
