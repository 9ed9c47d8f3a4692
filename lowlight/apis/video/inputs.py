"""Find the inputs of a video inference run and split them into shards.

An input is a video file, or a folder of frames (images) treated as one
sequence. Files that are neither are kept as ``'unsupported'`` inputs so that
a run can report them instead of silently dropping them.
"""
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .sources import is_image_file, is_video_file


@dataclass(frozen=True)
class VideoInput:
    """One input of a run.

    Attributes:
        path (Path): The video file, or the folder holding the frames.
        rel (str): Relative output path (POSIX), i.e. results go to
            ``out_dir / rel``.
        kind (str): ``'video'``, ``'frames'`` or ``'unsupported'``.
        frames (tuple[Path]): The frame files in order (``'frames'`` only).
    """
    path: Path
    rel: str
    kind: str
    frames: Tuple[Path, ...] = ()


def _natural_key(path: Path) -> list:
    """Sort key so that ``frame2.png`` comes before ``frame10.png``."""
    return [
        int(part) if part.isdigit() else part.lower()
        for part in re.split(r'(\d+)', path.name)
    ]


def _relative(path: Path, base: Path) -> str:
    """POSIX path of ``path`` relative to ``base`` (no symlink resolution)."""
    return Path(os.path.relpath(path, base)).as_posix()


def _classify(files: Iterable[Path], base: Path) -> List[VideoInput]:
    """Turn files into inputs; images of one folder form one sequence."""
    found, sequences = [], {}
    for file in files:
        if is_image_file(file.name):
            sequences.setdefault(file.parent, []).append(file)
            continue
        kind = 'video' if is_video_file(file.name) else 'unsupported'
        found.append(VideoInput(file, _relative(file, base), kind))
    for folder, images in sequences.items():
        rel = _relative(folder, base)
        if rel == '.':
            rel = Path(os.path.abspath(folder)).name
        found.append(
            VideoInput(folder, rel, 'frames',
                       tuple(sorted(images, key=_natural_key))))
    return found


def _walk(folder: Path, exclude: Optional[Path]) -> List[Path]:
    """All non-hidden files under ``folder``, skipping ``exclude``."""
    files = []
    for root, dirs, names in os.walk(folder):
        root = Path(root)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith('.') and (
                exclude is None or (root / d).resolve() != exclude))
        files.extend(root / n for n in sorted(names) if not n.startswith('.'))
    return files


def _glob_root(pattern: str) -> Path:
    """The deepest folder of a glob pattern that holds no wildcard."""
    parts = []
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path('.')


def collect_inputs(inputs: Sequence[str],
                   exclude: Optional[str] = None) -> List[VideoInput]:
    """Expand files, folders (recursively) and globs into inputs.

    Output paths (``VideoInput.rel``) are: the file name for a file argument;
    the folder's own name followed by the path inside it for a folder
    argument; the path below the glob's fixed prefix for a glob. Hidden files
    and folders are ignored.

    Args:
        inputs (Sequence[str]): Video files, folders and glob patterns.
        exclude (str, optional): A folder never searched, e.g. the output
            folder when it lies inside an input folder.

    Returns:
        list[VideoInput]: Inputs sorted by ``rel``, each file once.

    Raises:
        FileNotFoundError: An argument matches nothing.
        ValueError: Two different inputs would write to the same output path.
    """
    exclude_path = Path(exclude).resolve() if exclude is not None else None
    found: List[VideoInput] = []
    for arg in inputs:
        path = Path(arg)
        if glob.has_magic(arg):
            matches = [Path(m) for m in sorted(glob.glob(arg, recursive=True))]
            if not matches:
                raise FileNotFoundError(f'no file matches the input {arg!r}')
            root = _glob_root(arg)
            files = []
            for match in matches:
                files.extend(
                    _walk(match, exclude_path) if match.is_dir() else [match])
            found.extend(_classify(files, root))
        elif path.is_dir():
            found.extend(
                _classify(
                    _walk(path, exclude_path),
                    Path(os.path.abspath(path)).parent))
        elif path.is_file():
            found.extend(_classify([path], path.parent))
        else:
            raise FileNotFoundError(f'input not found: {arg!r}')

    unique: Dict[str, VideoInput] = {}
    seen_paths = set()
    for item in found:
        real = item.path.resolve()
        if real in seen_paths:
            continue
        seen_paths.add(real)
        other = unique.get(item.rel)
        if other is not None:
            raise ValueError(
                f'inputs {str(other.path)!r} and {str(item.path)!r} would '
                f'both write to {item.rel!r}; pass their parent folders '
                'instead so that the output paths differ')
        unique[item.rel] = item
    return [unique[rel] for rel in sorted(unique)]


def parse_shard(shard: Optional[str] = None,
                env: Optional[Dict[str, str]] = None) -> Tuple[int, int]:
    """Return ``(index, count)`` of this process's share of the inputs.

    Args:
        shard (str, optional): ``'I/N'`` with a 0-based index ``I < N``.
            When None, ``RANK``/``WORLD_SIZE`` (set by ``torchrun``) are used,
            else ``(0, 1)``.
        env (dict, optional): Environment to read, default ``os.environ``.

    Returns:
        tuple[int, int]: Shard index and shard count.
    """
    env = os.environ if env is None else env
    if shard is None:
        if 'WORLD_SIZE' not in env:
            return 0, 1
        shard = f"{env.get('RANK', '0')}/{env['WORLD_SIZE']}"
    match = re.fullmatch(r'\s*(\d+)\s*/\s*(\d+)\s*', shard)
    if match is None:
        raise ValueError(f'shard must look like I/N, got {shard!r}')
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise ValueError(f'shard {shard!r}: the index is 0-based and must be '
                         f'smaller than the count (0/{count} .. '
                         f'{max(count - 1, 0)}/{count})')
    return index, count


def select_shard(items: Sequence[VideoInput], index: int,
                 count: int) -> List[VideoInput]:
    """Deterministic share: every ``count``-th input of the sorted list."""
    return list(items[index::count])
