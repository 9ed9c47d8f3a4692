"""Checkpoints that load with ``torch.load(weights_only=True)``.

A checkpoint file is untrusted input: unpickling it in full can run
arbitrary code. mmengine 0.10.7 stores the message hub's log history as
``HistoryBuffer`` objects holding numpy arrays, and numpy scalars may show up
in runtime information and metrics; torch's weights-only unpickler refuses
those. This module turns the non-tensor parts of a checkpoint into plain
Python numbers, strings, containers and tensors before saving
(:func:`to_weights_only`), turns the message hub's log history back into
``HistoryBuffer`` objects after loading (:func:`restore_history_buffers`),
and loads files only through the weights-only unpickler
(:func:`load_checkpoint_safely`), with one clear error naming the file when a
file is refused, truncated or missing. Command-line tools end such an error
with that one message (:func:`exit_on_checkpoint_error`). For a faithful
``--resume``, :func:`get_rng_state` and :func:`set_rng_state` turn the
random number generators' states into tensors and back.
"""
import contextlib
import io
import os.path as osp
import pickle
import pickletools
import random
import re
import zipfile
from collections import Counter, OrderedDict
from typing import Any, Callable, Iterator, Optional, Union

import numpy as np
import torch
from mmengine.fileio import get as fileio_get
from mmengine.logging import HistoryBuffer, print_log

#: Leaf types the weights-only unpickler of torch accepts as they are.
_PLAIN_LEAVES = (str, bytes, bytearray, int, float, complex, bool, type(None),
                 torch.Tensor, torch.device, torch.dtype)
#: Container types it accepts (their exact types; subclasses are rebuilt).
_PLAIN_DICTS = (dict, OrderedDict, Counter)
_PLAIN_SEQUENCES = (list, tuple, set, torch.Size)


class CheckpointLoadError(RuntimeError):
    """A checkpoint file was refused, is damaged, or cannot be found."""


def _plain(obj: Any, path: str) -> Any:
    """Return ``obj`` built only from types the weights-only loader accepts.

    Args:
        obj: A value from a checkpoint dict.
        path (str): Where ``obj`` sits in the checkpoint, for error messages.

    Returns:
        The same value with numpy arrays turned into tensors, numpy scalars
        into Python numbers, ``HistoryBuffer`` into a dict of tensors
        and containers of other types into their plain base types.

    Raises:
        TypeError: If ``obj`` holds a value of any other type.
    """
    if isinstance(obj, torch.Tensor) or type(obj) in _PLAIN_LEAVES:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f'{path} is a numpy array of Python objects, '
                            'which a weights-only checkpoint cannot hold')
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, HistoryBuffer):
        log_history, count_history = obj.data
        return dict(
            log_history=_plain(log_history, f'{path}.log_history'),
            count_history=_plain(count_history, f'{path}.count_history'),
            max_length=int(obj.max_length))
    if isinstance(obj, dict):
        items = OrderedDict((key, _plain(value, f'{path}[{key!r}]'))
                            for key, value in obj.items())
        out = type(obj)(items) if type(obj) in _PLAIN_DICTS else dict(items)
        if hasattr(obj, '_metadata'):  # module versions of a state dict
            out._metadata = obj._metadata
        return out
    if isinstance(obj, (list, tuple, set)):
        items = [_plain(value, f'{path}[{i}]') for i, value in enumerate(obj)]
        if type(obj) in _PLAIN_SEQUENCES:
            return type(obj)(items)
        for base in (list, tuple, set):  # e.g. a namedtuple becomes a tuple
            if isinstance(obj, base):
                return base(items)
    for base in (bool, int, float, str):  # e.g. enums or numpy-like scalars
        if isinstance(obj, base):
            return base(obj)
    raise TypeError(f'{path} is a {type(obj).__module__}.'
                    f'{type(obj).__qualname__}, which a weights-only '
                    'checkpoint cannot hold; store it as numbers, strings, '
                    'lists, dicts or tensors')


