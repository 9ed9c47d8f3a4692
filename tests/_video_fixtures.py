"""Kept only for tests/test_tools/test_darken.py, which another change
owns: the video helpers live in :mod:`lowlight.testing`; import them from
there."""
from lowlight.testing import read_frames  # noqa: F401
