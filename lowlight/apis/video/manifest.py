"""Run manifest and per-input status files of video inference.

Every input's folder gets a ``status.json`` written last (atomically) when
the input ends: it is what a later run reads to skip completed inputs. The
manifest lists every input of the run with its status (``done``, ``failed``
with a reason, ``skipped`` when a completed input was not redone, ``pending``
while not yet reached), frames and seconds:

- one process: ``manifest.json``, rewritten after each input;
- shard ``I/N``: ``manifest.shard-I-of-N.json`` (only that shard's inputs,
  rewritten after each input, one writer per file), and at the end of each
  shard ``manifest.json`` over all inputs, merged under a file lock from the
  shard's own entries and the other inputs' ``status.json``; the shard that
  finishes last therefore leaves the complete manifest.

All files are written to a temporary name and renamed.
"""
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from ...utils.file_io import atomic_write_text
from .inputs import VideoInput, select_shard

STATUS_FILE = 'status.json'
MANIFEST_FILE = 'manifest.json'
STATUSES = ('done', 'failed', 'skipped', 'pending')


def write_json_atomic(path: Path, obj: Dict) -> None:
    """Write JSON (one key per line) through a temporary file."""
    atomic_write_text(str(path), json.dumps(obj, indent=1) + '\n')


def read_status(input_dir: Path) -> Optional[Dict]:
    """The ``status.json`` of an input folder, or None if absent/unreadable."""
    try:
        with open(input_dir / STATUS_FILE, encoding='utf-8') as f:
            status = json.load(f)
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def make_entry(item: VideoInput,
               status: str,
               reason: Optional[str] = None,
               frames: int = 0,
               total_frames: Optional[int] = None,
               seconds: float = 0.0) -> Dict:
    """One manifest entry."""
    assert status in STATUSES, status
    return {
        'input': str(item.path),
        'output': item.rel,
        'kind': item.kind,
        'status': status,
        'reason': reason,
        'frames': frames,
        'total_frames': total_frames,
        'seconds': round(seconds, 3),
    }


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive lock on ``path`` (POSIX ``flock``; imported here so that
    importing this module works everywhere)."""
    import fcntl
    with open(path, 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class RunManifest:
    """The manifest of one process of a (possibly sharded) run.

    Args:
        out_dir (Path): Output root.
        items (Sequence[VideoInput]): Every input of the run, all shards.
        shard (tuple[int, int]): ``(index, count)`` of this process.
        header (dict): Run information stored at the top (config, settings).
    """

    def __init__(self, out_dir: Path, items: Sequence[VideoInput],
                 shard: tuple, header: Dict) -> None:
        self.out_dir = out_dir
        self.items = list(items)
        self.index, self.count = shard
        self.header = dict(header, shard=f'{self.index}/{self.count}')
        self.entries: Dict[str, Dict] = {
            item.rel: make_entry(item, 'pending')
            for item in select_shard(self.items, self.index, self.count)
        }
        self.path = out_dir / (
            MANIFEST_FILE if self.count == 1 else
            f'manifest.shard-{self.index}-of-{self.count}.json')
        self._started = time.strftime('%Y-%m-%dT%H:%M:%S')

    def record(self, entry: Dict, write: bool = True) -> None:
        """Store an input's entry; rewrite this process's manifest if
        ``write``."""
        self.entries[entry['output']] = entry
        if write:
            self.write()

    def write(self) -> None:
        """Rewrite this process's manifest."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._write(self.path, list(self.entries.values()))

    def summary(self, entries: Optional[List[Dict]] = None) -> Dict:
        """Counts per status, frames and seconds."""
        entries = list(self.entries.values()) if entries is None else entries
        summary = {s: 0 for s in STATUSES}
        for entry in entries:
            summary[entry['status']] += 1
        summary['frames'] = sum(e['frames'] for e in entries
                                if e['status'] != 'skipped')
        summary['seconds'] = round(
            sum(e['seconds'] for e in entries if e['status'] != 'skipped'), 3)
        return summary

    def _write(self, path: Path, entries: List[Dict]) -> None:
        write_json_atomic(
            path,
            dict(
                self.header,
                started=self._started,
                updated=time.strftime('%Y-%m-%dT%H:%M:%S'),
                summary=self.summary(entries),
                inputs=entries))

    def finish(self) -> Path:
        """Write the final manifest; merge all shards into ``manifest.json``.

        Returns:
            Path: ``out_dir / 'manifest.json'``.
        """
        self.write()
        if self.count == 1:
            return self.path
        merged_path = self.out_dir / MANIFEST_FILE
        with _locked(self.out_dir / '.manifest.lock'):
            merged = []
            for item in self.items:
                entry = self.entries.get(item.rel)
                if entry is None:
                    status = read_status(self.out_dir / item.rel)
                    entry = make_entry(item, 'pending') if status is None \
                        else {k: status.get(k) for k in make_entry(
                            item, 'pending')}
                merged.append(entry)
            header = dict(self.header, shard=f'merged from {self.count}')
            write_json_atomic(
                merged_path,
                dict(
                    header,
                    updated=time.strftime('%Y-%m-%dT%H:%M:%S'),
                    summary=self.summary(merged),
                    inputs=merged))
        return merged_path
