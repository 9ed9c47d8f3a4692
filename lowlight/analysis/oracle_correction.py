"""The night sample with its illumination removed by the renderer's true
map: what a perfect Retinex decomposition would hand a detector.

Per image, in linear light (the sample's display curve undone with
``gamma``): ``R = I / max(L, floor) ** exponent``, ``L`` the true
illumination of :mod:`lowlight.datasets.night_sample` (light falling on
the albedo; lamps and glow are emission, so they stay), then scaled so
that its ``percentile``-th value is white, re-encoded and written as PNG
(lossless). Sensor noise is divided by ``L`` too: the upper bound holds
for any decomposition of the noisy image, not for a denoiser.
``exponent=1`` removes the light completely; smaller values keep part of
its contrast (T2's ``input_correction`` learns such an exponent).
"""
import json
import os
import os.path as osp

import cv2
import numpy as np

from lowlight.datasets.converters.coco import resolve_inside
from lowlight.datasets.night_sample.generator import (illumination_path,
                                                      read_illumination)
from lowlight.utils.file_io import atomic_dir

#: display curve of the sample's night camera (it draws 2.0-2.4)
GAMMA = 2.2


def oracle_correct(image: np.ndarray,
                   illumination: np.ndarray,
                   exponent: float = 1.0,
                   gamma: float = GAMMA,
                   floor: float = 0.02,
                   percentile: float = 99.) -> np.ndarray:
    """Remove ``illumination ** exponent`` from an 8-bit image.

    Args:
        image (np.ndarray): (H, W, 3) uint8, display-encoded.
        illumination (np.ndarray): (H, W) float, the true light.
        exponent (float): how much of the light to remove (0: none).
        gamma (float): display curve undone before the division.
        floor (float): the light below which a pixel is not brightened
            further (unlit pixels hold noise alone).
        percentile (float): the value of R that becomes white.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    if image.shape[:2] != illumination.shape:
        raise ValueError(f'image {image.shape[:2]} and illumination '
                         f'{illumination.shape} sizes differ')
    linear = (image.astype(np.float32) / 255.)**gamma
    light = np.maximum(illumination.astype(np.float32), floor)**exponent
    reflectance = linear / light[..., None]
    white = max(float(np.percentile(reflectance, percentile)), 1e-6)
    encoded = np.clip(reflectance / white, 0., 1.)**(1. / gamma)
    return np.rint(encoded * 255.).astype(np.uint8)


def write_oracle_sample(night_root: str, out_root: str,
                        exponent: float = 1.0) -> int:
    """Write the oracle-corrected copy of a converted night sample.

    ``out_root`` gets ``ExDark/<Class>/<name>.png`` for every image of
    ``night_root/annotations/exdark_{train,val,test}.json`` and those
    annotation files with ``file_name`` pointing at the PNGs, so a config
    reads it with ``data_root`` changed alone. Written under a temporary
    folder beside ``out_root`` and renamed when complete.

    Returns:
        int: the number of images written.

    Raises:
        FileNotFoundError: an annotation file, image or illumination map is
            missing (its path named).
    """
    count = 0
    with atomic_dir(out_root) as tmp:
        os.makedirs(osp.join(tmp, 'annotations'))
        for split in ('train', 'val', 'test'):
            name = f'exdark_{split}.json'
            source = osp.join(night_root, 'annotations', name)
            if not osp.isfile(source):
                raise FileNotFoundError(f'{source} not found: convert the '
                                        'night sample first')
            with open(source) as f:
                coco = json.load(f)
            for entry in coco['images']:
                _write_one(night_root, tmp, entry, exponent)
            count += len(coco['images'])
            with open(osp.join(tmp, 'annotations', name), 'w') as f:
                json.dump(coco, f)
        with open(osp.join(tmp, 'oracle.json'), 'w') as f:
            json.dump(dict(source=osp.abspath(night_root), exponent=exponent,
                           gamma=GAMMA, images=count), f)
    return count


def _write_one(night_root: str, out_root: str, entry: dict,
               exponent: float) -> None:
    """Correct one image; point ``entry['file_name']`` at its PNG."""
    path = resolve_inside(night_root, entry['file_name'])
    light = illumination_path(path)
    if light is None:
        raise FileNotFoundError(f'no illumination map for {path}')
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f'{path}: missing or not an image')
    corrected = oracle_correct(image, read_illumination(light), exponent)
    name = osp.splitext(entry['file_name'])[0] + '.png'
    target = osp.join(out_root, name)
    os.makedirs(osp.dirname(target), exist_ok=True)
    if not cv2.imwrite(target, corrected):
        raise OSError(f'cannot write {target}')
    entry['file_name'] = name


def oracle_panel(night_root: str, out_root: str, split: str = 'val',
                 count: int = 4) -> np.ndarray:
    """A picture of the first ``count`` images of ``split``: one row each,
    night image | corrected (from ``out_root``) | day twin (from
    ``night_root/day``, when the sample has one).

    Returns:
        np.ndarray: (rows * H, 3 * W, 3) uint8, BGR.
    """
    with open(osp.join(out_root, 'annotations', f'exdark_{split}.json')) as f:
        entries = json.load(f)['images'][:count]
    with open(osp.join(night_root, 'annotations',
                       f'exdark_{split}.json')) as f:
        sources = {e['id']: e['file_name'] for e in json.load(f)['images']}
    rows = []
    for entry in entries:
        night = cv2.imread(resolve_inside(night_root, sources[entry['id']]))
        corrected = cv2.imread(resolve_inside(out_root, entry['file_name']))
        day = cv2.imread(
            resolve_inside(osp.join(night_root, 'day'), sources[entry['id']]))
        if day is None or day.shape != night.shape:
            day = np.zeros_like(night)
        rows.append(np.hstack([night, corrected, day]))
    return np.vstack(rows)
