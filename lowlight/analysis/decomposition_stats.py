"""Statistics of the decomposition (R, L) a trained enhancer makes of a
dataset split: mean input I, reflectance R and illumination L, the
brightening R / I, mean |R - I|, the share of R at its upper bound, overall
and per lighting type; on the embedded night sample also the
:func:`lowlight.evaluation.decomposition_score` of L against the true
illumination the renderer wrote."""
from collections import defaultdict

import torch
from mmengine.runner import Runner

from lowlight.apis import init_low_light_detector
from lowlight.datasets.night_sample import (illumination_path,
                                            read_illumination)
from lowlight.evaluation import SCORE_NAMES, decomposition_score

#: a value counts as at a bound when within this distance of it
AT_BOUND_TOLERANCE = 1e-3
STATISTICS = ('input', 'reflectance', 'illumination', 'abs_r_minus_i',
              'r_at_bound', 'input_saturated')


class DecompositionStatistics:
    """Pixel-weighted sums of the statistics, overall and per group."""

    def __init__(self, max_reflectance: float):
        self.max_reflectance = max_reflectance
        self.sums = defaultdict(lambda: defaultdict(float))
        self.counts = defaultdict(lambda: defaultdict(int))
        self.images = defaultdict(int)
        self.scores = defaultdict(lambda: defaultdict(list))

    def add(self,
            group: str,
            image: torch.Tensor,
            reflectance: torch.Tensor,
            illumination: torch.Tensor,
            true_illumination: torch.Tensor = None) -> None:
        """Add one image, padding already cut off.

        Args:
            group (str): e.g. the lighting type; also counted in ``'all'``.
            image (Tensor): (3, H, W) input in [0, 1].
            reflectance (Tensor): (3, H, W).
            illumination (Tensor): (C_L, H, W), C_L 1 or 3.
            true_illumination (Tensor, optional): (H', W'), the renderer's
                illumination of a night-sample image; adds the
                :func:`decomposition_score` of ``illumination``.
        """
        if true_illumination is not None:
            score = decomposition_score(illumination, true_illumination,
                                        image)
            for name in {'all', group}:
                for key, value in score.items():
                    self.scores[name][key].append(value)
        values = dict(
            input=image,
            reflectance=reflectance,
            illumination=illumination,
            abs_r_minus_i=(reflectance - image).abs(),
            r_at_bound=(reflectance
                        >= self.max_reflectance - AT_BOUND_TOLERANCE).float(),
            input_saturated=(image >= 1 - AT_BOUND_TOLERANCE).float())
        for name in {'all', group}:
            self.images[name] += 1
            for key, value in values.items():
                self.sums[name][key] += value.double().sum().item()
                self.counts[name][key] += value.numel()

    def summary(self) -> dict:
        """``{group: {statistic: mean, 'images': n, 'gain': R / I}}``."""
        out = {}
        for name in sorted(self.images, key=lambda n: (n != 'all', n)):
            means = {
                key: self.sums[name][key] / self.counts[name][key]
                for key in STATISTICS
            }
            means['gain'] = (
                means['reflectance'] /
                means['input'] if means['input'] > 0 else float('nan'))
            for key, values in self.scores[name].items():
                means[key] = sum(values) / len(values)
            out[name] = dict(images=self.images[name], **means)
        return out


def format_table(summary: dict, max_reflectance: float) -> str:
    """A Markdown table of :meth:`DecompositionStatistics.summary`; the
    decomposition-score columns appear when the images had a true
    illumination."""
    scored = all(k in s for s in summary.values() for k in SCORE_NAMES)
    head = ('| images | n | mean I | mean R | mean L | R / I | mean abs(R - I) '
            f'| R at bound {max_reflectance:g} | I saturated |')
    if scored:
        head += ' corr(log L, log L*) | SI log error | smoothness (L*) |'
    lines = [head, '|---' * head.count(' |') + '|']
    for name, s in summary.items():
        line = (f"| {name} | {s['images']} | {s['input']:.3f} | "
                f"{s['reflectance']:.3f} | {s['illumination']:.3f} | "
                f"{s['gain']:.2f} | {s['abs_r_minus_i']:.3f} | "
                f"{100 * s['r_at_bound']:.1f} % | "
                f"{100 * s['input_saturated']:.2f} % |")
        if scored:
            line += (f" {s['log_corr']:+.3f} | {s['si_log_error']:.3f} | "
                     f"{s['smoothness']:.3f} ({s['true_smoothness']:.3f}) |")
        lines.append(line)
    return '\n'.join(lines)


@torch.no_grad()
def collect(model, dataloader, num_images: int) -> DecompositionStatistics:
    """Decompose the first ``num_images`` images (0 = all) of a loader."""
    stats = DecompositionStatistics(
        float(getattr(model.enhancer, 'max_reflectance', 1.0)))
    seen = 0
    for data_batch in dataloader:
        data = model.data_preprocessor(data_batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        decomposition = model.decompose(inputs, samples)
        for i, sample in enumerate(samples):
            height, width = sample.img_shape[:2]
            truth = illumination_path(sample.img_path)
            stats.add(
                str(sample.metainfo.get('light_name', 'unknown')),
                inputs[i, :, :height, :width],
                decomposition.reflectance[i, :, :height, :width],
                decomposition.illumination[i, :, :height, :width],
                None if truth is None else torch.from_numpy(
                    read_illumination(truth)))
            seen += 1
            if seen == num_images:
                return stats
    return stats


def decomposition_statistics(config, checkpoint, split='val', num_images=64,
                             batch_size=8, device='cpu', cfg_options=None):
    """Load a model (weights-only) and measure its decomposition of the
    first ``num_images`` (0 = all) images of ``split``.

    Returns:
        DecompositionStatistics, or None when the model has no enhancer.

    Raises:
        CheckpointLoadError: for a checkpoint the safe loader refuses.
    """
    model = init_low_light_detector(config, checkpoint, device, cfg_options)
    if getattr(model, 'enhancer', None) is None:
        return None
    loader_cfg = model.cfg[f'{split}_dataloader'].copy()
    loader_cfg.update(
        batch_size=batch_size, num_workers=0, persistent_workers=False)
    loader_cfg.pop('prefetch_factor', None)
    return collect(model, Runner.build_dataloader(loader_cfg), num_images)
