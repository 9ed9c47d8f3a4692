"""Shared fixtures of the model tests."""
import numpy as np
import pytest
import torch


def draw_dark_scene(height: int = 96,
                    width: int = 128,
                    seed: int = 0,
                    exposure: float = 0.12) -> torch.Tensor:
    """A textured street-like scene, darkened like a low-light capture.

    Sky gradient, a ground plane with texture, coloured boxes and discs
    (objects), a lit window and a street lamp glow; then linearised
    (gamma 2.2), scaled by ``exposure``, given shot + read noise and
    re-encoded.

    Returns:
        Tensor: (1, 3, height, width) RGB in [0, 1].
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    v, u = yy / height, xx / width
    img = np.zeros((height, width, 3), np.float32)
    horizon = 0.45
    sky = v < horizon
    img[sky] = np.stack([0.35 + 0.3 * v, 0.45 + 0.3 * v, 0.8 - 0.2 * v],
                        -1)[sky]
    texture = 0.08 * np.sin(40 * u + 7 * np.sin(9 * v)) * np.cos(23 * v)
    ground = 0.4 + texture + 0.05 * rng.standard_normal((height, width))
    img[~sky] = np.stack([ground, ground * 0.95, ground * 0.85], -1)[~sky]
    for _ in range(6):
        h = int(rng.integers(height // 8, height // 3))
        w = int(rng.integers(width // 10, width // 4))
        y0 = int(rng.integers(int(horizon * height) - h // 2, height - h))
        x0 = int(rng.integers(0, width - w))
        colour = rng.uniform(0.1, 0.9, 3)
        shade = 0.8 + 0.2 * np.cos(np.linspace(0, np.pi, w))[None, :, None]
        img[y0:y0 + h, x0:x0 + w] = colour * shade
    for _ in range(3):
        cy, cx = rng.uniform(0.5, 0.9) * height, rng.uniform(0, 1) * width
        r = rng.uniform(0.05, 0.12) * height
        disc = (yy - cy)**2 + (xx - cx)**2 < r * r
        img[disc] = rng.uniform(0.2, 1.0, 3)
    img[int(0.2 * height):int(0.3 * height),
        int(0.7 * width):int(0.8 * width)] = (1.0, 0.9, 0.6)
    lamp = np.exp(-((yy - 0.3 * height)**2 + (xx - 0.2 * width)**2) /
                  (2 * (0.08 * width)**2))
    linear = np.clip(img, 0, 1)**2.2 * exposure + 0.6 * lamp[..., None] * (
        np.array([1.0, 0.85, 0.5]))
    noisy = linear + rng.normal(0, 1,
                                linear.shape) * np.sqrt(0.002 * linear + 1e-5)
    out = np.clip(noisy, 0, 1)**(1 / 2.2)
    out = np.round(out * 255) / 255
    return torch.from_numpy(out.transpose(2, 0, 1).copy()).float()[None]


@pytest.fixture
def dark_scene():
    """The drawing function: ``dark_scene(height, width, seed)``."""
    return draw_dark_scene
