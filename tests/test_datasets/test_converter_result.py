"""lowlight.datasets.converters.result: the one writer of every
converter's splits, file lists and report, and the typed result."""
import json

from lowlight.datasets.converters import (ConversionReport, ConversionResult,
                                          write_splits)
from lowlight.datasets.converters.coco import CocoBuilder


def test_write_splits_writes_each_split_its_list_and_the_report(tmp_path):
    builder = CocoBuilder(('cat', 'dog'))
    a = builder.add_image(
        dict(file_name='a.png', width=8, height=6),
        [(1, [1.0, 1.0, 3.0, 4.0])])
    b = builder.add_image(dict(file_name='sub/b.png', width=4, height=4), [])
    report = ConversionReport()
    report.anomaly('box_clipped', 'a.txt', 2, 'clipped')
    result = write_splits(
        str(tmp_path),
        'toy', {
            'train': [a],
            'val': [b]
        },
        builder,
        report,
        'toy conversion',
        split='fixed')

    assert isinstance(result, ConversionResult)
    ann = tmp_path / 'annotations'
    assert result.outputs == [
        str(ann / 'toy_train.json'),
        str(ann / 'toy_val.json')
    ]
    assert result.report_path == str(ann / 'toy_report.txt')
    assert result.splits == {'train': [a], 'val': [b]}
    assert result.builder is builder and result.report is report
    assert result.split == 'fixed'
    train = json.loads((ann / 'toy_train.json').read_text())
    assert [i['file_name'] for i in train['images']] == ['a.png']
    assert train['annotations'][0]['bbox'] == [1.0, 1.0, 2.0, 3.0]
    assert train['annotations'][0]['category_id'] == 2
    val = json.loads((ann / 'toy_val.json').read_text())
    assert val['annotations'] == [] and len(val['images']) == 1
    assert (ann / 'toy_train.txt').read_text() == 'a.png\n'
    assert (ann / 'toy_val.txt').read_text() == 'sub/b.png\n'
    text = (ann / 'toy_report.txt').read_text()
    assert text.startswith('toy conversion\n')
    assert '[box_clipped] a.txt:2: clipped' in text
    assert sorted(p.name for p in ann.iterdir()) == [
        'toy_report.txt', 'toy_train.json', 'toy_train.txt', 'toy_val.json',
        'toy_val.txt'
    ]  # no temporary file left over
