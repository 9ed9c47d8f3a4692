"""Write the embedded night sample in the raw ExDark layout.

Layout under the output root (the same as the official ExDark download, so
the sample goes through the same converter as the real data)::

    ExDark/<Class>/2015_00001.jpg          images, extensions in mixed case
    ExDark_Annno/<Class>/2015_00001.jpg.txt  '% bbGt version=3', CRLF
    imageclasslist.txt                      Name | Class | Light | In/Out |
                                            Train/Val/Test, CRLF
    night_sample.json                       generator settings and counts

and, for the paired night sample (``kind='night'``)::

    day/                                    the day twins: the same scenes,
                                            names, boxes and raw layout
                                            (its own ExDark_Annno and
                                            imageclasslist.txt)
    illumination/2015_00001.png             true illumination of each night
                                            image, uint16 PNG, value / 4096
    night_clean/                            with ``clean_twins`` only: the
                                            night images without sensor
                                            noise, raw layout as ``day/``

A day corpus (``kind='day'``, the sample's stand-in for COCO) writes day
renders into the top-level layout and nothing else.

Every image is rendered from its own generators seeded by
``(seed, index)``, so the output does not depend on the number of worker
processes.
"""
import json
import os
import os.path as osp
from multiprocessing import Pool
from typing import Dict, Optional

import cv2
import numpy as np

from ...utils.file_io import atomic_dir
from ..exdark import EXDARK_CLASSES, EXDARK_LIGHTS
from .scene import LIGHTS_INDOOR, LIGHTS_OUTDOOR, render_scene
from .shapes import SHAPES

#: bump when the rendering changes, so stale samples are regenerated
SAMPLE_VERSION = 5
KINDS = ('night', 'day')
#: ``illumination/*.png`` hold ``round(illumination * ILLUMINATION_SCALE)``
ILLUMINATION_SCALE = 4096
NEGATIVE_PROB = 0.01
EXTENSIONS = ('.jpg', ) * 6 + ('.JPG', '.jpeg', '.JPEG', '.png')
INDOOR_PROB = {'Car': 0.0, 'Bicycle': 0.3, 'People': 0.5, 'Bottle': 0.8,
               'Chair': 0.8}


def _plan(seed: int, num_train: int, num_val: int,
          num_test: int) -> list:
    """Per image: split, class, lighting, indoor flag, extension, quirks."""
    total = num_train + num_val + num_test
    rng = np.random.default_rng([seed, 2**31 - 1])
    splits = rng.permutation([1] * num_train + [2] * num_val +
                             [3] * num_test)
    classes = sorted(SHAPES)
    primaries = rng.permutation(
        [classes[i % len(classes)] for i in range(total)])
    plan = []
    for index in range(total):
        primary = str(primaries[index])
        indoor = bool(rng.uniform() < INDOOR_PROB[primary])
        light = int(rng.choice(LIGHTS_INDOOR if indoor else LIGHTS_OUTDOOR))
        ext = str(rng.choice(EXTENSIONS))
        plan.append(
            dict(index=index, split=int(splits[index]), primary=primary,
                 indoor=indoor, light=light, ext=ext,
                 list_ext=ext.swapcase() if rng.uniform() < 0.05 else ext,
                 empty=bool(rng.uniform() < NEGATIVE_PROB)))
    return plan


def read_illumination(path: str) -> np.ndarray:
    """Read a true illumination map written by the generator.

    Args:
        path (str): An ``illumination/*.png`` file.

    Returns:
        np.ndarray: The illumination, float32, (H, W).
    """
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if raw is None or raw.dtype != np.uint16 or raw.ndim != 2:
        raise ValueError(f'{path}: not a 16-bit single-channel '
                         'illumination map')
    return raw.astype(np.float32) / ILLUMINATION_SCALE


def illumination_path(img_path: str) -> Optional[str]:
    """The true illumination map of a night-sample image, if it has one.

    Args:
        img_path (str): ``<root>/ExDark/<Class>/<name>.<ext>``.

    Returns:
        str | None: ``<root>/illumination/<name>.png`` when that file exists.
    """
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(img_path))))
    stem = osp.splitext(osp.basename(img_path))[0]
    path = osp.join(root, 'illumination', stem + '.png')
    return path if osp.isfile(path) else None


def _write_image(img: np.ndarray, path: str) -> None:
    """Encode by the extension's case-insensitive type and write."""
    if path.lower().endswith('.png'):
        ok, buf = cv2.imencode('.png', img)
    else:
        ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok, f'cannot encode {path}'
    buf.tofile(path)


