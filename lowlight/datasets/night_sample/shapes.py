"""Textured object and clutter shapes for the embedded night sample.

Every drawer paints one object into a local patch: an albedo image (linear
reflectance in [0, 1], float32, shape (h, w, 3)), a mask (uint8, shape
(h, w)) and a list of light emitters ``(x, y, radius, rgb)`` in patch
coordinates (head- and tail-lights, which the lighting model may switch on).
Shapes are drawn from normalised coordinates, so any size works.
"""
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

Emitter = Tuple[float, float, float, Tuple[float, float, float]]
Patch = Tuple[np.ndarray, np.ndarray, List[Emitter]]


def random_color(rng: np.random.Generator, low: float = 0.05,
                 high: float = 0.9) -> Tuple[float, float, float]:
    """A random linear-domain albedo colour (display value ** 2.2)."""
    return tuple(float(c) for c in rng.uniform(low, high, 3)**2.2)


def smooth_texture(rng: np.random.Generator, h: int, w: int,
                   cells: int = 6) -> np.ndarray:
    """Blotchy texture in [0, 1]: coarse random grid, bilinearly upsampled.

    Args:
        rng (np.random.Generator): The random generator.
        h (int): Output height.
        w (int): Output width.
        cells (int): Grid cells along the longer side.

    Returns:
        np.ndarray: float32 texture of shape (h, w).
    """
    gh = max(2, round(cells * h / max(h, w)))
    gw = max(2, round(cells * w / max(h, w)))
    grid = rng.uniform(0.0, 1.0, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_LINEAR)


def apply_texture(rng: np.random.Generator, albedo: np.ndarray,
                  mask: np.ndarray, strength: float = 0.5) -> None:
    """Modulate ``albedo`` in place inside ``mask`` with a texture.

    Half of the time the texture also carries stripes (clothes, panels).
    """
    h, w = mask.shape
    tex = smooth_texture(rng, h, w, cells=int(rng.integers(3, 10)))
    if rng.uniform() < 0.5:
        period = rng.uniform(3.0, 9.0)
        angle = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        phase = (xx * np.cos(angle) + yy * np.sin(angle)) / period
        tex = 0.6 * tex + 0.4 * (np.sin(2 * np.pi * phase) > 0)
    gain = 1.0 - strength / 2 + strength * tex
    albedo[mask > 0] *= gain[mask > 0][:, None]


def _pts(points, w: int, h: int) -> np.ndarray:
    return np.array([[x * (w - 1), y * (h - 1)] for x, y in points],
                    dtype=np.int32)


def _canvas(h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    return np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.uint8)


def _poly(albedo, mask, points, color) -> None:
    h, w = mask.shape
    pts = _pts(points, w, h)
    cv2.fillPoly(albedo, [pts], color)
    cv2.fillPoly(mask, [pts], 255)


def _line(albedo, mask, p, q, thickness, color) -> None:
    h, w = mask.shape
    a, b = (tuple(int(v) for v in x) for x in _pts([p, q], w, h))
    t = max(1, int(round(thickness)))
    cv2.line(albedo, a, b, color, t)
    cv2.line(mask, a, b, 255, t)


def _circle(albedo, mask, c, radius, color, thickness=-1) -> None:
    h, w = mask.shape
    center = tuple(int(v) for v in _pts([c], w, h)[0])
    r = max(1, int(round(radius)))
    t = thickness if thickness < 0 else max(1, int(round(thickness)))
    cv2.circle(albedo, center, r, color, t)
    cv2.circle(mask, center, r, 255, t)


