"""Test (and evaluate) a detector checkpoint with a lowlight or mmdet config.

Same command line as mmdet's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out x.pkl]
        [--show] [--show-dir DIR] [--tta] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]

The checkpoint is loaded with ``torch.load(weights_only=True)`` only; a
refused, damaged or missing checkpoint ends the tool with one message. A
``.onnx`` CHECKPOINT (exported by ``tools/deployment/export_onnx.py`` from
CONFIG) is run by ONNX Runtime (``OnnxRuntimeDetector``, on the
execution providers of ``--providers``, default the CPU's) and evaluated
with the same metric.
"""
import argparse
import os

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import RUNNERS
from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults
from mmdet.utils import setup_cache_size_limit_of_dynamo

# importing lowlight.engine registers lowlight's modules
from lowlight.datasets.annotation_files import \
    exit_if_annotation_files_missing
from lowlight.deployment import backend_model_cfg
from lowlight.engine import exit_on_checkpoint_error, load_tool_config


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (mmdet's test.py interface)."""
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='where metrics and logs go (default: work_dirs/<config>)')
    parser.add_argument(
        '--out', help='dump the raw predictions to this .pkl file')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--show-dir',
        help='save images with predictions drawn, under '
        'work_dir/<timestamp>/SHOW_DIR')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='--show interval (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (tools/dist_test.sh uses pytorch)')
    parser.add_argument(
        '--tta', action='store_true', help='test-time flip augmentation')
    parser.add_argument(
        '--providers',
        nargs='+',
        default=None,
        help='onnxruntime execution providers for a .onnx CHECKPOINT, in '
        'order of preference (default: CPUExecutionProvider)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.providers and not args.checkpoint.endswith('.onnx'):
        parser.error('--providers applies to an exported .onnx checkpoint, '
                     f'got {args.checkpoint}')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out must name a .pkl file, got {args.out}')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def add_tta(cfg: Config) -> None:
    """Wrap the model and test pipeline for horizontal-flip TTA."""
    cfg.setdefault(
        'tta_model',
        dict(
            type='DetTTAModel',
            tta_cfg=dict(
                nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)))
    if 'tta_pipeline' not in cfg:
        dataset = cfg.test_dataloader.dataset
        while 'dataset' in dataset:  # dataset wrappers
            dataset = dataset.dataset
        cfg.tta_pipeline = [
            *dataset.pipeline[:-1],
            dict(
                type='TestTimeAug',
                transforms=[[
                    dict(type='RandomFlip', prob=1.),
                    dict(type='RandomFlip', prob=0.)
                ],
                            [
                                dict(
                                    type='PackDetInputs',
                                    meta_keys=('img_id', 'img_path',
                                               'ori_shape', 'img_shape',
                                               'scale_factor', 'flip',
                                               'flip_direction'))
                            ]])
        ]
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def build_test_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line options to it."""
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options,
                           args.work_dir)
    if args.checkpoint.endswith('.onnx'):
        cfg.model = backend_model_cfg(
            cfg.model, args.checkpoint, providers=args.providers)
        cfg.load_from = None
    else:
        cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        add_tta(cfg)
    return cfg


def main(argv=None) -> dict:
    """Build the runner, test the checkpoint and return the metrics."""
    args = parse_args(argv)
    setup_cache_size_limit_of_dynamo()
    cfg = build_test_config(args)
    exit_if_annotation_files_missing(cfg, args.config, ('test', ))
    with exit_on_checkpoint_error():
        runner = RUNNERS.build(cfg)
        if args.out is not None:
            runner.test_evaluator.metrics.append(
                DumpDetResults(out_file_path=args.out))
        return runner.test()


if __name__ == '__main__':
    main()