def _render_one(job: Dict) -> str:
    """Render, encode and write one scene and its annotation file(s).

    Returns:
        str: The image's ``imageclasslist.txt`` row (without line end).
    """
    rng = np.random.default_rng([job['seed'], job['index']])
    day_rng = np.random.default_rng([job['seed'], job['index'], 1])
    scene = render_scene(rng, job['height'], job['width'], job['primary'],
                         job['light'], job['indoor'], job['empty'],
                         day_rng=day_rng, clean_night=job['clean_twins'])
    name = f"2015_{job['index'] + 1:05d}"
    cls = job['primary']
    trees = [job['root']]
    if job['kind'] == 'night':
        trees.append(osp.join(job['root'], 'day'))
        _write_image(scene.night,
                     osp.join(job['root'], 'ExDark', cls, name + job['ext']))
        _write_image(scene.day, osp.join(trees[1], 'ExDark', cls,
                                         name + job['ext']))
        if job['clean_twins']:
            trees.append(osp.join(job['root'], 'night_clean'))
            _write_image(scene.clean_night,
                         osp.join(trees[2], 'ExDark', cls, name + job['ext']))
        level = np.clip(
            np.rint(scene.illumination * ILLUMINATION_SCALE), 0, 65535)
        cv2.imwrite(
            osp.join(job['root'], 'illumination', name + '.png'),
            level.astype(np.uint16))
    else:
        _write_image(scene.day,
                     osp.join(job['root'], 'ExDark', cls, name + job['ext']))
    if scene.boxes:
        lines = ['% bbGt version=3']
        for box_cls, x0, y0, x1, y1 in scene.boxes:
            if rng.uniform() < 0.03:  # class names in any letter case
                box_cls = box_cls.lower()
            lines.append(f'{box_cls} {x0} {y0} {x1 - x0} {y1 - y0} '
                         '0 0 0 0 0 0 0')
        for tree in trees:
            ann = osp.join(tree, 'ExDark_Annno', cls,
                           name + job['ext'] + '.txt')
            with open(ann, 'w', newline='') as f:
                f.write('\r\n'.join(lines) + '\r\n')
    return (f"{name + job['list_ext']} {EXDARK_CLASSES.index(cls) + 1} "
            f"{job['light']} {1 if job['indoor'] else 2} {job['split']}")


def generate_night_sample(out_root: str,
                          seed: int = 0,
                          num_train: int = 400,
                          num_val: int = 100,
                          num_test: int = 200,
                          size: int = 320,
                          workers: int = 1,
                          overwrite: bool = False,
                          kind: str = 'night',
                          clean_twins: bool = False) -> Optional[Dict]:
    """Generate the sample (or a day corpus) into ``out_root``.

    The files are written under a temporary folder beside ``out_root`` and
    moved into place when complete; other entries of ``out_root`` (e.g. the
    converter's ``annotations/``) are removed on regeneration.

    Args:
        out_root (str): Output folder.
        seed (int): Seed of the whole sample. Defaults to 0.
        num_train (int): Images in the train split. Defaults to 400.
        num_val (int): Images in the val split. Defaults to 100.
        num_test (int): Images in the test split. Defaults to 200.
        size (int): Image width; the height is 3/4 of it. Defaults to 320.
        workers (int): Worker processes. Defaults to 1.
        overwrite (bool): Replace ``out_root`` even when it is not a night
            sample (a sample made with other settings is always replaced).
            Defaults to False.
        kind (str): ``'night'``, the paired night sample (night images,
            their day twins in ``day/`` and true illumination maps in
            ``illumination/``), or ``'day'``, a day-only corpus for
            normal-light pretraining. Defaults to ``'night'``.
        clean_twins (bool): With ``kind='night'``, also write the night
            images without sensor noise to ``night_clean/`` (the night
            images are the same either way). Defaults to False.

    Returns:
        dict | None: The manifest written to ``night_sample.json``, or None
        when ``out_root`` already holds a sample with the same settings.
    """
    if min(num_train, num_val, num_test) < 0 or size < 64:
        raise ValueError('image counts must be >= 0 and size >= 64')
    if kind not in KINDS:
        raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
    if clean_twins and kind != 'night':
        raise ValueError("clean_twins needs kind='night'")
    settings = dict(version=SAMPLE_VERSION, seed=seed, num_train=num_train,
                    num_val=num_val, num_test=num_test, size=size, kind=kind)
    if clean_twins:  # absent otherwise: earlier samples stay up to date
        settings['clean_twins'] = True
    manifest_path = osp.join(out_root, 'night_sample.json')
    existing = None
    if osp.isfile(manifest_path):
        with open(manifest_path) as f:
            existing = json.load(f)
        if existing.get('settings') == settings:
            return None
    if (osp.exists(out_root) and os.listdir(out_root) and existing is None
            and not overwrite):
        raise FileExistsError(
            f'{out_root} exists and is not a night sample (no '
            'night_sample.json); pass --overwrite to replace it')
    with atomic_dir(out_root) as tmp:
        trees = [tmp] + ([osp.join(tmp, 'day')] if kind == 'night' else [])
        trees += [osp.join(tmp, 'night_clean')] if clean_twins else []
        for tree in trees:
            for top in ('ExDark', 'ExDark_Annno'):
                for cls in SHAPES:
                    os.makedirs(osp.join(tree, top, cls))
        if kind == 'night':
            os.makedirs(osp.join(tmp, 'illumination'))
        plan = _plan(seed, num_train, num_val, num_test)
        jobs = [dict(job, seed=seed, root=tmp, width=size,
                     height=size * 3 // 4, kind=kind,
                     clean_twins=clean_twins) for job in plan]
        if workers > 1:
            with Pool(workers) as pool:
                rows = pool.map(_render_one, jobs, chunksize=16)
        else:
            rows = [_render_one(job) for job in jobs]
        for tree in trees:
            with open(osp.join(tree, 'imageclasslist.txt'), 'w',
                      newline='') as f:
                f.write('\r\n'.join(['Name | Class | Light | In/Out | '
                                     'Train/Val/Test'] + rows) + '\r\n')
        counts = {
            split: {
                EXDARK_LIGHTS[light]: sum(1 for p in plan
                                          if p['split'] == sid
                                          and p['light'] == light)
                for light in sorted(set(LIGHTS_INDOOR + LIGHTS_OUTDOOR))
            }
            for sid, split in ((1, 'train'), (2, 'val'), (3, 'test'))
        }
        manifest = dict(settings=settings, classes=sorted(SHAPES),
                        images_per_split_and_light=counts)
        with open(osp.join(tmp, 'night_sample.json'), 'w') as f:
            json.dump(manifest, f, indent=2)
    return manifest