def to_weights_only(checkpoint: dict) -> dict:
    """Convert a checkpoint dict in place so it loads with weights_only.

    ``state_dict`` entries (tensors) are kept as they are; every other part
    (``meta``, ``message_hub``, ``optimizer``, ``param_schedulers``, ...) is
    converted by :func:`_plain`. Runtime information of the message hub that
    cannot be converted (it is bookkeeping for logs, e.g. an object a custom
    hook stored) is dropped with a warning instead of failing the run.

    Args:
        checkpoint (dict): The dict :meth:`mmengine.runner.Runner.
            save_checkpoint` is about to save.

    Returns:
        dict: ``checkpoint`` itself, converted.
    """
    hub = checkpoint.get('message_hub')
    if isinstance(hub, dict) and isinstance(hub.get('runtime_info'), dict):
        runtime_info = OrderedDict()
        for key, value in hub['runtime_info'].items():
            try:
                runtime_info[key] = _plain(value, key)
            except TypeError as error:
                print_log(
                    f'Not saving message hub runtime info {key!r} in the '
                    f'checkpoint: {error}',
                    logger='current',
                    level=30)
        hub['runtime_info'] = runtime_info
    for key, value in checkpoint.items():
        if key.endswith('state_dict') and isinstance(value, dict):
            continue
        checkpoint[key] = _plain(value, f'checkpoint[{key!r}]')
    return checkpoint


def restore_history_buffers(checkpoint: dict) -> dict:
    """Turn the message hub's saved log history back into HistoryBuffers.

    Inverse of what :func:`to_weights_only` does to
    ``checkpoint['message_hub']['log_scalars']``. Entries that already are
    ``HistoryBuffer`` objects are kept.

    Args:
        checkpoint (dict): A loaded checkpoint.

    Returns:
        dict: ``checkpoint`` itself, with its message hub restored in place.
    """
    hub = checkpoint.get('message_hub')
    if not isinstance(hub, dict) or not isinstance(
            hub.get('log_scalars'), dict):
        return checkpoint
    for key, value in hub['log_scalars'].items():
        if isinstance(value, dict) and {'log_history', 'count_history'
                                        } <= value.keys():
            hub['log_scalars'][key] = HistoryBuffer(
                np.asarray(value['log_history']),
                np.asarray(value['count_history']),
                max_length=value.get('max_length', 1000000))
    return checkpoint


