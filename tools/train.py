"""Train a detector with a lowlight (or any mmdet) config.

Same command line as mmdet's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|CKPT]]
        [--amp] [--auto-scale-lr] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]
"""
import argparse
import os

from mmengine.config import Config, DictAction
from mmengine.device import get_device
from mmengine.registry import RUNNERS
from mmdet.utils import setup_cache_size_limit_of_dynamo

# importing lowlight.engine registers lowlight's modules
from lowlight.datasets.annotation_files import \
    exit_if_annotation_files_missing
from lowlight.engine import exit_on_checkpoint_error, load_tool_config


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (mmdet's train.py interface)."""
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='where logs and checkpoints go (default: work_dirs/<config>)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (needs a GPU, NPU, MLU or MUSA)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size '
        '(needs auto_scale_lr.base_batch_size in the config)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or without a value from the latest '
        'checkpoint in the work directory')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format, e.g. '
        'train_cfg.max_epochs=2 or key="[a,b]"')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (tools/dist_train.sh uses pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.amp and get_device() == 'cpu':
        parser.error('--amp needs a GPU (or an NPU, MLU or MUSA device), but '
                     'none is available here: run without --amp on CPU.')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_train_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line options to it."""
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options,
                           args.work_dir)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if not cfg.get('auto_scale_lr', {}).get('base_batch_size'):
            raise SystemExit(
                f'--auto-scale-lr: {args.config} has no '
                'auto_scale_lr = dict(enable=False, base_batch_size=N)')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None) -> None:
    """Build the runner the config asks for and train."""
    args = parse_args(argv)
    setup_cache_size_limit_of_dynamo()
    cfg = build_train_config(args)
    exit_if_annotation_files_missing(
        cfg, args.config, ('train', 'val') if cfg.get('val_cfg') else
        ('train', ))
    with exit_on_checkpoint_error():
        RUNNERS.build(cfg).train()


if __name__ == '__main__':
    main()
