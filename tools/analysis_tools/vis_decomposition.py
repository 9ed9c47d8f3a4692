"""Draw, for each image, one PNG panel: the input, the illumination map
(colour-mapped on a fixed [0, 1] scale, with a scale bar), the reflectance,
and the detections drawn on the input.

Example::

    python tools/analysis_tools/vis_decomposition.py \\
        configs/t2/<config>.py work_dirs/<config>/epoch_12.pth \\
        data/night_sample/ExDark/Car/*.png --out-dir work_dirs/vis

The model and checkpoint are loaded by
:func:`lowlight.apis.init_low_light_detector` (weights-only; a refused
checkpoint ends the tool with one message), class names from the checkpoint's
``meta.dataset_meta``, the palette from the config's test dataset. Images
are read and resized by the config's test pipeline; panels are drawn at that
size. A folder argument stands for the images directly inside it.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
from mmdet.utils import get_test_pipeline_cfg
from mmengine.config import DictAction
from mmengine.dataset import Compose

# importing lowlight registers its modules
from lowlight.apis import init_low_light_detector
from lowlight.apis.video import is_image_file
from lowlight.engine import exit_on_checkpoint_error
from lowlight.utils import atomic_path
from lowlight.visualization import render_decomposition_panels


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Save decomposition panels (input, illumination, '
        'reflectance, detections) of a LowLightDetector, one PNG per image.')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'images', nargs='+', help='image files, or folders of images')
    parser.add_argument(
        '--out-dir', required=True, help='folder for the PNG panels')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='minimum score of a drawn detection')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as in tools/train.py')
    return parser.parse_args(argv)


def expand_images(paths):
    """Files as given, folders as their image files (sorted).

    Raises:
        FileNotFoundError: naming every path that does not exist.
    """
    missing = [p for p in paths if not osp.exists(p)]
    if missing:
        raise FileNotFoundError('no such image file or folder: ' +
                                ', '.join(missing))
    images = []
    for path in paths:
        if osp.isdir(path):
            images += sorted(
                osp.join(path, name) for name in os.listdir(path)
                if is_image_file(name))
        else:
            images.append(path)
    return images


def write_png(path, panel_rgb):
    """Encode a panel to PNG under a temporary name, then rename it."""
    ok, buffer = cv2.imencode('.png', cv2.cvtColor(panel_rgb,
                                                   cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f'OpenCV could not encode the panel for {path}')
    with atomic_path(path, '.png') as tmp:
        with open(tmp, 'wb') as f:
            f.write(buffer.tobytes())


def main(argv=None):
    args = parse_args(argv)
    images = expand_images(args.images)
    with exit_on_checkpoint_error():
        model = init_low_light_detector(args.config, args.checkpoint,
                                        args.device, args.cfg_options)
    pipeline = Compose(get_test_pipeline_cfg(model.cfg))
    os.makedirs(args.out_dir, exist_ok=True)
    failed, used = [], set()
    for path in images:
        stem = osp.splitext(osp.basename(path))[0]
        name, n = stem, 1
        while name in used:  # same file name in different folders
            name, n = f'{stem}_{n}', n + 1
        used.add(name)
        out = osp.join(args.out_dir, name + '.png')
        try:
            data = pipeline(dict(img_path=path, img_id=0))
            batch = dict(
                inputs=[data['inputs']], data_samples=[data['data_samples']])
            panel = render_decomposition_panels(model, batch,
                                                model.dataset_meta,
                                                args.score_thr)[0]
            write_png(out, panel)
        except Exception as err:  # report the file, go on with the others
            failed.append(path)
            print(f'FAILED {path}: {err}', file=sys.stderr)
            continue
        print(f'{path} -> {out}')
    print(f'{len(images) - len(failed)} panel(s) written to {args.out_dir}' +
          (f', {len(failed)} image(s) failed' if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
