"""Shared ending of the converter command lines: summary and exit code."""
import argparse
import sys
import time
from typing import Callable

from .report import ConversionError
from .result import ConversionResult


def converter_parser(description: str,
                     raw_root_help: str) -> argparse.ArgumentParser:
    """Arguments every converter takes: ``RAW_ROOT OUT_DIR [--data-root]
    [--seed] [--skip-bad]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('raw_root', help=raw_root_help)
    parser.add_argument('out_dir', help='annotations/ is written here')
    parser.add_argument('--data-root', help='file_name in the output is '
                        'relative to this folder (default: RAW_ROOT)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the split (default: 0)')
    parser.add_argument('--skip-bad', action='store_true',
                        help='exit 0 even if files with bad input were '
                        'skipped')
    return parser


def run_conversion(convert: Callable[..., ConversionResult],
                   summarize: Callable[[ConversionResult], str],
                   skip_bad: bool,
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
    if result.report.skipped and not skip_bad:
        print(f'error: {len(result.report.skipped)} file(s) skipped '
              'because of bad input (see above); pass --skip-bad to accept',
              file=sys.stderr)
        return 1
    return 0
