"""lowlight.analysis.comparison: variants and schedules, the summary, and a
run's AP read from the breakdown file the metric writes (never from the
console)."""
import json
import os
import os.path as osp
import stat
import sys

import pytest

from lowlight.analysis.comparison import runs, variants
from lowlight.analysis.comparison.summary import per_seed_ap50, summarise

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
T2 = variants.VARIANTS['t2'][1]
# what LightingAwareVOCMetric writes (keys without the evaluator's prefix)
BREAKDOWN = dict(
    iou_thr=0.5,
    overall=dict(images=2, boxes=3, mAP=0.625),
    metrics=dict(
        mAP=0.625,
        recall=0.75,
        AP50_Car=0.5,
        AP50_light_Low=0.25,
        AP50_indoor=0.5))
# a console line and a logger json that disagree with the file
CONSOLE = ('Epoch(test) [2][2/2]    voc/mAP: 0.0100  '
           'voc/AP50_light_Low: 0.0100')


def _fake_test_py(path, writes=True):
    """An executable standing in for ``python``: run as ``python
    tools/test.py CONFIG CKPT --work-dir DIR ...``, it prints a progress
    line with other numbers and (if ``writes``) the breakdown file."""
    path.write_text(f'#!{sys.executable}\n'
                    'import json, os, sys\n'
                    'argv = sys.argv[1:]\n'
                    "work_dir = argv[argv.index('--work-dir') + 1]\n"
                    'os.makedirs(work_dir, exist_ok=True)\n'
                    f'print({CONSOLE!r})\n' +
                    (f'json.dump({BREAKDOWN!r}, open(os.path.join(work_dir, '
                     "'lighting_eval_test.json'), 'w'))\n" if writes else ''))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_ap_comes_from_the_lighting_eval_file(tmp_path):
    test_dir = tmp_path / 'run' / 'test'
    (test_dir / '20260101_000000').mkdir(parents=True)
    (test_dir / 'lighting_eval_test.json').write_text(json.dumps(BREAKDOWN))
    # mmengine's logger json and the console say otherwise: not read
    (test_dir / '20260101_000000' /
     '20260101_000000.json').write_text(json.dumps({'voc/mAP': 0.01}) + '\n')
    (tmp_path / 'run' / 'test.log').write_text(CONSOLE + '\n')
    cfg = variants.merged_config(T2, [])
    assert runs.lighting_eval_file(cfg, str(test_dir)) == (str(
        test_dir / 'lighting_eval_test.json'), 'voc')
    metrics = runs.read_test_metrics(cfg, str(test_dir))
    assert metrics == {
        'voc/mAP': 0.625,
        'voc/recall': 0.75,
        'voc/AP50_Car': 0.5,
        'voc/AP50_light_Low': 0.25,
        'voc/AP50_indoor': 0.5
    }
    result = dict(seed=0, metrics=metrics)
    assert per_seed_ap50({'t2': [result]}) == {'t2': {'0': 62.5}}
    summary, _ = summarise({'t2': [result]}, ['t2'], {'t2': 'T2'})
    assert summary['t2']['overall']['values'] == [0.625]
    assert summary['t2']['Low']['values'] == [0.25]

    (test_dir / 'lighting_eval_test.json').unlink()
    with pytest.raises(FileNotFoundError, match='lighting_eval_test.json'):
        runs.read_test_metrics(cfg, str(test_dir))


def test_val_ap_is_read_from_the_train_dir_and_summarised(tmp_path):
    train_dir = tmp_path / 't2' / 'seed0' / 'train'
    train_dir.mkdir(parents=True)
    (train_dir / 'lighting_eval_val.json').write_text(json.dumps(BREAKDOWN))
    cfg = variants.merged_config(T2, [])
    val_metrics = runs.read_val_metrics(cfg, str(train_dir))
    assert val_metrics['voc/mAP'] == 0.625
    assert runs.read_val_metrics(cfg, str(tmp_path)) == {}
    with_val = dict(seed=0, metrics={'voc/mAP': 0.5}, val_metrics=val_metrics)
    without_val = dict(seed=1, metrics={'voc/mAP': 0.4})  # an older result
    results = {'t2': [with_val, without_val]}
    assert per_seed_ap50(results, 'val_metrics') == {'t2': {'0': 62.5}}
    summary, table = summarise(results, ['t2'], {'t2': 'T2'})
    assert summary['t2']['val']['values'] == [0.625]
    assert summary['t2']['overall']['values'] == [0.5, 0.4]
    assert 'val AP@0.5' in table and '| 62.5 |' in table


def test_lighting_eval_file_follows_the_metric_config(tmp_path):
    cfg = variants.merged_config(T2, [
        f'test_evaluator.out_dir={tmp_path}', 'test_evaluator.out_name=x.json',
        'test_evaluator.prefix=night'
    ])
    assert runs.lighting_eval_file(cfg, 'unused') == (str(tmp_path / 'x.json'),
                                                      'night')
    cfg = variants.merged_config(T2, ['test_evaluator.out_dir=rel'])
    assert runs.lighting_eval_file(cfg, 'unused')[0] == osp.join(
        REPO, 'rel', 'lighting_eval_test.json')  # from the repository root
    cfg.test_evaluator = [dict(type='VOCMetric'), dict(cfg.test_evaluator)]
    assert runs.lighting_eval_file(cfg, 'd')[0] == osp.join(
        REPO, 'rel', 'lighting_eval_test.json')
    cfg.test_evaluator = dict(type='VOCMetric')
    with pytest.raises(ValueError, match='no LightingAwareVOCMetric'):
        runs.lighting_eval_file(cfg, 'd')