def draw_car(rng: np.random.Generator, h: int, w: int) -> Patch:
    """Side view: body, cabin with windows, two wheels, lights."""
    albedo, mask = _canvas(h, w)
    body = random_color(rng, 0.15, 0.95)
    roof = rng.uniform(0.05, 0.15)
    _poly(albedo, mask, [(0.0, 0.45), (0.08, 0.38), (0.26, 0.36),
                         (0.34, roof), (0.68, roof), (0.8, 0.36),
                         (0.97, 0.4), (1.0, 0.55), (1.0, 0.8), (0.0, 0.8)],
          body)
    apply_texture(rng, albedo, mask, 0.35)
    glass = random_color(rng, 0.05, 0.25)
    _poly(albedo, mask, [(0.31, 0.35), (0.37, roof + 0.06),
                         (0.5, roof + 0.06), (0.5, 0.35)], glass)
    _poly(albedo, mask, [(0.53, 0.35), (0.53, roof + 0.06),
                         (0.66, roof + 0.06), (0.76, 0.35)], glass)
    _line(albedo, mask, (0.02, 0.6), (0.98, 0.6), h * 0.03,
          tuple(c * 0.5 for c in body))
    wheel_r = 0.2 * h
    for cx in (0.2, 0.8):
        _circle(albedo, mask, (cx, 0.78), wheel_r, (0.02, 0.02, 0.02))
        _circle(albedo, mask, (cx, 0.78), wheel_r * 0.45, (0.3, 0.3, 0.3))
    _circle(albedo, mask, (0.97, 0.48), h * 0.05, (0.8, 0.8, 0.7))
    _circle(albedo, mask, (0.02, 0.5), h * 0.05, (0.6, 0.05, 0.05))
    lights = [(0.97 * (w - 1), 0.48 * (h - 1), h * 0.07, (1.0, 0.95, 0.8)),
              (0.02 * (w - 1), 0.5 * (h - 1), h * 0.06, (1.0, 0.1, 0.05))]
    return albedo, mask, lights


def draw_people(rng: np.random.Generator, h: int, w: int) -> Patch:
    """Standing person: head, torso, arms and legs in varied poses."""
    albedo, mask = _canvas(h, w)
    shirt = random_color(rng)
    pants = random_color(rng, 0.05, 0.6)
    skin = tuple(float(c) for c in
                 np.array([0.85, 0.65, 0.5]) ** 2.2 * rng.uniform(0.3, 1.0))
    thick = 0.09 * w + 0.03 * h
    for sign in (-1, 1):
        swing = rng.uniform(-0.12, 0.12)
        _line(albedo, mask, (0.5 + sign * 0.08, 0.56),
              (0.5 + sign * 0.16 + swing, 0.97), thick, pants)
    _poly(albedo, mask, [(0.26, 0.2), (0.74, 0.2), (0.7, 0.58), (0.3, 0.58)],
          shirt)
    apply_texture(rng, albedo, mask, 0.6)
    for sign in (-1, 1):
        hand = (0.5 + sign * rng.uniform(0.3, 0.46), rng.uniform(0.3, 0.55))
        _line(albedo, mask, (0.5 + sign * 0.22, 0.23), hand, thick * 0.8,
              shirt)
    _circle(albedo, mask, (0.5, 0.1), 0.085 * h, skin)
    _circle(albedo, mask, (0.5, 0.07), 0.07 * h, random_color(rng, 0.02,
                                                              0.4))
    return albedo, mask, []


def draw_bicycle(rng: np.random.Generator, h: int, w: int) -> Patch:
    """Side view: two spoked wheels, diamond frame, saddle, handlebar."""
    albedo, mask = _canvas(h, w)
    frame = random_color(rng, 0.3, 1.0)
    tyre = (0.015, 0.015, 0.015)
    radius = 0.3 * h
    rear, front = (0.2, 0.68), (0.8, 0.68)
    for hub in (rear, front):
        _circle(albedo, mask, hub, radius, tyre, thickness=0.06 * h)
        for k in range(6):
            a = k * np.pi / 3 + rng.uniform(0, 1)
            rim = (hub[0] + np.cos(a) * radius / w, hub[1] + np.sin(a) *
                   radius / h)
            _line(albedo, mask, hub, rim, 1, (0.5, 0.5, 0.5))
    seat, bracket, head = (0.42, 0.3), (0.48, 0.68), (0.72, 0.28)
    t = 0.045 * h
    for p, q in ((rear, seat), (seat, bracket), (bracket, rear),
                 (seat, head), (head, bracket), (head, front)):
        _line(albedo, mask, p, q, t, frame)
    _line(albedo, mask, head, (0.74, 0.1), t, frame)
    _line(albedo, mask, (0.68, 0.1), (0.82, 0.08), t, (0.05, 0.05, 0.05))
    _line(albedo, mask, (0.34, 0.22), (0.47, 0.22), t * 1.4,
          (0.03, 0.03, 0.03))
    _line(albedo, mask, seat, (0.41, 0.22), t, frame)
    return albedo, mask, [(0.8 * (w - 1), 0.12 * (h - 1), h * 0.05,
                           (1.0, 1.0, 0.9))]


