"""Fixtures of the engine tests."""
import pytest
from tiny_detection import make_tiny_coco


@pytest.fixture
def tiny_coco(tmp_path):
    """Data root of a 4-image, 2-class COCO dataset of 64 px images."""
    root = tmp_path / 'data'
    (root / 'images').mkdir(parents=True)
    make_tiny_coco(str(root))
    return str(root)
