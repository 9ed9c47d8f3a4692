"""tools/analysis_tools/t2_complexity.py on the light T2 model."""
import json
import os.path as osp

import pytest
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL = osp.join(REPO, 'configs', '_base_', 'models',
                 't2_yolov3_mobilenetv2.py')
t2_complexity = load_tool('analysis_tools/t2_complexity')


def test_rows_table_and_training_time(tmp_path, capsys):
    out = tmp_path / 'cost' / 't2.json'
    results = t2_complexity.main([
        f'{MODEL}:64x96', '--train-batch', '1', '--train-iters', '2', '--out',
        str(out)
    ])
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    rows = results['t2_yolov3_mobilenetv2@64x96']
    added = ('enhancer (inference)', 'illumination guidance',
             'semantic aggregation neck')
    for key in ('params', 'flops'):
        assert rows['T2 additions'][key] == sum(rows[r][key] for r in added)
        assert all(rows[r][key] > 0 for r in added)
    # FLOPs of the T2 detector: the plain one's plus the additions
    assert rows['T2 detector']['flops'] == pytest.approx(
        rows['plain detector']['flops'] + rows['T2 additions']['flops'],
        rel=0.01)
    assert rows['T2 detector']['params'] == (
        rows['plain detector']['params'] + rows['T2 additions']['params'] +
        rows['(training only) self-calibration']['params'])
    assert rows['plain detector']['train_s'] > 0
    assert rows['T2 detector']['train_s'] > 0
    printed = capsys.readouterr().out
    assert '**t2_yolov3_mobilenetv2 @ 64x96**' in printed
    assert '| semantic aggregation neck |' in printed
    assert 'training iteration (median): plain' in printed


def test_bad_setting_is_refused(capsys):
    with pytest.raises(SystemExit):
        t2_complexity.parse_args([f'{MODEL}:64by96'])
    assert 'expected CONFIG:HxW' in capsys.readouterr().err