def test_a_reference_run_reads_its_ap_from_the_file(tmp_path):
    python = _fake_test_py(tmp_path / 'python')
    configs = {'plain': variants.VARIANTS['plain'][1]}
    progress = []
    result = runs.run_reference(python, 'zero_shot', 0, configs,
                                str(tmp_path / 'cmp'), [], progress.append)
    assert result['epochs'] == 0 and result['metrics']['voc/mAP'] == 0.625
    assert result['metrics']['voc/AP50_light_Low'] == 0.25
    assert progress == ['test epoch 2 iter 2/2']  # the console: progress
    log = (tmp_path / 'cmp' / 'zero_shot' / 'seed0' / 'test.log').read_text()
    assert CONSOLE in log


def test_a_test_that_writes_no_breakdown_fails_and_a_stale_one_is_gone(
        tmp_path):
    python = _fake_test_py(tmp_path / 'python', writes=False)
    test_dir = tmp_path / 'test'
    test_dir.mkdir()
    stale = test_dir / 'lighting_eval_test.json'
    stale.write_text(json.dumps(BREAKDOWN))  # left by an interrupted run
    with pytest.raises(FileNotFoundError, match='wrote none'):
        runs.run_test(python, T2, 'ckpt.pth', str(test_dir), [],
                      str(tmp_path / 'test.log'), lambda _: None,
                      dict(os.environ))
    assert not stale.exists()


def test_variant_configs_and_run_order():
    assert variants.variant_configs(['t2', 'plain'], ['plain=x.py']) == {
        't2': T2,
        'plain': 'x.py'
    }
    for bad in (dict(variants=['preprocess']),
                dict(variants=['t2'], overrides=['nope=x.py']),
                dict(variants=['t2'],
                     overrides=['t2']), dict(variants=['imagenet'])):
        with pytest.raises(ValueError):
            variants.variant_configs(**bad)
    assert variants.run_order(['preprocess', 't2'],
                              [1, 0]) == [('t2', 1), ('preprocess', 1),
                                          ('t2', 0), ('preprocess', 0)]
    assert set(variants.descriptions()) == set(variants.VARIANTS) | set(
        variants.REFERENCES)


def test_summary_statistics():

    def run(seed, overall, low):
        return dict(
            seed=seed,
            metrics={
                'voc/mAP': overall,
                'voc/AP50_light_Low': low,
                'voc/AP50_Car': 0.9
            })

    results = {
        't2': [run(0, 0.5, 0.2), run(1, 0.7, 0.4)],
        'plain': [run(0, 0.4, 0.1)]
    }
    summary, table = summarise(results, ['plain', 't2'], {
        'plain': 'plain',
        't2': 'T2'
    })
    assert summary['t2']['overall']['mean'] == pytest.approx(0.6)
    assert summary['t2']['overall']['sd'] == pytest.approx(0.1414, abs=1e-4)
    assert summary['plain']['overall']['sd'] is None
    assert summary['t2']['Low']['mean'] == pytest.approx(0.3)
    assert 'Car' not in summary['t2']  # a class, not a lighting type
    assert '| T2 (`t2`) | 2 | 60.0 ± 14.1 | 30.0 ± 14.1 |  |  |  |' in table
    assert '| plain (`plain`) | 1 | 40.0 | 10.0 |' in table
    # decomposition scores: the mean over the seeds that have them
    for i, corr in enumerate((0.5, 0.7)):
        results['t2'][i]['decomposition'] = dict(
            log_corr=corr,
            si_log_error=0.4,
            smoothness=0.1 + i,
            true_smoothness=0.3,
            images=4)
    summary, table = summarise(results, ['plain', 't2'], {
        'plain': 'plain',
        't2': 'T2'
    })
    assert summary['t2']['decomposition']['log_corr'] == pytest.approx(0.6)
    assert '| T2 (`t2`) | 2 | 60.0 ± 14.1 | 30.0 ± 14.1 |  | +0.60 | 0.60 |' \
        in table
    assert 'decomposition' not in summary['plain']


def test_pretrained_protocol_needs_every_variant_to_load_weights(tmp_path):
    configs = {n: cfg for n, (_, cfg) in variants.VARIANTS.items()}
    weights = tmp_path / 'pretrained.pth'
    weights.write_bytes(b'')
    variants.check_pretrained(configs, [f'load_from={weights}'])
    for name, config in configs.items():  # every variant fine-tunes it
        cfg = variants.merged_config(config, [f'load_from={weights}'])
        assert cfg.load_from == str(weights), name
    with pytest.raises(
            SystemExit,
            match='t2: load_from .*missing.pth not '
            'found.*--protocol scratch'):
        variants.check_pretrained(configs,
                                  [f'load_from={tmp_path / "missing.pth"}'])
    with pytest.raises(SystemExit, match='plain .* has no load_from'):
        variants.check_pretrained(configs, ['load_from=None'])


def test_schedule_options_shorten_the_whole_schedule():
    from mmengine.config import Config
    config = variants.VARIANTS['t2'][1]
    options = variants.schedule_options(config, 3)
    assert options == [
        'train_cfg.max_epochs=3', 'train_cfg.val_interval=3',
        'param_scheduler.1.end=3'
    ]  # the iteration-based warm-up (param_scheduler.0) is left alone
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.merge_from_dict({
        key: int(value)
        for key, value in (option.split('=') for option in options)
    })
    assert cfg.train_cfg.max_epochs == 3 and cfg.train_cfg.val_interval == 3
    assert cfg.param_scheduler[1].end == 3
    assert cfg.param_scheduler[0].end == 50
