"""Anomaly bookkeeping shared by the dataset converters."""
import os.path as osp
from collections import Counter
from typing import List, Optional, Tuple

from ...utils.file_io import atomic_write_text


class ConversionError(RuntimeError):
    """The conversion cannot start (missing list file or image folder).

    The command-line tools print its message, without a traceback.
    """


class BadInputError(ValueError):
    """An input file that cannot be converted (malformed line, bad header).

    The converters catch it per file: the file is skipped and recorded.
    """


class ConversionReport:
    """Counts and lists every anomaly and skipped file of a conversion.

    Anomalies are quirks the converter fixes (a clipped box, a class name in
    lower case, an image without annotation kept as a negative); skipped
    files are bad input the converter cannot use. Both carry the file and,
    where known, the line number.
    """

    def __init__(self) -> None:
        self.anomalies: List[Tuple[str, str, Optional[int], str]] = []
        self.skipped: List[Tuple[str, Optional[int], str]] = []

    def anomaly(self, kind: str, path: str, line: Optional[int] = None,
                detail: str = '') -> None:
        """Record a fixed quirk of kind ``kind`` at ``path``:``line``."""
        self.anomalies.append((kind, path, line, detail))

    def skip(self, path: str, line: Optional[int], reason: str) -> None:
        """Record a file left out of the output because of bad input."""
        self.skipped.append((path, line, reason))

    def counts(self) -> Counter:
        """Number of anomalies per kind."""
        return Counter(kind for kind, *_ in self.anomalies)

    @staticmethod
    def _where(path: str, line: Optional[int]) -> str:
        return path if line is None else f'{path}:{line}'

    def write(self, path: str, title: str) -> None:
        """Write the full report (every anomaly and skip) to ``path``."""
        lines = [title, '', f'skipped files: {len(self.skipped)}']
        lines += [f'  {self._where(p, n)}: {reason}'
                  for p, n, reason in self.skipped]
        lines += ['', f'anomalies: {len(self.anomalies)}']
        lines += [f'  {kind}: {count}'
                  for kind, count in sorted(self.counts().items())]
        for kind, p, n, detail in self.anomalies:
            lines.append(f'  [{kind}] {self._where(p, n)}'
                         + (f': {detail}' if detail else ''))
        atomic_write_text(path, '\n'.join(lines) + '\n')

    def summary(self, report_path: str) -> str:
        """A few terminal lines: counts per kind and the skipped files."""
        lines = [f'anomalies fixed: {len(self.anomalies)}' +
                 ''.join(f'\n  {kind}: {count}'
                         for kind, count in sorted(self.counts().items()))]
        if self.skipped:
            lines.append(f'SKIPPED {len(self.skipped)} file(s) with bad '
                         'input:')
            lines += [f'  {self._where(p, n)}: {reason}'
                      for p, n, reason in self.skipped[:20]]
            if len(self.skipped) > 20:
                lines.append(f'  ... {len(self.skipped) - 20} more')
        lines.append(f'full report: {osp.relpath(report_path)}')
        return '\n'.join(lines)
