"""decomposition_score: scale-invariant agreement with the true light and
smoothness relative to the image."""
import pytest
import torch

from lowlight.evaluation import SCORE_NAMES, decomposition_score


def _scene():
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64),
                            indexing='ij')
    light = 0.05 + 2.0 / (1 + ((xx - 0.3)**2 + (yy - 0.2)**2) / 0.05)
    albedo = torch.rand(3, 48, 64) * 0.8 + 0.1
    image = (albedo * light * 0.2).clamp(0, 1)
    return light, image


def test_true_light_up_to_scale_scores_perfectly():
    light, image = _scene()
    score = decomposition_score(3.5 * light[None], light, image)
    assert set(score) == set(SCORE_NAMES)
    assert score['log_corr'] == pytest.approx(1.0, abs=1e-9)
    assert score['si_log_error'] == pytest.approx(0.0, abs=1e-6)
    assert score['smoothness'] == pytest.approx(score['true_smoothness'])
    assert score['smoothness'] < 0.1  # a smooth field next to the texture


def test_inverted_edge_and_flat_maps():
    light, image = _scene()
    inverted = decomposition_score((1 / light)[None].repeat(3, 1, 1), light,
                                   image)
    assert inverted['log_corr'] == pytest.approx(-1.0, abs=1e-9)
    assert inverted['si_log_error'] > 0.5
    flat = decomposition_score(torch.ones(1, 48, 64), light, image)
    assert flat['smoothness'] == 0 and flat['log_corr'] == 0
    same = decomposition_score(image, light, image)  # L = I: not smooth
    assert same['smoothness'] == pytest.approx(1.0)


def test_truth_is_resized_and_bad_shapes_are_named():
    light, image = _scene()
    big = torch.nn.functional.interpolate(light[None, None], scale_factor=2,
                                          mode='bilinear')[0, 0]
    score = decomposition_score(light[None], big, image)
    assert score['log_corr'] > 0.99
    with pytest.raises(ValueError, match='sizes differ'):
        decomposition_score(light[None, :, :10], light, image)
    with pytest.raises(ValueError, match='must be'):
        decomposition_score(light, light, image)
