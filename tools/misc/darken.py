"""Darken normal-light images and videos with the LowLightSynthesis model.

Makes night test sets out of day footage: undo the display curve, scale the
exposure, add shot and read noise, optional colour cast, re-apply the curve,
quantise (see ``lowlight/datasets/transforms/low_light_synthesis.py``).

Example::

    python tools/misc/darken.py day_photos/ clip.mp4 --out-dir night/ \
        --exposure-range 0.05 0.2 --seed 0

Inputs are image files, video files and folders (searched recursively);
each output keeps its path relative to its input folder. Every image, and
every video as a whole (one camera setting per clip, fresh noise per
frame), gets parameters determined by ``--seed`` and its relative path; they
are recorded in ``OUT_DIR/darken_params.json``. Files are written under a
temporary name and renamed when complete; existing outputs are kept unless
``--overwrite``. Exits with 1 if any input failed.
"""
import argparse
import json
import os
import os.path as osp
import sys
import zlib
from typing import Dict, List, Tuple

import cv2
import numpy as np

from lowlight.apis.video import is_image_file
from lowlight.utils.file_io import atomic_dump_json, atomic_path
from lowlight.datasets.transforms import (sample_low_light_params,
                                          synthesize_low_light)

VIDEO_FOURCC = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v',
                '.avi': 'MJPG', '.mkv': 'XVID'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Darken images and videos with a camera noise model.')
    parser.add_argument('inputs', nargs='+',
                        help='image files, video files or folders')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--exposure-range', type=float, nargs=2,
                        default=(0.05, 0.3), metavar=('LOW', 'HIGH'))
    parser.add_argument('--gamma-range', type=float, nargs=2,
                        default=(2.0, 2.6), metavar=('LOW', 'HIGH'))
    parser.add_argument('--shot-noise-range', type=float, nargs=2,
                        default=(1e-4, 1e-2), metavar=('LOW', 'HIGH'))
    parser.add_argument('--read-noise-range', type=float, nargs=2,
                        default=(1e-3, 1e-2), metavar=('LOW', 'HIGH'))
    parser.add_argument('--color-cast-range', type=float, nargs=2,
                        default=(0.8, 1.2), metavar=('LOW', 'HIGH'))
    parser.add_argument('--color-cast-prob', type=float, default=0.5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true')
    return parser.parse_args(argv)


def collect_inputs(inputs: List[str]) -> List[Tuple[str, str]]:
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
    """Darken one image file into ``dst`` (written atomically)."""
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


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        inputs = collect_inputs(args.inputs)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    ranges = dict(exposure_range=args.exposure_range,
                  gamma_range=args.gamma_range,
                  shot_noise_range=args.shot_noise_range,
                  read_noise_range=args.read_noise_range,
                  color_cast_range=args.color_cast_range)
    record_path = osp.join(args.out_dir, 'darken_params.json')
    record = {}
    if osp.isfile(record_path):
        with open(record_path) as f:
            record = json.load(f)
    failed = 0
    for index, (src, rel) in enumerate(inputs, start=1):
        dst = osp.join(args.out_dir, rel)
        if osp.exists(dst) and not args.overwrite:
            print(f'[{index}/{len(inputs)}] {rel}: exists, kept')
            continue
        rng = np.random.default_rng(
            [args.seed, zlib.crc32(rel.replace(os.sep, '/').encode())])
        params = sample_low_light_params(
            rng, color_cast_prob=args.color_cast_prob, **ranges)
        try:
            if is_image_file(rel):
                darken_image(src, dst, params, rng)
                done = 'image'
            else:
                done = f'{darken_video(src, dst, params, rng)} frames'
        except (ValueError, cv2.error) as err:
            failed += 1
            print(f'[{index}/{len(inputs)}] {rel}: FAILED: {err}',
                  file=sys.stderr)
            continue
        record[rel] = params
        print(f'[{index}/{len(inputs)}] {rel}: {done}, exposure '
              f"{params['exposure']:.3f}")
    atomic_dump_json(record, record_path, indent=2)
    if failed:
        print(f'error: {failed} of {len(inputs)} input(s) failed',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