def draw_bottle(rng: np.random.Generator, h: int, w: int) -> Patch:
    """Bottle: body, shoulder, neck, cap, label and a glass highlight."""
    albedo, mask = _canvas(h, w)
    glass = random_color(rng, 0.1, 0.7)
    _poly(albedo, mask, [(0.05, 0.38), (0.95, 0.38), (0.95, 0.97),
                         (0.85, 1.0), (0.15, 1.0), (0.05, 0.97)], glass)
    _poly(albedo, mask, [(0.05, 0.4), (0.35, 0.2), (0.65, 0.2),
                         (0.95, 0.4)], glass)
    _poly(albedo, mask, [(0.35, 0.06), (0.65, 0.06), (0.65, 0.22),
                         (0.35, 0.22)], glass)
    label = random_color(rng, 0.3, 1.0)
    _poly(albedo, mask, [(0.05, 0.55), (0.95, 0.55), (0.95, 0.8),
                         (0.05, 0.8)], label)
    apply_texture(rng, albedo, mask, 0.4)
    _poly(albedo, mask, [(0.32, 0.0), (0.68, 0.0), (0.68, 0.08),
                         (0.32, 0.08)], random_color(rng))
    _line(albedo, mask, (0.25, 0.42), (0.25, 0.93), max(1, 0.08 * w),
          (0.9, 0.9, 0.9))
    return albedo, mask, []


def draw_chair(rng: np.random.Generator, h: int, w: int) -> Patch:
    """Three-quarter view: backrest with rails, seat, four legs."""
    albedo, mask = _canvas(h, w)
    wood = random_color(rng, 0.2, 0.8)
    dark = tuple(c * 0.6 for c in wood)
    t = 0.06 * w + 0.02 * h
    for x in (0.12, 0.3, 0.72, 0.9):
        top = 0.6 if x in (0.3, 0.9) else 0.55
        _line(albedo, mask, (x, top), (x, 0.99), t, dark)
    _poly(albedo, mask, [(0.05, 0.5), (0.75, 0.5), (0.95, 0.6), (0.25, 0.62)],
          wood)
    _line(albedo, mask, (0.1, 0.0), (0.1, 0.55), t * 1.3, wood)
    _line(albedo, mask, (0.3, 0.04), (0.3, 0.58), t * 1.3, wood)
    for y in (0.05, 0.2, 0.35):
        _line(albedo, mask, (0.1, y), (0.3, y + 0.03), t, wood)
    apply_texture(rng, albedo, mask, 0.5)
    return albedo, mask, []


#: ExDark class name -> (drawer, width / height aspect range)
SHAPES: Dict[str, Tuple[Callable[..., Patch], Tuple[float, float]]] = {
    'Bicycle': (draw_bicycle, (1.5, 1.9)),
    'Bottle': (draw_bottle, (0.28, 0.4)),
    'Car': (draw_car, (2.0, 2.6)),
    'Chair': (draw_chair, (0.55, 0.8)),
    'People': (draw_people, (0.33, 0.45)),
}


def draw_clutter(rng: np.random.Generator, albedo: np.ndarray,
                 count: int) -> None:
    """Paint unannotated distractors onto a background in place.

    Rings, bars, blobs and polygons with texture: some look like object
    parts (a lone wheel, a pole), so the detector must use the whole shape.
    """
    h, w = albedo.shape[:2]
    for _ in range(count):
        size = rng.uniform(0.04, 0.2) * w
        x, y = rng.uniform(0, w), rng.uniform(0.2 * h, h)
        color = random_color(rng)
        kind = rng.integers(4)
        if kind == 0:
            cv2.circle(albedo, (int(x), int(y)), int(size / 2), color,
                       max(1, int(size / 10)))
        elif kind == 1:
            cv2.line(albedo, (int(x), int(y)),
                     (int(x + rng.uniform(-1, 1) * size), int(y - size * 2)),
                     color, max(1, int(size / 8)))
        elif kind == 2:
            cv2.ellipse(albedo, (int(x), int(y)),
                        (int(size / 2), int(size * rng.uniform(0.2, 0.6))),
                        float(rng.uniform(0, 180)), 0, 360, color, -1)
        else:
            pts = np.stack([x + rng.uniform(-1, 1, 5) * size,
                            y + rng.uniform(-1, 1, 5) * size], 1)
            cv2.fillPoly(albedo, [pts.astype(np.int32)], color)
