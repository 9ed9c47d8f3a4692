"""Run a detector over videos, folders of videos and folders of frames.

Example::

    python tools/infer_video.py CONFIG CHECKPOINT dashcam/ night/*.mp4 \\
        --out-dir work_dirs/video --save-video --batch-size 4

With ``--backend onnxruntime`` CHECKPOINT is the ``.onnx`` file exported
from CONFIG by ``tools/deployment/export_onnx.py``; ``--providers
CUDAExecutionProvider`` runs it on a GPU (with onnxruntime-gpu). Writes
``OUT_DIR/<relative path of each input>/detections.jsonl`` (one line per
processed frame), optionally ``annotated.mp4`` and ``decomposition.mp4``,
and ``OUT_DIR/manifest.json``. Re-running the same command resumes. The exit
code is 1 when any input failed, 2 on bad arguments (a checkpoint or model
file that is refused, damaged, missing or of the other backend included),
130 when interrupted.
"""
import argparse
import sys

from mmengine.config import DictAction
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                           ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text

import lowlight  # noqa: F401  (registers the lowlight modules)
from lowlight.apis import infer_videos
from lowlight.apis.video import RunProgress
from lowlight.deployment import BACKENDS
from lowlight.engine import CheckpointLoadError


class FpsColumn(ProgressColumn):
    """Frames per second of the progress task."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f'{speed:.1f} fps' if speed else '-- fps')


class RichProgress:
    """Progress callback of a run: frames done/total, fps, ETA and the
    current input, drawn on stderr with rich."""

    def __init__(self) -> None:
        self.bar = Progress(
            TextColumn('{task.description}'),
            BarColumn(),
            MofNCompleteColumn(),
            FpsColumn(),
            TimeElapsedColumn(),
            TextColumn('ETA'),
            TimeRemainingColumn(),
            TextColumn('{task.fields[current]}'),
            console=Console(stderr=True, highlight=False),
            refresh_per_second=2)
        self.task = self.bar.add_task('frames', total=None, current='')

    def __call__(self, state: RunProgress) -> None:
        if not self.bar.live.is_started:
            self.bar.start()  # at the run's first call: after model loading
        self.bar.update(
            self.task,
            completed=state.frames,
            total=state.total,
            current=state.current)

    def close(self) -> None:
        self.bar.stop()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Batch inference on videos and image sequences')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', help='checkpoint (.pth), or .onnx with onnxruntime')
    parser.add_argument(
        '--backend',
        choices=BACKENDS,
        default='pytorch',
        help='pytorch (a .pth) or onnxruntime (an exported .onnx)')
    parser.add_argument(
        '--providers',
        nargs='+',
        default=None,
        help='onnxruntime execution providers in order of preference, e.g. '
        'CUDAExecutionProvider CPUExecutionProvider (default: CPU)')
    parser.add_argument(
        'inputs',
        nargs='+',
        help='video files, folders (searched recursively; a folder of images '
        'is one sequence) and glob patterns')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--save-video', action='store_true', help='write annotated.mp4')
    parser.add_argument(
        '--show-decomposition',
        action='store_true',
        help='write decomposition.mp4: input | illumination | reflectance '
        '(models with decompose(), e.g. LowLightDetector)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='frames per model call')
    parser.add_argument(
        '--streams',
        type=int,
        default=1,
        help='batches predicted side by side, each on torch threads / N '
        'threads (2 is faster on a 2-core CPU, see README)')
    parser.add_argument(
        '--score-thr', type=float, default=0.3, help='score threshold')
    parser.add_argument(
        '--stride', type=int, default=1, help='process every N-th frame')
    parser.add_argument(
        '--max-frames',
        type=int,
        default=None,
        help='process at most this many frames per input')
    parser.add_argument(
        '--fps',
        type=float,
        default=25.0,
        help='frame rate of image sequences (and of videos without one)')
    parser.add_argument(
        '--device',
        default=None,
        help='torch device; default cuda:LOCAL_RANK when CUDA is available, '
        'else cpu')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='redo inputs completed by an earlier run')
    parser.add_argument(
        '--shard',
        default=None,
        help='I/N: process the I-th (0-based) of N deterministic shares of '
        'the inputs; default RANK/WORLD_SIZE under torchrun, else all')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    options = vars(parse_args(argv))
    progress = None if options.pop('no_progress') else RichProgress()
    try:
        summary = infer_videos(**options, progress=progress or False)
    except (CheckpointLoadError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            'interrupted; run the same command again to resume',
            file=sys.stderr)
        return 130
    finally:
        if progress is not None:
            progress.close()
    return 1 if summary['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