def get_rng_state() -> dict:
    """The states of this process's random number generators, as tensors.

    Covers Python's ``random``, numpy's global ``RandomState`` and torch's
    CPU generator (and CUDA's, where available), in a form the weights-only
    loader accepts. Inverse of :func:`set_rng_state`.

    Returns:
        dict: ``python``, ``numpy`` and ``torch`` (and ``cuda``) states.
    """
    version, internal, gauss_next = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    state = dict(
        python=dict(
            version=version,
            internal=torch.tensor(internal, dtype=torch.int64),
            gauss_next=gauss_next),
        numpy=dict(
            bit_generator=numpy_state['bit_generator'],
            key=torch.from_numpy(numpy_state['state']['key'].astype(
                np.int64)),
            pos=int(numpy_state['state']['pos']),
            has_gauss=int(numpy_state['has_gauss']),
            gauss=float(numpy_state['gauss'])),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore random number generator states from :func:`get_rng_state`.

    Args:
        state (dict): A result of :func:`get_rng_state`, possibly after a
            save and a weights-only load.
    """
    python = state['python']
    random.setstate((python['version'], tuple(python['internal'].tolist()),
                     python['gauss_next']))
    numpy_state = state['numpy']
    np.random.set_state(
        dict(
            bit_generator=numpy_state['bit_generator'],
            state=dict(
                key=numpy_state['key'].numpy().astype(np.uint32),
                pos=numpy_state['pos']),
            has_gauss=numpy_state['has_gauss'],
            gauss=numpy_state['gauss']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _pickle_globals(source: Any) -> list:
    """Globals the first pickle in ``source`` imports, read without running it.

    For plain pickles (not torch's zip format). Names from torch and
    ``collections`` are left out: weights-only checkpoints are built from
    them.

    Args:
        source (str | io.BytesIO): File path or buffer.

    Returns:
        list[str]: ``module.name`` of each other global, in order of use.
    """
    names, pushed, memo = [], [], {}  # pushed: strings, None otherwise
    with contextlib.ExitStack() as stack:
        stream = source if hasattr(source, 'read') else stack.enter_context(
            open(source, 'rb'))
        for opcode, arg, _ in pickletools.genops(stream):
            op = opcode.name
            if op in ('PROTO', 'FRAME', 'STOP'):
                continue
            if op == 'MEMOIZE':
                memo[len(memo)] = pushed[-1] if pushed else None
            elif op in ('PUT', 'BINPUT', 'LONG_BINPUT'):
                memo[arg] = pushed[-1] if pushed else None
            elif op in ('GET', 'BINGET', 'LONG_BINGET'):
                pushed.append(memo.get(arg))
            elif op == 'GLOBAL':
                names.append(arg.replace(' ', '.'))
                pushed.append(None)
            elif op == 'STACK_GLOBAL':
                module, name = ([None, None] + pushed)[-2:]
                names.append(f'{module}.{name}')
                pushed.append(None)
            else:
                pushed.append(arg if isinstance(arg, str) else None)
    return [
        name for name in dict.fromkeys(names)
        if not name.startswith(('torch.', 'collections.'))
    ]


def _describe_refusal(source: Any) -> str:
    """List the Python globals a refused checkpoint would have imported."""
    try:
        zipped = zipfile.is_zipfile(source)
        if hasattr(source, 'seek'):
            source.seek(0)
        if zipped:
            names = torch.serialization.get_unsafe_globals_in_checkpoint(
                source)
        else:
            names = _pickle_globals(source)
    except Exception:  # damaged beyond what the listing can read
        names = []
    finally:
        if hasattr(source, 'seek'):
            source.seek(0)
    return f' It references: {", ".join(names)}.' if names else ''


def _torch_reason(error: pickle.UnpicklingError) -> str:
    """What torch's weights-only unpickler stopped at, without its advice.

    torch's message also suggests re-running with ``weights_only=False`` or
    allow-listing the global, which would run the payload: only the
    "Unsupported ..." finding is kept.
    """
    text = ' '.join(str(error).split())
    if 'WeightsUnpickler error:' not in text:
        return ''
    reason = text.split('WeightsUnpickler error:', 1)[1]
    reason = re.split(
        r' was not an allowed global|\. |\.$| Check the doc',
        reason.strip(),
        maxsplit=1)[0]
    return f' The weights-only unpickler stopped at: {reason}.'


@contextlib.contextmanager
def exit_on_checkpoint_error() -> Iterator[None]:
    """End a command-line tool with one message if a checkpoint is refused.

    Used around the body of a tool's ``main``: a
    :class:`CheckpointLoadError` becomes ``SystemExit('error: <message>')``
    (exit status 1, the message on stderr, no traceback).

    Yields:
        None
    """
    try:
        yield
    except CheckpointLoadError as error:
        raise SystemExit(f'error: {error}') from None


def load_checkpoint_safely(filename: str,
                           map_location: Union[str, Callable, None] = 'cpu',
                           backend_args: Optional[dict] = None) -> Any:
    """Load a checkpoint with ``torch.load(weights_only=True)`` only.

    Args:
        filename (str): A local path, or a URI that ``mmengine.fileio`` can
            read (e.g. ``https://``, with ``backend_args`` for other
            storage backends).
        map_location (str | callable | None): As in :func:`torch.load`.
            Defaults to 'cpu'.
        backend_args (dict, optional): Arguments of the ``mmengine.fileio``
            backend for non-local URIs. Defaults to None.

    Returns:
        The loaded object, usually a dict with ``state_dict`` and ``meta``.

    Raises:
        CheckpointLoadError: If the file does not exist, is truncated or
            damaged, or holds objects other than tensors and plain Python
            values (a pickle that could run code when loaded in full is
            never unpickled).
    """
    if '://' in filename:
        try:
            source = io.BytesIO(fileio_get(filename, backend_args))
        except Exception as error:
            raise CheckpointLoadError(
                f'Cannot read checkpoint {filename}: {error}. Model-zoo '
                'shortcuts (open-mmlab://, torchvision://) are not '
                'supported: download the file and pass its local path.'
            ) from error
    else:
        source = osp.expanduser(filename)
        if not osp.isfile(source):
            raise CheckpointLoadError(
                f'Checkpoint file not found: {filename}')
    try:
        return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        detail = _describe_refusal(source) or _torch_reason(error)
        raise CheckpointLoadError(
            f'Refusing to load checkpoint {filename}: it holds Python objects '
            'other than tensors and plain values, and unpickling it in full '
            f'could run arbitrary code.{detail} Checkpoints saved by '
            'lowlight load safely; for a file saved elsewhere that you '
            'trust, re-save its tensors, e.g. '
            "torch.save({'state_dict': ckpt['state_dict']}, 'weights.pth')."
        ) from error
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile,
            UnicodeDecodeError, OSError) as error:
        raise CheckpointLoadError(
            f'Cannot load checkpoint {filename}: the file is truncated, '
            f'damaged or not a PyTorch checkpoint ({type(error).__name__}: '
            f'{str(error).strip().splitlines()[0] if str(error) else ""}).'
        ) from error
