"""Fixtures shared by the tool tests."""
import pytest

from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import generate_night_sample


@pytest.fixture(scope='session')
def tiny_night_sample(tmp_path_factory):
    """A converted night sample of 4 train / 2 val / 2 test images of 96x72;
    its root, ending in '/'."""
    root = str(tmp_path_factory.mktemp('night') / 'sample')
    generate_night_sample(
        root, seed=0, num_train=4, num_val=2, num_test=2, size=96, workers=1)
    convert_exdark(root, root)
    return root + '/'
