"""Fixtures shared by every test."""
import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run each test's torch on one thread, then restore the count.

    The tests' models are tiny; on a 2-core machine they ran several times
    faster on one thread than on two (a 64 px YOLOv3 about 8x). Tests that
    need more threads set them; the count is restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
