"""tools/dataset_converters/exdark.py on tiny raw trees built here."""
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from lowlight.datasets import EXDARK_CLASSES
from lowlight.datasets.converters import (ConversionError, ConversionResult,
                                          convert_exdark)
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
HEADER = 'Name | Class | Light | In/Out | Train/Val/Test'


def _load_tool():
    return load_tool('dataset_converters/exdark')


TOOL = _load_tool()


def _image(path: Path, w: int, h: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = '.png' if path.suffix.lower() == '.png' else '.jpg'
    ok, buf = cv2.imencode(ext, np.full((h, w, 3), 60, np.uint8))
    assert ok
    path.write_bytes(buf.tobytes())


def _text(path: Path, lines) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(('\r\n'.join(lines) + '\r\n').encode())


def _bbgt(*objects):
    return ['% bbGt version=3'] + [f'{o} 0 0 0 0 0 0 0' for o in objects]


def _quirky_tree(root: Path) -> Path:
    _image(root / 'ExDark' / 'People' / 'a.JPG', 40, 30)
    _text(root / 'ExDark_Annno' / 'People' / 'a.JPG.txt',
          _bbgt('people 5 6 10 12', 'Car 30 20 20 20', 'Car 50 50 5 5'))
    _image(root / 'ExDark' / 'car' / 'b.png', 20, 20)  # no annotation
    _image(root / 'ExDark' / 'Bicycle' / 'c.jpeg', 16, 16)
    _text(root / 'ExDark_Annno' / 'Bicycle' / 'c.jpeg.txt',
          _bbgt('Bicycle 0 0 4 4'))
    _text(root / 'imageclasslist.txt', [
        HEADER, 'a.jpg 11 4 2 3', 'b.png 5 1 1 1', 'c.jpeg 1 10 2 2'
    ])
    return root


def _json(root: Path, name: str) -> dict:
    return json.loads((root / 'annotations' / name).read_text())


def test_quirks_are_fixed_and_reported(tmp_path, capsys):
    raw = _quirky_tree(tmp_path / 'raw')
    assert TOOL.main([str(raw), str(raw)]) == 0
    out = capsys.readouterr().out
    test = _json(raw, 'exdark_test.json')
    assert [c['name'] for c in test['categories']] == list(EXDARK_CLASSES)
    assert [c['id'] for c in test['categories']] == list(range(1, 13))
    (img, ) = test['images']
    assert img['file_name'] == 'ExDark/People/a.JPG'  # the name on disk
    assert (img['width'], img['height']) == (40, 30)
    assert (img['light'], img['light_name'], img['in_out'],
            img['image_class']) == (4, 'Single', 2, 'People')
    boxes = sorted((a['category_id'], a['bbox']) for a in test['annotations'])
    # 'people' read as People; l t w h -> COCO xywh; the second Car box is
    # clipped to the 40x30 image, the third lies outside and is dropped
    assert boxes == [(5, [30.0, 20.0, 10.0, 10.0]),
                     (11, [5.0, 6.0, 10.0, 12.0])]
    train = _json(raw, 'exdark_train.json')
    assert [i['file_name'] for i in train['images']] == ['ExDark/car/b.png']
    assert train['annotations'] == []  # kept as a negative
    val = _json(raw, 'exdark_val.json')
    assert val['images'][0]['light_name'] == 'Twilight'
    assert (raw / 'annotations' / 'exdark_val.txt').read_text() == \
        'ExDark/Bicycle/c.jpeg\n'
    report = (raw / 'annotations' / 'exdark_report.txt').read_text()
    for kind, where in (('class_name_case', 'a.JPG.txt:2'),
                        ('box_clipped', 'a.JPG.txt:3'),
                        ('box_dropped', 'a.JPG.txt:4'),
                        ('name_case', 'imageclasslist.txt:2'),
                        ('no_annotation_kept_as_negative', 'b.png')):
        assert f'{kind}: 1' in out
        assert any(kind in line and where in line
                   for line in report.splitlines()), (kind, report)
    assert 'conversion check' in out
    assert 'images train/val/test: expected 3000/1800/2563, got 1/1/1' in out
    assert 'test boxes per class: expected 418/515/433/164/919/425/609/' \
        '356/490/242/2235/311, got 0/0/0/0/1/0/0/0/0/0/1/0' in out
    # per-class box counts per split
    assert any(line.split() == ['People', '0', '0', '1']
               for line in out.splitlines())


@pytest.mark.parametrize('lines,message,line_no', [
    (['% bbGt version=3', 'People 1 2 3 4 0 0 0'], 'expected 12 fields', 2),
    (['% bbGt version=3', 'People 1 2 x 4 0 0 0 0 0 0 0'], 'non-numeric box',
     2),
    (['% bbGt version=2', 'People 1 2 3 4 0 0 0 0 0 0 0'],
     'expected header', 1),
    (['% bbGt version=3', '', 'Horse 1 2 3 4 0 0 0 0 0 0 0'],
     'unknown class', 3),
])
def test_bad_file_is_skipped_with_file_and_line(tmp_path, capsys, lines,
                                                message, line_no):
    raw = _quirky_tree(tmp_path / 'raw')
    _text(raw / 'ExDark_Annno' / 'People' / 'a.JPG.txt', lines)
    assert TOOL.main([str(raw), str(tmp_path / 'out')]) == 1
    captured = capsys.readouterr()
    assert 'SKIPPED 1 file(s)' in captured.out
    assert f'a.JPG.txt:{line_no}' in captured.out and message in \
        captured.out
    assert '--skip-bad' in captured.err
    # the other files are converted, the bad one is left out
    assert _json(tmp_path / 'out', 'exdark_test.json')['images'] == []
    assert len(_json(tmp_path / 'out', 'exdark_train.json')['images']) == 1
    assert TOOL.main([str(raw), str(tmp_path / 'out'), '--skip-bad']) == 0


def test_paths_outside_the_root_are_refused(tmp_path, capsys):
    raw = _quirky_tree(tmp_path / 'raw')
    _image(tmp_path / 'secret.jpg', 8, 8)
    os.symlink(tmp_path / 'secret.jpg', raw / 'ExDark' / 'People' / 'l.jpg')
    lines = (raw / 'imageclasslist.txt').read_text().splitlines()
    _text(raw / 'imageclasslist.txt',
          lines + ['../../../secret.jpg 11 1 1 1', 'l.jpg 11 1 1 1'])
    result = convert_exdark(str(raw), str(tmp_path / 'out'))
    reasons = [reason for _, _, reason in result.report.skipped]
    assert len(reasons) == 2 and all('outside' in r for r in reasons)
    names = [i['file_name'] for i in result.splits['train']]
    assert names == ['ExDark/car/b.png']


def test_bad_list_rows_and_duplicates_are_skipped(tmp_path):
    raw = _quirky_tree(tmp_path / 'raw')
    lines = (raw / 'imageclasslist.txt').read_text().splitlines()
    _text(raw / 'imageclasslist.txt',
          lines + ['b.png 5 1 1 1', 'x.jpg 13 1 1 1', 'y.jpg 1 1 1'])
    result = convert_exdark(str(raw), str(tmp_path / 'out'))
    skipped = {n: r for _, n, r in result.report.skipped}
    assert 'duplicate image' in skipped[5]
    assert 'Class value 13 out of range' in skipped[6]
    assert 'expected 5 columns' in skipped[7]


def test_missing_inputs_give_one_clear_error(tmp_path, capsys):
    raw = _quirky_tree(tmp_path / 'raw')
    (raw / 'imageclasslist.txt').unlink()
    assert TOOL.main([str(raw), str(tmp_path / 'out')]) == 2
    err = capsys.readouterr().err
    assert 'image list imageclasslist.txt not found' in err
    assert '--class-list' in err and 'Traceback' not in err
    raw = _quirky_tree(tmp_path / 'raw2')
    (raw / 'ExDark').rename(raw / 'images')
    assert TOOL.main([str(raw), str(tmp_path / 'out')]) == 2
    assert 'image folder not found' in capsys.readouterr().err
    # the flags point at a different layout
    assert TOOL.main([str(raw), str(tmp_path / 'out'), '--img-dir',
                      str(raw / 'images')]) == 0
    (raw / 'imageclasslist.txt').write_text('hello world\n')
    with pytest.raises(ConversionError, match='not an ExDark image list'):
        convert_exdark(str(raw), str(tmp_path / 'out'),
                       img_dir=str(raw / 'images'))


def _random_split_tree(root: Path) -> Path:
    rows = [HEADER]
    for cls, count in (('People', 10), ('Car', 5)):
        for i in range(count):
            name = f'{cls}_{i}.jpg'
            _image(root / 'ExDark' / cls / name, 8, 8)
            _text(root / 'ExDark_Annno' / cls / f'{name}.txt',
                  _bbgt(f'{cls} 1 1 4 4'))
            rows.append(f'{name} {EXDARK_CLASSES.index(cls) + 1} 1 1 '
                        f'{1 + i % 3}')
    _text(root / 'imageclasslist.txt', rows)
    return root


def test_random_80_20_split_per_class_with_file_lists(tmp_path, capsys):
    raw = _random_split_tree(tmp_path / 'raw')
    assert TOOL.main([str(raw), str(raw), '--split', 'random-80-20',
                      '--seed', '3']) == 0
    assert 'expected 5896/1467, got 12/3' in capsys.readouterr().out
    ann = raw / 'annotations'
    train = (ann / 'exdark_random8020_seed3_train.txt').read_text().split()
    test = (ann / 'exdark_random8020_seed3_test.txt').read_text().split()
    # ceil(0.8 * n) of each image-level class goes to train
    assert sum('People' in n for n in train) == 8
    assert sum('Car' in n for n in train) == 4
    assert sorted(train + test) == sorted(
        f'ExDark/{c}/{c}_{i}.jpg' for c, n in (('People', 10), ('Car', 5))
        for i in range(n))
    coco = _json(raw, 'exdark_random8020_seed3_test.json')
    assert [i['file_name'] for i in coco['images']] == test
    again = convert_exdark(str(raw), str(tmp_path / 'again'),
                           split='random-80-20', seed=3)
    assert [i['file_name'] for i in again.splits['test']] == test
    assert isinstance(again, ConversionResult)
    assert again.split == 'random-80-20' and again.outputs == [
        str(tmp_path / 'again' / 'annotations' /
            f'exdark_random8020_seed3_{s}.json') for s in ('train', 'test')
    ]
    other = convert_exdark(str(raw), str(tmp_path / 'other'),
                           split='random-80-20', seed=4)
    assert [i['file_name'] for i in other.splits['test']] != test


def test_misplaced_unlisted_and_orphan_files_are_reported(tmp_path):
    raw = _quirky_tree(tmp_path / 'raw')
    # listed as People but stored under Bicycle; an unlisted image; an
    # annotation file without image
    _image(raw / 'ExDark' / 'Bicycle' / 'd.jpg', 10, 10)
    _image(raw / 'ExDark' / 'People' / 'stray.jpg', 10, 10)
    _text(raw / 'ExDark_Annno' / 'People' / 'ghost.jpg.txt',
          _bbgt('People 1 1 2 2'))
    lines = (raw / 'imageclasslist.txt').read_text().splitlines()
    _text(raw / 'imageclasslist.txt', lines + ['d.jpg 11 1 1 1'])
    result = convert_exdark(str(raw), str(tmp_path / 'out'))
    counts = result.report.counts()
    assert counts['image_in_other_class_folder'] == 1
    assert counts['unlisted_image_ignored'] == 1
    assert counts['unused_annotation_file'] == 1
    names = [i['file_name'] for i in result.splits['train']]
    assert names == ['ExDark/car/b.png', 'ExDark/Bicycle/d.jpg']
    assert not result.report.skipped


def test_relative_raw_root_with_absolute_data_root(tmp_path, monkeypatch):
    _quirky_tree(tmp_path / 'raw')
    monkeypatch.chdir(tmp_path)
    result = convert_exdark('raw', 'out', data_root=str(tmp_path))
    names = sorted(i['file_name'] for s in result.splits.values()
                   for i in s)
    assert names == ['raw/ExDark/Bicycle/c.jpeg', 'raw/ExDark/People/a.JPG',
                     'raw/ExDark/car/b.png']
    assert 'unlisted_image_ignored' not in result.report.counts()
    assert 'unused_annotation_file' not in result.report.counts()
