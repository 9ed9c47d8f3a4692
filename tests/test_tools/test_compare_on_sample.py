"""tools/analysis_tools/compare_on_sample.py end to end, and the parts of
lowlight.analysis.comparison it is made of."""
import json
import os
import os.path as osp

import pytest
from tiny_loader_options import tiny_loader_options
from tool_loader import load_tool

from lowlight.analysis.comparison import data, runs, variants

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
compare = load_tool('analysis_tools/compare_on_sample')


def _tiny_options(data_root):
    return ['default_hooks.logger.interval=1'] + tiny_loader_options(
        data_root, 64)


@pytest.fixture(scope='module')
def plain_pretrained(tmp_path_factory):
    """A (random) checkpoint of the plain variant's model: the stand-in for
    the day-corpus pretrained detector."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(
        Config.fromfile(osp.join(REPO, variants.VARIANTS['plain'][1])).model)
    path = tmp_path_factory.mktemp('pretrained') / 'plain.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def test_end_to_end_and_resume(tiny_night_sample, plain_pretrained, tmp_path,
                               capsys):
    work_dir = tmp_path / 'cmp'
    argv = [
        '--variants', 't2', 'preprocess', '--seeds', '3', '--epochs', '1',
        '--work-dir',
        str(work_dir), '--cfg-options', *_tiny_options(tiny_night_sample),
        f'load_from={plain_pretrained}'
    ]
    summary = compare.main(argv)
    out = capsys.readouterr().out
    assert '2 to run' in out and '[1/2] t2 seed 3' in out
    assert '[2/2] preprocess seed 3' in out  # T2 first: its enhancer is reused

    t2 = json.loads((work_dir / 't2' / 'seed3' / 'result.json').read_text())
    assert t2['seed'] == 3 and t2['epochs'] == 1
    assert 0 <= t2['metrics']['voc/mAP'] <= 1
    assert osp.isfile(work_dir / 't2' / 'seed3' / t2['checkpoint'])
    # the pre-processing baseline loaded T2's enhancer of the same seed
    log = (work_dir / 'preprocess' / 'seed3' / 'train.log').read_text()
    assert ('model.enhancer.init_cfg.checkpoint=' +
            str(work_dir / 't2' / 'seed3' / t2['checkpoint'])) in log
    # both fine-tuned from the pretrained plain detector
    for name in ('t2', 'preprocess'):
        log = (work_dir / name / 'seed3' / 'train.log').read_text()
        assert f'from {plain_pretrained}; T2 additions kept' in log, name
    # reference row: the pretrained detector behind T2's enhancer, not
    # fine-tuned (the other two rows need the plain variant)
    import torch
    zero = json.loads((work_dir / 'zero_shot_preprocess' / 'seed3' /
                       'result.json').read_text())
    assert zero['epochs'] == 0 and 0 <= zero['metrics']['voc/mAP'] <= 1
    merged = torch.load(
        work_dir / 'zero_shot_preprocess' / 'seed3' / zero['checkpoint'],
        weights_only=True)['state_dict']
    trained = torch.load(
        work_dir / 't2' / 'seed3' / t2['checkpoint'],
        weights_only=True)['state_dict']
    source = torch.load(plain_pretrained, weights_only=True)['state_dict']
    key = next(k for k in trained if k.startswith('enhancer.'))
    assert torch.equal(merged[key], trained[key])
    head = 'detector.bbox_head.convs_pred.0.weight'
    assert torch.equal(merged[head], source[head])
    # every enhancer-carrying variant is scored against the true
    # illumination of the test images, beside its AP
    for name in ('t2', 'preprocess'):
        scored = json.loads((work_dir / name / 'seed3' /
                             'result.json').read_text())['decomposition']
        assert scored['images'] == 2 and -1 <= scored['log_corr'] <= 1
        assert summary[name]['decomposition']['smoothness'] == pytest.approx(
            scored['smoothness'])
    saved = json.loads((work_dir / 'results.json').read_text())
    assert saved['protocol'] == 'pretrained'
    assert saved['ap50']['t2'] == {'3': 100 * t2['metrics']['voc/mAP']}
    # the val AP the settings are chosen on, from the end of training
    assert 0 <= t2['val_metrics']['voc/mAP'] <= 1
    assert saved['ap50_val']['t2'] == {'3': 100 * t2['val_metrics']['voc/mAP']}
    assert set(saved['decomposition']) == {'t2', 'preprocess'}
    assert saved['decomposition']['t2']['3']['log_corr'] == pytest.approx(
        t2['decomposition']['log_corr'])
    assert summary['zero_shot_preprocess']['seeds'] == [3]
    assert summary['t2']['overall']['values'] == [t2['metrics']['voc/mAP']]
    assert summary['t2']['seeds'] == [3]
    table = (work_dir / 'results.md').read_text()
    assert ('| T2 (decomposition + guidance + aggregation) (`t2`) | 1 |'
            in table)
    assert 'frozen enhancer as pre-processing' in table

    # a second run redoes nothing and gives the same summary
    mtime = osp.getmtime(work_dir / 't2' / 'seed3' / 'train.log')
    assert compare.main(argv) == json.loads(json.dumps(summary))
    out = capsys.readouterr().out
    assert '2 already finished, 0 to run' in out
    assert 'reference zero_shot_preprocess' not in out  # kept too
    assert osp.getmtime(work_dir / 't2' / 'seed3' / 'train.log') == mtime


def test_bad_arguments():
    with pytest.raises(SystemExit):
        compare.parse_args(['--variants', 'preprocess'])
    with pytest.raises(SystemExit):
        compare.parse_args(['--variant', 'nope=x.py'])
    args = compare.parse_args(['--quick'])
    assert args.seeds == [0] and args.epochs == variants.QUICK_EPOCHS
    assert args.work_dir.endswith('compare_on_sample_pretrained_quick')
    assert args.protocol == 'pretrained' and args.cfg_options == []
    args = compare.parse_args(
        ['--protocol', 'scratch', '--cfg-options', 'a=1'])
    assert args.work_dir.endswith('compare_on_sample_scratch')
    assert args.cfg_options == ['load_from=None', 'a=1']
    with pytest.raises(SystemExit):
        compare.parse_args(['--protocol', 'imagenet'])


def test_reference_rows_in_a_dry_run(tmp_path, capsys):
    weights = tmp_path / 'pretrained.pth'
    weights.write_bytes(b'')
    assert variants.reference_names(compare.parse_args([]).configs) == list(
        variants.REFERENCES)
    assert variants.reference_names({'t2': 'x'}) == []
    compare.main([
        '--dry-run', '--seeds', '0', '--work-dir',
        str(tmp_path / 'cmp'), '--cfg-options', f'load_from={weights}'
    ])
    out = capsys.readouterr().out
    zero = out.split('reference zero_shot seed 0\n')[1].splitlines()[0]
    assert variants.VARIANTS['plain'][1] in zero and str(weights) in zero
    day = out.split('reference day_upper_bound seed 0\n')[1].splitlines()[0]
    assert '<checkpoint of plain seed 0>' in day
    assert 'test_dataloader.dataset.data_root=data/night_sample/day/' in day
    assert compare.main([
        '--dry-run', '--protocol', 'scratch', '--work-dir',
        str(tmp_path / 'cmp2')
    ]) is None
    assert 'reference zero_shot' not in capsys.readouterr().out


def _finished_run(seed, ap50):
    """What a finished run returns, for fakes of ``runs.run_one``."""
    return dict(
        seed=seed,
        train_s=1.0,
        test_s=1.0,
        checkpoint='train/epoch_1.pth',
        metrics={'voc/mAP': ap50})


def test_parallel_runs_respect_dependencies_and_go_on_after_failures(
        tiny_night_sample, tmp_path, monkeypatch, capsys):
    import threading
    import time
    lock, running, events = threading.Lock(), [0], []

    def fake_run_one(python,
                     config,
                     run_dir,
                     seed,
                     epochs,
                     options,
                     on_progress,
                     env=None,
                     dry_run=False):
        name = osp.basename(osp.dirname(run_dir))
        with lock:
            running[0] += 1
            events.append(('start', name, seed, running[0], env))
        on_progress('train epoch 1 iter 1/1')
        time.sleep(0.05)
        with lock:
            running[0] -= 1
            events.append(('end', name, seed, running[0], env))
        if (name, seed) == ('t2', 1):
            raise RuntimeError('command failed (exit 1), see train.log')
        return _finished_run(seed, 0.1 * (seed + 1))

    monkeypatch.setattr(runs, 'run_one', fake_run_one)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    argv = [
        '--variants', 'plain', 't2', 'preprocess', '--seeds', '0', '1',
        '--jobs', '2', '--protocol', 'scratch', '--work-dir',
        str(tmp_path), '--cfg-options', *_tiny_options(tiny_night_sample)
    ]
    with pytest.raises(RuntimeError, match='t2 seed 1: command failed'):
        compare.main(argv)
    starts = [e for e in events if e[0] == 'start']
    assert max(e[3] for e in starts) <= 2
    assert {e[4]['OMP_NUM_THREADS']
            for e in starts} == {str(max(1, (os.cpu_count() or 1) // 2))}

    def index(kind, name, seed):
        return next(i for i, e in enumerate(events)
                    if e[:3] == (kind, name, seed))

    # preprocess seed 0 starts after t2 seed 0 ended; seed 1's never runs
    assert index('end', 't2', 0) < index('start', 'preprocess', 0)
    assert ('start', 'preprocess', 1) not in [e[:3] for e in starts]
    out = capsys.readouterr().out
    assert 't2 seed 1 FAILED' in out
    for name, seed in (('plain', 0), ('plain', 1), ('t2', 0), ('preprocess',
                                                               0)):
        assert osp.isfile(tmp_path / name / f'seed{seed}' / 'result.json')
    assert not osp.exists(tmp_path / 't2' / 'seed1' / 'result.json')
    summary = json.loads((tmp_path / 'results.json').read_text())['summary']
    assert summary['plain']['seeds'] == [0, 1]
    assert summary['preprocess']['seeds'] == [0]


def test_reference_rows_fill_a_free_slot_while_variants_still_run(
        tiny_night_sample, tmp_path, monkeypatch):
    import threading
    import time
    lock, events = threading.Lock(), []

    def record(kind, name, seed):
        with lock:
            events.append((kind, name, seed))

    def fake_run_one(python, config, run_dir, seed, *args, **kwargs):
        name = osp.basename(osp.dirname(run_dir))
        record('start', name, seed)
        time.sleep(1.0 if name == 'preprocess' else 0.05)
        record('end', name, seed)
        return _finished_run(seed, 0.5)

    def fake_run_reference(python, name, seed, *args, **kwargs):
        record('start', name, seed)
        record('end', name, seed)
        return dict(_finished_run(seed, 0.1), epochs=0, train_s=0.0)

    monkeypatch.setattr(runs, 'run_one', fake_run_one)
    monkeypatch.setattr(runs, 'run_reference', fake_run_reference)
    weights = tmp_path / 'pretrained.pth'
    weights.write_bytes(b'')
    compare.main([
        '--variants', 'plain', 't2', 'preprocess', '--seeds', '0', '--jobs',
        '2', '--work-dir',
        str(tmp_path / 'cmp'), '--cfg-options',
        *_tiny_options(tiny_night_sample), f'load_from={weights}'
    ])
    index = {e: i for i, e in enumerate(events)}
    # the last variant (preprocess, after t2) runs alone: the reference
    # rows run beside it, each after the run it needs
    for name in variants.REFERENCES:
        assert index[('end', name, 0)] < index[('end', 'preprocess', 0)]
    assert index[('end', 'plain', 0)] < index[('start', 'day_upper_bound', 0)]
    assert index[('end', 't2', 0)] < index[('start', 'zero_shot_preprocess',
                                            0)]


def test_prepare_data_generates_a_missing_sample_and_names_other_files(
        tmp_path, monkeypatch, capsys):
    config = variants.VARIANTS['t2'][1]
    sample = tmp_path / 'sample'
    options = tiny_loader_options(str(sample) + '/', 64)
    expected = [
        str(sample / 'annotations' / f'exdark_{split}.json')
        for split in ('train', 'val', 'test')
    ]
    assert data.annotation_files(config, options) == expected

    # files outside the sample root are reported, not generated
    elsewhere = tmp_path / 'elsewhere'
    with pytest.raises(FileNotFoundError) as error:
        data.prepare_data([config], options, sample_root=str(elsewhere))
    assert expected[0] in str(error.value) and config in str(error.value)
    assert not elsewhere.exists() and not sample.exists()

    # the night sample's own files are generated and converted (a tiny one)
    real = data.generate_night_sample
    monkeypatch.setattr(
        data, 'generate_night_sample', lambda root, workers: real(
            root, num_train=4, num_val=2, num_test=2, size=96))
    data.prepare_data([config], options, sample_root=str(sample))
    assert 'generating the embedded night sample' in capsys.readouterr().out
    assert all(osp.isfile(path) for path in expected)
    with open(expected[0]) as f:
        assert len(json.load(f)['images']) == 4
