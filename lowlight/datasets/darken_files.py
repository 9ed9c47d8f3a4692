"""Darken normal-light image and video files with the camera model of
:mod:`lowlight.datasets.transforms.low_light_synthesis`: night test sets
made out of day footage (``tools/misc/darken.py``).

Inputs are image files, video files and folders (searched recursively);
each output keeps its path relative to its input folder. Every image, and
every video as a whole (one camera setting per clip, fresh noise per
frame), gets parameters determined by the seed and its relative path;
they are recorded in ``OUT_DIR/darken_params.json``. Files are written
under a temporary name and renamed when complete; existing outputs are kept
unless asked to overwrite.
"""
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from ..apis.video.sources import is_image_file
from ..utils.file_io import atomic_dump_json, atomic_path
from .transforms import (keyed_rng, sample_low_light_params,
                         synthesize_low_light)

#: the video containers written, with the codec of each
VIDEO_FOURCC = {
    '.mp4': 'mp4v',
    '.m4v': 'mp4v',
    '.mov': 'mp4v',
    '.avi': 'MJPG',
    '.mkv': 'XVID'
}
#: the record of the parameters drawn, in the output folder
PARAMS_FILE = 'darken_params.json'


def collect_inputs(inputs: Sequence[str]) -> List[Tuple[str, str]]:
    """``(path, output relative path)`` of every image and video.

    Raises:
        FileNotFoundError: If an input does not exist.
    """
    found = []
    for item in inputs:
        if osp.isdir(item):
            for folder, _, files in sorted(os.walk(item)):
                for name in sorted(files):
                    if is_image_file(name) or name.lower().endswith(
                            tuple(VIDEO_FOURCC)):
                        path = osp.join(folder, name)
                        found.append((path, osp.relpath(path, item)))
        elif osp.isfile(item):
            found.append((item, osp.basename(item)))
        else:
            raise FileNotFoundError(f'input not found: {item}')
    return found


def darken_image(src: str, dst: str, params: Dict,
                 rng: np.random.Generator) -> None:
    """Darken one 8-bit image file (alpha kept) into ``dst``, written
    atomically.

    Raises:
        ValueError: If the image cannot be read or written, or is not 8-bit.
    """
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError('cannot read the image')
    if img.dtype != np.uint8:
        raise ValueError(f'only 8-bit images are supported, got {img.dtype}')
    alpha = None
    if img.ndim == 3 and img.shape[2] == 4:
        img, alpha = img[..., :3], img[..., 3:]
    out = synthesize_low_light(img, params, rng)
    if alpha is not None:
        out = np.concatenate([out, alpha], axis=2)
    with atomic_path(dst, suffix=osp.splitext(dst)[1]) as tmp:
        if not cv2.imwrite(tmp, out):
            raise ValueError(f'cannot write {dst}')


def darken_video(src: str, dst: str, params: Dict,
                 rng: np.random.Generator) -> int:
    """Darken every frame of a video into ``dst`` (same size and frame
    rate, written atomically).

    Returns:
        int: The number of frames written.

    Raises:
        ValueError: If the video cannot be opened or written, or has no
            decodable frame.
    """
    cap = cv2.VideoCapture(src)
    if not cap.isOpened():
        raise ValueError('cannot open the video')
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        ext = osp.splitext(dst)[1].lower()
        fourcc = cv2.VideoWriter_fourcc(*VIDEO_FOURCC.get(ext, 'mp4v'))
        frames = 0
        with atomic_path(dst, suffix=ext) as tmp:
            writer = None
            try:
                while True:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    if writer is None:
                        h, w = frame.shape[:2]
                        writer = cv2.VideoWriter(tmp, fourcc, fps, (w, h))
                        if not writer.isOpened():
                            raise ValueError(f'cannot write {dst}')
                    writer.write(synthesize_low_light(frame, params, rng))
                    frames += 1
            finally:
                if writer is not None:
                    writer.release()
            if frames == 0:
                raise ValueError('no frame could be decoded')
    finally:
        cap.release()
    return frames


def darken_files(inputs: Sequence[Tuple[str, str]],
                 out_dir: str,
                 ranges: Dict[str, Tuple[float, float]],
                 color_cast_prob: float,
                 seed: int = 0,
                 overwrite: bool = False) -> int:
    """Darken every input into ``out_dir``, printing one line each, and
    add the parameters drawn to ``out_dir/darken_params.json``.

    Args:
        inputs (Sequence[tuple]): ``(path, output relative path)``, as
            :func:`collect_inputs` gives them.
        out_dir (str): Output folder.
        ranges (dict): The ``*_range`` arguments of
            :func:`~lowlight.datasets.transforms.sample_low_light_params`.
        color_cast_prob (float): Probability of a colour cast.
        seed (int): With the relative path, determines each file's
            parameters and noise.
        overwrite (bool): Redo existing outputs (else they are kept).

    Returns:
        int: The number of inputs that failed (reported on stderr).
    """
    record_path = osp.join(out_dir, PARAMS_FILE)
    record = {}
    if osp.isfile(record_path):
        with open(record_path) as f:
            record = json.load(f)
    failed = 0
    for index, (src, rel) in enumerate(inputs, start=1):
        dst = osp.join(out_dir, rel)
        if osp.exists(dst) and not overwrite:
            print(f'[{index}/{len(inputs)}] {rel}: exists, kept')
            continue
        rng = keyed_rng(seed, rel.replace(os.sep, '/'))
        params = sample_low_light_params(
            rng, color_cast_prob=color_cast_prob, **ranges)
        try:
            if is_image_file(rel):
                darken_image(src, dst, params, rng)
                done = 'image'
            else:
                done = f'{darken_video(src, dst, params, rng)} frames'
        except (ValueError, cv2.error) as err:
            failed += 1
            print(
                f'[{index}/{len(inputs)}] {rel}: FAILED: {err}',
                file=sys.stderr)
            continue
        record[rel] = params
        print(f'[{index}/{len(inputs)}] {rel}: {done}, exposure '
              f"{params['exposure']:.3f}")
    atomic_dump_json(record, record_path, indent=2)
    return failed
