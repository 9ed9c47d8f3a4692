"""Physics-based darkening of normal-light images.

The camera model, applied per pixel and channel:

1. undo the display curve: ``x = img ** gamma`` (``img`` in [0, 1]);
2. scale the exposure and apply an optional colour cast:
   ``s = x * exposure * cast[c]`` (times an optional illumination map);
3. add signal-dependent noise, the Gaussian approximation of
   Poisson-Gaussian sensor noise:
   ``y = s + n``, ``n ~ N(0, shot_noise * s + read_noise ** 2)``;
4. clip to [0, 1], re-apply the display curve ``y ** (1 / gamma)`` and
   quantise to 8 bits.

So in the linear domain the noise variance grows linearly with the signal,
``Var(y | s) = shot_noise * s + read_noise ** 2``, which is what makes the
dark parts of a real night photo look grainier than its lit parts.
"""
import zlib
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmdet.registry import TRANSFORMS


def keyed_rng(seed: int, key: str) -> np.random.Generator:
    """A generator determined by ``seed`` and a string ``key`` (an image's
    path): the same pair always draws the same numbers."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def sample_low_light_params(rng: np.random.Generator,
                            exposure_range: Tuple[float, float],
                            gamma_range: Tuple[float, float],
                            shot_noise_range: Tuple[float, float],
                            read_noise_range: Tuple[float, float],
                            color_cast_range: Tuple[float, float],
                            color_cast_prob: float) -> Dict:
    """Draw one set of camera parameters.

    The exposure and both noise levels are drawn log-uniformly (they span
    orders of magnitude); gamma and the cast gains uniformly.

    Args:
        rng (np.random.Generator): The random generator.
        exposure_range (tuple[float, float]): Linear exposure scale range.
        gamma_range (tuple[float, float]): Display gamma range.
        shot_noise_range (tuple[float, float]): Shot noise variance per unit
            of linear signal.
        read_noise_range (tuple[float, float]): Read noise standard
            deviation in linear units.
        color_cast_range (tuple[float, float]): Gain range of each channel
            when a colour cast is applied.
        color_cast_prob (float): Probability of applying a colour cast.

    Returns:
        dict: ``exposure``, ``gamma``, ``shot_noise``, ``read_noise`` (floats)
        and ``color_cast`` (list of 3 channel gains, in the image's channel
        order).
    """

    def log_uniform(low_high):
        low, high = low_high
        value = np.exp(rng.uniform(np.log(low), np.log(high)))
        return float(np.clip(value, low, high))

    cast = [1.0, 1.0, 1.0]
    if rng.uniform() < color_cast_prob:
        cast = [float(g) for g in rng.uniform(*color_cast_range, size=3)]
    return dict(
        exposure=log_uniform(exposure_range),
        gamma=float(rng.uniform(*gamma_range)),
        shot_noise=log_uniform(shot_noise_range),
        read_noise=log_uniform(read_noise_range),
        color_cast=cast)


def darken_linear(linear: np.ndarray,
                  params: Dict,
                  rng: np.random.Generator,
                  illumination: Optional[np.ndarray] = None) -> np.ndarray:
    """Expose, add sensor noise, re-apply the display curve and quantise.

    Args:
        linear (np.ndarray): Scene radiance in linear units, float, shape
            (H, W, C). Values above 1 saturate after the exposure.
        params (dict): Camera parameters as returned by
            :func:`sample_low_light_params`.
        rng (np.random.Generator): Generator for the noise.
        illumination (np.ndarray, optional): Spatial light gain multiplied
            into the signal, shape (H, W) or (H, W, C). Defaults to None.

    Returns:
        np.ndarray: The 8-bit image, uint8, shape (H, W, C).
    """
    signal = linear * (params['exposure'] *
                       np.asarray(params['color_cast'], dtype=np.float32))
    if illumination is not None:
        if illumination.ndim == 2:
            illumination = illumination[..., None]
        signal = signal * illumination
    signal = np.clip(signal, 0.0, 1.0).astype(np.float32)
    std = np.sqrt(params['shot_noise'] * signal + params['read_noise']**2)
    noisy = signal + std * rng.standard_normal(signal.shape, np.float32)
    # cv2.pow is several times faster than ** and drops a channel axis of 1
    encoded = cv2.pow(np.clip(noisy, 0.0, 1.0),
                      1.0 / params['gamma']).reshape(noisy.shape)
    return np.rint(encoded * 255.0).astype(np.uint8)


def synthesize_low_light(img: np.ndarray, params: Dict,
                         rng: np.random.Generator) -> np.ndarray:
    """Darken an 8-bit normal-light image.

    Args:
        img (np.ndarray): The image, uint8, shape (H, W, C) or (H, W).
        params (dict): Camera parameters, see
            :func:`sample_low_light_params`.
        rng (np.random.Generator): Generator for the noise.

    Returns:
        np.ndarray: The darkened image, uint8, same shape as ``img``.
    """
    gray = img.ndim == 2
    x = (img[..., None] if gray else img).astype(np.float32) / 255.0
    if gray:
        params = dict(params, color_cast=[float(np.mean(
            params['color_cast']))])
    out = darken_linear(
        cv2.pow(x, params['gamma']).reshape(x.shape), params, rng)
    return out[..., 0] if gray else out


@TRANSFORMS.register_module()
class LowLightSynthesis(BaseTransform):
    """Darken a normal-light image with a camera noise model.

    See the module docstring for the model. The drawn parameters are stored
    in ``results['low_light_params']``; add that key to ``PackDetInputs``'s
    ``meta_keys`` to keep it in the data sample's metainfo.

    Required keys: ``img``. Modified keys: ``img``. Added keys:
    ``low_light_params`` (and ``keep_original``, if given).

    Args:
        exposure_range (Sequence[float]): Linear exposure scale range, e.g.
            ``(0.05, 0.3)`` keeps 5 to 30 percent of the light. The mean
            linear intensity scales by this factor (before clipping and
            noise). Defaults to (0.05, 0.3).
        gamma_range (Sequence[float]): Display gamma range. Defaults to
            (2.0, 2.6).
        shot_noise_range (Sequence[float]): Shot noise variance per unit
            linear signal. Defaults to (1e-4, 1e-2).
        read_noise_range (Sequence[float]): Read noise standard deviation,
            linear units. Defaults to (1e-3, 1e-2).
        color_cast_range (Sequence[float]): Per-channel gain range of the
            colour cast. Defaults to (0.8, 1.2).
        color_cast_prob (float): Probability of a colour cast. Defaults to
            0.5.
        prob (float): Probability of darkening at all. Defaults to 1.0.
        seed (int, optional): With a seed, every image gets parameters and
            noise determined by the seed and its ``img_path`` (the same
            image is always darkened the same way, whatever the order or
            the worker). Without one, numpy's global generator is used
            (seeded by mmengine's ``randomness`` config). Defaults to None.
        keep_original (str, optional): Also keep the normal-light image
            under this key (a night/day pair, e.g. for distillation).
            Defaults to None.
    """

    def __init__(self,
                 exposure_range: Sequence[float] = (0.05, 0.3),
                 gamma_range: Sequence[float] = (2.0, 2.6),
                 shot_noise_range: Sequence[float] = (1e-4, 1e-2),
                 read_noise_range: Sequence[float] = (1e-3, 1e-2),
                 color_cast_range: Sequence[float] = (0.8, 1.2),
                 color_cast_prob: float = 0.5,
                 prob: float = 1.0,
                 seed: Optional[int] = None,
                 keep_original: Optional[str] = None) -> None:
        ranges = dict(
            exposure_range=exposure_range,
            gamma_range=gamma_range,
            shot_noise_range=shot_noise_range,
            read_noise_range=read_noise_range,
            color_cast_range=color_cast_range)
        for name, value in ranges.items():
            if len(value) != 2 or not 0 < value[0] <= value[1]:
                raise ValueError(f'LowLightSynthesis: {name} must be '
                                 f'(low, high) with 0 < low <= high, '
                                 f'got {value}')
        if not 0 <= color_cast_prob <= 1 or not 0 <= prob <= 1:
            raise ValueError('LowLightSynthesis: color_cast_prob and prob '
                             'must be in [0, 1]')
        self.ranges = {k: tuple(float(x) for x in v)
                       for k, v in ranges.items()}
        self.color_cast_prob = color_cast_prob
        self.prob = prob
        self.seed = seed
        self.keep_original = keep_original

    def _generator(self, results: dict) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng(np.random.randint(2**31))
        key = str(results.get('img_path', results.get('img_id', '')))
        return keyed_rng(self.seed, key)

    def transform(self, results: dict) -> dict:
        """Darken ``results['img']`` and record the parameters.

        Args:
            results (dict): Result dict with ``img`` (uint8).

        Returns:
            dict: The result dict with the darkened ``img`` and
            ``low_light_params`` (None when the image was left unchanged),
            and the original image under ``keep_original`` if set.
        """
        rng = self._generator(results)
        if self.keep_original is not None:
            results[self.keep_original] = results['img']
        if rng.uniform() >= self.prob:
            results['low_light_params'] = None
            return results
        params = sample_low_light_params(
            rng, color_cast_prob=self.color_cast_prob, **self.ranges)
        results['img'] = synthesize_low_light(results['img'], params, rng)
        results['low_light_params'] = params
        return results

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v}' for k, v in self.ranges.items())
        return (f'{self.__class__.__name__}({args}, '
                f'color_cast_prob={self.color_cast_prob}, '
                f'prob={self.prob}, seed={self.seed}, '
                f'keep_original={self.keep_original!r})')
