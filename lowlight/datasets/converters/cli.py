"""Shared ending of the converter command lines: summary and exit code."""
import sys
import time
from typing import Callable, Dict

from .report import ConversionError


def run_conversion(convert: Callable[..., Dict],
                   summarize: Callable[[Dict], str], skip_bad: bool,
                   **kwargs) -> int:
    """Run a converter, print its summary and choose the exit status.

    Args:
        convert (callable): ``convert_exdark`` or ``convert_darkface``.
        summarize (callable): The matching ``format_*_summary``.
        skip_bad (bool): Accept skipped files (exit 0).
        **kwargs: Arguments of ``convert``.

    Returns:
        int: 0 on success, 1 if a file with bad input was skipped and
        ``skip_bad`` is False, 2 if the input cannot be read at all (the
        message is printed without a traceback).
    """
    start = time.perf_counter()
    try:
        result = convert(**kwargs)
    except ConversionError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(summarize(result))
    print(f'converted in {time.perf_counter() - start:.1f} s')
    if result['report'].skipped and not skip_bad:
        print(f'error: {len(result["report"].skipped)} file(s) skipped '
              'because of bad input (see above); pass --skip-bad to accept',
              file=sys.stderr)
        return 1
    return 0
