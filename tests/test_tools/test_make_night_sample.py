"""tools/misc/make_night_sample.py: raw ExDark layout, determinism, and a
sample that is learnable yet not trivial."""
import hashlib
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from lowlight.datasets import EXDARK_CLASSES, EXDARK_LIGHTS
from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import generate_night_sample
from lowlight.datasets.night_sample.generator import _plan
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]


def _load_tool():
    return load_tool('misc/make_night_sample')


def _digest(root: Path) -> dict:
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob('*')) if p.is_file()
    }


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp('night') / 'sample'
    generate_night_sample(str(root), seed=0, num_train=40, num_val=10,
                          num_test=20, size=320)
    return root


def test_raw_exdark_layout(sample):
    data = (sample / 'imageclasslist.txt').read_bytes()
    assert data.startswith(b'Name | Class | Light | In/Out | '
                           b'Train/Val/Test\r\n')
    assert data.count(b'\n') == data.count(b'\r\n') == 71
    rows = [line.split() for line in data.decode().splitlines()[1:]]
    assert Counter(r[4] for r in rows) == {'1': 40, '2': 10, '3': 20}
    assert {d.name for d in (sample / 'ExDark').iterdir()} <= set(
        EXDARK_CLASSES)
    anns = list((sample / 'ExDark_Annno').rglob('*.txt'))
    assert anns
    for ann in anns:
        text = ann.read_bytes()
        assert text.startswith(b'% bbGt version=3\r\n')
        assert text.count(b'\n') == text.count(b'\r\n')
        for line in text.decode().splitlines()[1:]:
            fields = line.split()
            assert len(fields) == 12 and fields[0].capitalize() in \
                EXDARK_CLASSES
        image = sample / 'ExDark' / ann.parent.name / ann.name[:-4]
        assert image.is_file()


def test_plan_of_the_default_sample():
    plan = _plan(0, 400, 100, 200)
    assert Counter(p['split'] for p in plan) == {1: 400, 2: 100, 3: 200}
    test = [p for p in plan if p['split'] == 3]
    lights = Counter(p['light'] for p in test)
    assert len(lights) >= 4 and min(lights.values()) >= 10, lights
    assert len({p['primary'] for p in test}) >= 4
    exts = {p['ext'] for p in plan}
    assert {'.jpg', '.JPG', '.png'} <= exts
    assert any(p['list_ext'] != p['ext'] for p in plan)  # case differs
    assert any(p['indoor'] for p in test) and not all(p['indoor']
                                                       for p in test)


def test_converts_cleanly_and_is_learnable_not_trivial(sample, tmp_path):
    result = convert_exdark(str(sample), str(tmp_path))
    assert not result.report.skipped
    counts = result.report.counts()
    assert counts['class_name_case'] > 0 and counts['name_case'] > 0
    records = [r for s in result.splits.values() for r in s]
    assert len(records) == 70
    sizes, brightness = [], defaultdict(list)
    builder = result.builder
    for rec in records:
        for _, (x1, y1, x2, y2) in builder.boxes[rec['id']]:
            sizes.append(np.sqrt((x2 - x1) * (y2 - y1)))
        img = cv2.imread(str(sample / rec['file_name']))
        assert img.shape == (240, 320, 3)
        brightness[rec['light_name']].append(img.mean())
    sizes = np.array(sizes)
    assert len(sizes) >= 100  # about 2.4 objects per image
    small = (sizes < 24).mean()
    assert 0.02 < small < 0.3, small  # mostly >= 24 px, a few smaller
    means = {k: np.mean(v) for k, v in brightness.items()}
    assert len(means) >= 4
    # lighting types look different: 'Low' is the darkest, but not black
    assert 5 < means['Low'] < min(v for k, v in means.items() if k != 'Low')
    assert set(means) <= set(EXDARK_LIGHTS.values())


def test_deterministic_idempotent_and_safe(tmp_path, capsys):
    kwargs = dict(seed=1, num_train=3, num_val=1, num_test=2, size=128)
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    assert generate_night_sample(str(a), **kwargs) is not None
    assert generate_night_sample(str(b), workers=2, **kwargs) is not None
    assert _digest(a) == _digest(b)
    generate_night_sample(str(c), **dict(kwargs, seed=2))
    assert _digest(a) != _digest(c)
    # same settings again: nothing to do; other settings: regenerated
    assert generate_night_sample(str(a), **kwargs) is None
    assert generate_night_sample(str(a), **dict(kwargs, seed=2)) is not None
    assert _digest(a) == _digest(c)
    # a folder that is not a night sample is never replaced silently
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'keep.txt').write_text('mine')
    tool = _load_tool()
    assert tool.main([str(foreign), '--num-train', '1', '--num-val', '1',
                      '--num-test', '1', '--size', '128']) == 2
    assert 'not a night sample' in capsys.readouterr().err
    assert (foreign / 'keep.txt').read_text() == 'mine'
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]
    assert tool.main([str(a), '--seed', '2', '--num-train', '3',
                      '--num-val', '1', '--num-test', '2', '--size',
                      '128']) == 0
    assert 'already up to date' in capsys.readouterr().out
