"""tools/dataset_converters/darkface.py on tiny raw trees built here."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lowlight.datasets.converters import (ConversionError, ConversionResult,
                                          convert_darkface)
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]


def _load_tool():
    return load_tool('dataset_converters/darkface')


TOOL = _load_tool()


def _tree(root: Path, labels: dict, sizes: dict) -> Path:
    (root / 'image').mkdir(parents=True)
    (root / 'label').mkdir(parents=True)
    for name, (w, h) in sizes.items():
        ok, buf = cv2.imencode('.png', np.zeros((h, w, 3), np.uint8))
        (root / 'image' / f'{name}.png').write_bytes(buf.tobytes())
    for name, lines in labels.items():
        (root / 'label' / f'{name}.txt').write_bytes(
            ('\r\n'.join(lines) + '\r\n').encode())
    return root


def _good_tree(root: Path) -> Path:
    return _tree(
        root, {
            '1': ['2', '1 2 11 12', '30 25 50 35'],
            '2': ['3', '0 0 5 5'],
            '9': ['1', '0 0 1 1'],
        }, {'1': (40, 30), '2': (20, 20), '3': (20, 20)})


def test_convert_split_and_anomalies(tmp_path, capsys):
    raw = _good_tree(tmp_path / 'raw')
    assert TOOL.main([str(raw), str(raw), '--num-val', '1']) == 0
    out = capsys.readouterr().out
    ann = raw / 'annotations'
    train = json.loads((ann / 'darkface_train.json').read_text())
    val = json.loads((ann / 'darkface_val.json').read_text())
    assert train['categories'] == [dict(id=1, name='face')]
    assert len(train['images']) == 2 and len(val['images']) == 1
    images = {i['file_name']: i for i in train['images'] + val['images']}
    assert set(images) == {'image/1.png', 'image/2.png', 'image/3.png'}
    boxes = sorted(a['bbox'] for a in train['annotations'] +
                   val['annotations']
                   if a['image_id'] == images['image/1.png']['id'])
    # xmin ymin xmax ymax -> xywh; the second box is clipped to 40x30
    assert boxes == [[1.0, 2.0, 10.0, 10.0], [30.0, 25.0, 10.0, 5.0]]
    lists = [(ann / f'darkface_{s}.txt').read_text().split()
             for s in ('train', 'val')]
    assert lists[0] == [i['file_name'] for i in train['images']]
    assert lists[1] == [i['file_name'] for i in val['images']]
    report = (ann / 'darkface_report.txt').read_text()
    assert 'count_mismatch' in report and '2.txt:1' in report
    assert 'no_label_kept_as_negative' in report and '3.png' in report
    assert 'label_without_image' in report and '9.txt' in report
    assert 'box_clipped' in report and '1.txt:3' in report
    assert 'expected 5500/500, got 2/1 -> DIFFERENT' in out
    # the split is fixed by the seed
    again = convert_darkface(str(raw), str(tmp_path / 'again'), num_val=1)
    assert isinstance(again, ConversionResult) and again.split is None
    assert again.outputs == [
        str(tmp_path / 'again' / 'annotations' / f'darkface_{s}.json')
        for s in ('train', 'val')
    ]
    assert [i['file_name'] for i in again.splits['val']] == lists[1]


@pytest.mark.parametrize('lines,message,line_no', [
    (['1', '1 2 x 4'], 'non-numeric box', 2),
    (['1', '1 2 3'], 'expected 4 fields', 2),
    (['one', '1 2 3 4'], 'not an integer', 1),
    ([''], 'missing the face count', 1),
])
def test_bad_label_skipped(tmp_path, capsys, lines, message, line_no):
    raw = _good_tree(tmp_path / 'raw')
    _tree(tmp_path / 'extra', {'4': lines}, {'4': (10, 10)})
    (tmp_path / 'extra' / 'image' / '4.png').rename(raw / 'image' / '4.png')
    (tmp_path / 'extra' / 'label' / '4.txt').rename(raw / 'label' / '4.txt')
    assert TOOL.main([str(raw), str(raw), '--num-val', '1']) == 1
    out = capsys.readouterr().out
    assert f'4.txt:{line_no}' in out and message in out
    val = json.loads((raw / 'annotations' / 'darkface_val.json').read_text())
    train = json.loads(
        (raw / 'annotations' / 'darkface_train.json').read_text())
    assert len(val['images']) + len(train['images']) == 3
    assert TOOL.main([str(raw), str(raw), '--num-val', '1',
                      '--skip-bad']) == 0


def test_missing_folder_and_too_few_images(tmp_path, capsys):
    raw = _good_tree(tmp_path / 'raw')
    assert TOOL.main([str(raw), str(raw)]) == 2  # 3 images, 500 for val
    assert 'not more than the 500 requested' in capsys.readouterr().err
    (raw / 'label').rename(raw / 'labels')
    assert TOOL.main([str(raw), str(raw), '--num-val', '1']) == 2
    err = capsys.readouterr().err
    assert 'label folder not found' in err and 'Traceback' not in err
    with pytest.raises(ConversionError, match='image folder not found'):
        convert_darkface(str(tmp_path / 'nothing'), str(tmp_path))
