import pytest
import torch


@pytest.fixture(autouse=True)
def single_torch_thread():
    """Tiny models run far faster on one thread on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
