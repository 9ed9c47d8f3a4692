import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from tiny_loader_options import tiny_loader_options

from lowlight.analysis import DecompositionStatistics, format_table
from mmdet.registry import MODELS
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
stats_tool = load_tool('analysis_tools/decomposition_stats')

SAMPLE = osp.join(REPO, 'configs', 't2',
                  't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')
LIGHTING = {'Low', 'Ambient', 'Single', 'Strong', 'Window', 'Twilight'}


def test_statistics_of_known_tensors():
    stats = DecompositionStatistics(max_reflectance=1.0)
    image = torch.full((3, 2, 2), 0.25)
    image[:, 0, 0] = 1.0  # one saturated pixel of four
    reflectance = torch.full((3, 2, 2), 0.5)
    reflectance[:, 1, :] = 1.0  # half of R at the bound
    stats.add('Low', image, reflectance, torch.full((1, 2, 2), 0.4))
    stats.add('Strong', torch.full((3, 1, 1), 0.5), torch.full((3, 1, 1), 0.5),
              torch.full((3, 1, 1), 1.0))
    summary = stats.summary()
    assert list(summary) == ['all', 'Low', 'Strong']
    low = summary['Low']
    assert low['images'] == 1
    assert low['input'] == pytest.approx((1 + 3 * 0.25) / 4)
    assert low['reflectance'] == pytest.approx(0.75)
    assert low['illumination'] == pytest.approx(0.4)
    # |R - I| per pixel: 0.5, 0.25, 0.75, 0.75
    assert low['abs_r_minus_i'] == pytest.approx(2.25 / 4)
    assert low['r_at_bound'] == pytest.approx(0.5)
    assert low['input_saturated'] == pytest.approx(0.25)
    assert low['gain'] == pytest.approx(0.75 / 0.4375)
    every = summary['all']
    assert every['images'] == 2
    # pixel-weighted: 12 input values of Low, 3 of Strong
    assert every['input'] == pytest.approx((12 * 0.4375 + 3 * 0.5) / 15)
    assert every['r_at_bound'] == pytest.approx(6 / 15)
    # L values: 4 of Low, 3 of Strong
    assert every['illumination'] == pytest.approx((4 * 0.4 + 3) / 7)
    table = format_table(summary, 1.0)
    assert '| Low | 1 | 0.438 | 0.750 | 0.400 | 1.71 | 0.562 | 50.0 % |' \
        in table


@pytest.fixture(scope='module')
def random_t2_checkpoint(tmp_path_factory):
    """A randomly initialised T2 model of the night-sample config."""
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(SAMPLE).model)
    path = tmp_path_factory.mktemp('ckpt') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def test_end_to_end_on_a_tiny_sample(tiny_night_sample, random_t2_checkpoint,
                                     tmp_path, capsys):
    out = tmp_path / 'stats' / 'stats.json'
    options = tiny_loader_options(tiny_night_sample, 64)
    assert stats_tool.main([
        SAMPLE, random_t2_checkpoint, '--split', 'test', '--num-images', '1',
        '--out',
        str(out), '--cfg-options', *options
    ]) == 0
    assert json.loads(out.read_text())['groups']['all']['images'] == 1

    assert stats_tool.main([
        SAMPLE, random_t2_checkpoint, '--num-images', '0', '--batch-size', '1',
        '--out',
        str(out), '--cfg-options', *options
    ]) == 0
    result = json.loads(out.read_text())
    assert result['split'] == 'val' and result['max_reflectance'] == 1.0
    groups = result['groups']
    assert groups['all']['images'] == 2  # the whole val split
    assert set(groups) - {'all'} <= LIGHTING
    assert sum(g['images'] for name, g in groups.items() if name != 'all') == 2
    every = groups['all']
    assert 0 < every['input'] < 0.5  # night images
    assert 0 <= every['r_at_bound'] <= 1
    assert every['gain'] == pytest.approx(every['reflectance'] /
                                          every['input'])
    # the sample's renderer wrote the true illumination: L is scored
    assert -1 <= every['log_corr'] <= 1 and every['si_log_error'] >= 0
    assert every['smoothness'] >= 0 and every['true_smoothness'] > 0
    printed = capsys.readouterr().out
    assert '| all | 2 |' in printed and f'written to {out}' in printed
    assert 'corr(log L, log L*)' in printed


def test_scores_are_averaged_per_group_when_the_truth_is_known():
    stats = DecompositionStatistics(max_reflectance=1.0)
    truth = torch.linspace(0.1, 2.0, 48).view(6, 8)
    image = (truth * 0.2).expand(3, 6, 8).clone()
    stats.add('Low', image, image * 2, 3 * truth[None], truth)
    stats.add('Low', image, image * 2, 1 / truth[None], truth)
    low = stats.summary()['Low']
    assert low['log_corr'] == pytest.approx(0.0, abs=1e-9)  # (1 + -1) / 2
    without = DecompositionStatistics(max_reflectance=1.0)
    without.add('Low', image, image, truth[None])
    assert 'log_corr' not in without.summary()['Low']
    assert 'corr(log L' not in format_table(without.summary(), 1)


def test_model_without_enhancer_is_refused(tiny_night_sample, tmp_path,
                                           capsys):
    init_default_scope('mmdet')
    cfg = Config.fromfile(SAMPLE)
    cfg.model.mode = 'none'
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), plain)
    assert stats_tool.main([
        SAMPLE, str(plain), '--cfg-options', 'model.mode=none',
        *tiny_loader_options(tiny_night_sample, 64)
    ]) == 2
    assert 'has no enhancer' in capsys.readouterr().err
