"""Render one night scene of the embedded sample.

A scene is built in the linear domain: an albedo image (background, clutter
and the annotated objects, back to front), an illumination map and an
emission image that depend on the ExDark lighting type, then exposed,
noised and quantised by :func:`darken_linear`, the same camera model as the
``LowLightSynthesis`` transform.

The same albedo can also be rendered as a **day twin**: soft, even daylight
(and a bright sky outdoors), a long exposure, little noise and no colour
cast, so that a detector can be pretrained on normal light and the
darkness alone separates the twins. The night image's true illumination
(what multiplies the albedo, before exposure, cast and noise) is returned
too, so that a learnt Retinex decomposition can be scored against it.
"""
from typing import Dict, List, NamedTuple, Optional, Tuple

import cv2
import numpy as np

from ..transforms.low_light_synthesis import (darken_linear,
                                               sample_low_light_params)
from .shapes import SHAPES, draw_clutter, random_color, smooth_texture

#: lighting types rendered (ExDark ids) and where they can occur
LIGHTS_OUTDOOR = (1, 2, 4, 6, 10)
LIGHTS_INDOOR = (1, 2, 4, 6, 8)
#: classes that may appear beside the image's own class
COMPANIONS = {
    False: ('Car', 'Bicycle', 'People', 'People', 'Bottle', 'Chair'),
    True: ('People', 'Bottle', 'Bottle', 'Chair', 'Chair', 'Bicycle'),
}
MIN_VISIBLE = 0.5
TRUNCATED_PROB = 0.08
#: night camera: the exposure range of each lighting type is scaled by
#: this, and the sensor noise is drawn from these ranges (shot noise:
#: variance per unit signal; read noise: standard deviation). Sample v5
#: made the night darker and noisier than v4 (exposure x1, shot noise
#: 5e-4-4e-3, read noise 5e-4-2e-3), on which the plain detector fine-tuned
#: on the night images came within 2 AP@0.5 of the same detector on their
#: day twins: there was nothing left for an enhancer to win.
NIGHT_EXPOSURE_SCALE = 0.5
NIGHT_SHOT_NOISE = (1e-3, 8e-3)
NIGHT_READ_NOISE = (1e-3, 4e-3)
#: camera of the day twins: a normal exposure, low noise, no colour cast
DAY_CAMERA = dict(exposure=1.2, gamma=2.2, shot_noise=1e-4, read_noise=3e-4,
                  color_cast=[1.0, 1.0, 1.0])
#: radiance of a clear day sky (BGR, linear) behind the outdoor scenes
DAY_SKY = (0.75, 0.62, 0.45)
#: lamps and lit windows are this much fainter against daylight
DAY_EMISSION = 0.01


class RenderedScene(NamedTuple):
    """One rendered scene.

    Attributes:
        night (np.ndarray): The night image, BGR uint8, (H, W, 3).
        boxes (list): ``(class name, x0, y0, x1, y1)`` full-extent boxes in
            pixels (they may reach outside the image), the same for both
            twins.
        params (dict): The night camera parameters.
        illumination (np.ndarray): The night's true illumination, float32,
            (H, W): the light falling on the albedo before exposure, colour
            cast and noise (light sources themselves are emission, not
            illumination).
        day (np.ndarray or None): The day twin, BGR uint8, (H, W, 3), when
            asked for.
        day_illumination (np.ndarray or None): The day twin's
            illumination, float32, (H, W).
        clean_night (np.ndarray or None): The night image without sensor
            noise (same exposure, cast and display curve), BGR uint8, when
            asked for.
    """
    night: np.ndarray
    boxes: List
    params: Dict
    illumination: np.ndarray
    day: Optional[np.ndarray] = None
    day_illumination: Optional[np.ndarray] = None
    clean_night: Optional[np.ndarray] = None


def _background(rng: np.random.Generator, h: int, w: int, indoor: bool,
                emission: np.ndarray) -> Tuple[np.ndarray, int, np.ndarray]:
    """Albedo of the backdrop; lit windows go into ``emission``.

    Returns:
        tuple: albedo (float32, (h, w, 3)), the horizon / floor row, and a
        copy of the bare wall / sky before anything was painted on it.
    """
    horizon = int(h * rng.uniform(0.3, 0.55))
    albedo = np.empty((h, w, 3), np.float32)
    upper = random_color(rng, 0.1, 0.5) if indoor else (0.02, 0.02, 0.03)
    lower = random_color(rng, 0.1, 0.5) if indoor else random_color(
        rng, 0.15, 0.35)
    albedo[:horizon] = upper
    albedo[horizon:] = lower
    albedo *= (0.7 + 0.6 * smooth_texture(rng, h, w, 12))[..., None]
    bare = albedo.copy()
    if indoor:
        for _ in range(rng.integers(1, 4)):  # shelves, frames, cupboards
            x0, x1 = sorted(rng.uniform(0, w, 2))
            y0, y1 = sorted(rng.uniform(0.05 * h, horizon, 2))
            cv2.rectangle(albedo, (int(x0), int(y0)), (int(x1), int(y1)),
                          random_color(rng, 0.05, 0.6), -1)
    else:
        for _ in range(rng.integers(2, 6)):  # buildings with windows
            x0 = rng.uniform(-0.1, 0.9) * w
            bw, bh = rng.uniform(0.1, 0.35) * w, rng.uniform(0.1, 0.3) * h
            top = int(max(0, horizon - bh))
            cv2.rectangle(albedo, (int(x0), top), (int(x0 + bw), horizon),
                          random_color(rng, 0.05, 0.3), -1)
            for wy in range(top + 3, horizon - 4, 8):
                for wx in range(int(x0) + 3, int(x0 + bw) - 4, 9):
                    if rng.uniform() < 0.25:
                        cv2.rectangle(emission, (wx, wy), (wx + 3, wy + 3),
                                      (0.6, 1.2, 1.6), -1)
        for x in range(int(rng.uniform(0, 40)), w, 48):  # lane marks
            y = int(h * 0.85)
            cv2.line(albedo, (x, y), (x + 20, y), (0.7, 0.7, 0.7), 2)
    return albedo, horizon, bare


def _lighting(rng: np.random.Generator, light: int, h: int, w: int,
              horizon: int, emission: np.ndarray) -> Dict:
    """Illumination map and camera settings of one ExDark lighting type.

    Adds the light sources themselves to ``emission``.

    Returns:
        dict: ``illumination`` (float32, (h, w)), ``exposure`` (range),
        ``cast`` (BGR gains), ``lamps_on`` (probability that head- and
        tail-lights shine) and, for Twilight, ``sky`` (radiance of the bare
        sky, float32, (h, w, 3)).
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if light == 1:  # Low: everything dim, no visible source
        illum = rng.uniform(0.5, 1.0) * (0.6 + 0.8 * smooth_texture(
            rng, h, w, 3))
        return dict(illumination=illum, exposure=(0.03, 0.06),
                    cast=rng.uniform(0.9, 1.1, 3), lamps_on=0.2)
    if light == 2:  # Ambient: even sodium-orange street light
        illum = rng.uniform(0.6, 1.0) * (0.6 + 0.6 * yy / h)
        return dict(illumination=illum, exposure=(0.06, 0.14),
                    cast=np.array([0.5, 0.8, 1.1]), lamps_on=0.5)
    if light in (4, 6):  # Single / Strong: point sources with fall-off
        count = 1 if light == 4 else int(rng.integers(2, 5))
        illum = np.full((h, w), 0.03, np.float32)
        for _ in range(count):
            px, py = rng.uniform(0.05, 0.95) * w, rng.uniform(
                0.02, 0.5) * h
            radius = rng.uniform(0.1, 0.3) * w
            gain = rng.uniform(1.5, 3.0) if light == 4 else rng.uniform(
                2.0, 5.0)
            illum += gain / (1 + ((xx - px)**2 + (yy - py)**2) / radius**2)
            cv2.circle(emission, (int(px), int(py)), int(rng.uniform(2, 6)),
                       (40.0, 45.0, 50.0), -1)
        if light == 4:
            return dict(illumination=illum, exposure=(0.08, 0.2),
                        cast=np.array([0.7, 0.9, 1.1]), lamps_on=0.5)
        return dict(illumination=illum, exposure=(0.15, 0.35),
                    cast=rng.uniform(0.85, 1.15, 3), lamps_on=1.0)
    if light == 8:  # Window: a bright pane and its beam in a dark room
        x0 = rng.uniform(0.05, 0.6) * w
        ww, wh = rng.uniform(0.15, 0.3) * w, 0.6 * horizon
        y0 = 0.1 * horizon
        cv2.rectangle(emission, (int(x0), int(y0)),
                      (int(x0 + ww), int(y0 + wh)), (4.0, 3.5, 3.0), -1)
        beam = np.zeros((h, w), np.float32)
        shift = rng.uniform(-0.3, 0.3) * w
        pts = np.array([[x0, y0], [x0 + ww, y0], [x0 + ww + shift, h],
                        [x0 + shift - 0.2 * w, h]], np.int32)
        cv2.fillPoly(beam, [pts], rng.uniform(1.0, 2.0))
        illum = 0.05 + cv2.GaussianBlur(beam, (0, 0), 0.05 * w)
        return dict(illumination=illum, exposure=(0.1, 0.25),
                    cast=np.array([1.15, 1.0, 0.85]), lamps_on=0.2)
    # Twilight: a deep blue to purple sky lights the scene
    t = np.clip(yy[:horizon] / max(horizon, 1), 0, 1)[..., None]
    top, low = np.array([0.5, 0.1, 0.05]), np.array([0.45, 0.3, 0.55])
    sky = np.zeros((h, w, 3), np.float32)
    sky[:horizon] = ((1 - t) * top + t * low) * rng.uniform(0.6, 1.5)
    illum = rng.uniform(0.5, 0.9) * (1.2 - 0.4 * yy / h)
    return dict(illumination=illum, exposure=(0.1, 0.25),
                cast=np.array([1.15, 1.0, 0.8]), lamps_on=0.6, sky=sky)


def _sample_objects(rng: np.random.Generator, h: int, w: int, horizon: int,
                    primary: str, indoor: bool) -> List[Dict]:
    """Sizes, positions and patches of the objects, before occlusion."""
    names = [primary] + [
        str(rng.choice(COMPANIONS[indoor]))
        for _ in range(rng.integers(0, 4))
    ]
    objects = []
    for name in names:
        draw, (lo, hi) = SHAPES[name]
        aspect = rng.uniform(lo, hi)
        size = np.exp(rng.uniform(np.log(24), np.log(115))) \
            if rng.uniform() < 0.88 else rng.uniform(12, 24)
        bw = min(size * np.sqrt(aspect), 0.9 * w)
        bh = min(bw / aspect, 0.95 * h)
        bw, bh = max(4, int(bh * aspect)), max(4, int(bh))
        # a few objects are cut by the image border (their boxes reach
        # outside, as some ExDark boxes do)
        cut = 0.2 if rng.uniform() < TRUNCATED_PROB else 0.0
        x0 = int(rng.uniform(-cut * bw, w - (1 - cut) * bw))
        bottom = rng.uniform(min(horizon + 0.3 * bh, h), h + cut * bh)
        y0 = int(max(bottom - bh, -0.2 * bh))
        albedo, mask, lamps = draw(rng, bh, bw)
        objects.append(
            dict(name=name, x0=x0, y0=y0, albedo=albedo, mask=mask,
                 lamps=lamps))
    objects.sort(key=lambda o: o['y0'] + o['mask'].shape[0])
    return objects


def _window(obj: Dict, h: int, w: int):
    """Slices of the canvas and of the patch where the object lands."""
    ph, pw = obj['mask'].shape
    cy0, cx0 = max(obj['y0'], 0), max(obj['x0'], 0)
    cy1, cx1 = min(obj['y0'] + ph, h), min(obj['x0'] + pw, w)
    if cy1 <= cy0 or cx1 <= cx0:
        return None
    return ((slice(cy0, cy1), slice(cx0, cx1)),
            (slice(cy0 - obj['y0'], cy1 - obj['y0']),
             slice(cx0 - obj['x0'], cx1 - obj['x0'])))


def _resolve_occlusion(objects: List[Dict], occluder: np.ndarray, h: int,
                       w: int) -> List[Dict]:
    """Drop objects until each shows at least ``MIN_VISIBLE`` of itself.

    Objects are painted back to front; ``occluder`` marks foreground
    clutter painted last. Truncation by the image border counts as hidden.
    """
    objects = list(objects)
    while objects:
        labels = np.full((h, w), -1, np.int32)
        for i, obj in enumerate(objects):
            win = _window(obj, h, w)
            if win is not None:
                labels[win[0]][obj['mask'][win[1]] > 0] = i
        labels[occluder > 0] = -1
        counts = np.bincount(labels[labels >= 0], minlength=len(objects))
        visible = [counts[i] / max(1, np.count_nonzero(o['mask']))
                   for i, o in enumerate(objects)]
        worst = int(np.argmin(visible))
        if visible[worst] >= MIN_VISIBLE:
            for i, obj in enumerate(objects):
                obj['labels'] = labels == i
            return objects
        objects.pop(worst)
    return objects


def _render_day(rng: np.random.Generator, albedo: np.ndarray,
                emission: np.ndarray, sky: np.ndarray
                ) -> Tuple[np.ndarray, np.ndarray]:
    """The day twin of a scene: even daylight, bright sky, low noise.

    Args:
        rng (np.random.Generator): Generator of the twin's own noise.
        albedo (np.ndarray): Scene albedo, float32, (H, W, 3).
        emission (np.ndarray): Night emission, float32, (H, W, 3).
        sky (np.ndarray): Mask of the bare sky, bool, (H, W).

    Returns:
        tuple: the BGR image (uint8, (H, W, 3)) and its illumination
        (float32, (H, W)).
    """
    h, w = albedo.shape[:2]
    illum = 0.9 + 0.2 * smooth_texture(rng, h, w, 4)
    radiance = albedo * illum[..., None] + DAY_EMISSION * emission
    radiance[sky] = DAY_SKY
    return darken_linear(radiance, DAY_CAMERA, rng), illum


def render_scene(rng: np.random.Generator,
                 height: int,
                 width: int,
                 primary: str,
                 light: int,
                 indoor: bool,
                 empty: bool = False,
                 day_rng: Optional[np.random.Generator] = None,
                 clean_night: bool = False) -> RenderedScene:
    """Render one scene at night, and optionally its day twin.

    Args:
        rng (np.random.Generator): The image's own generator.
        height (int): Image height.
        width (int): Image width.
        primary (str): The image-level class; at least one such object is
            attempted (occlusion may still remove it in rare cases).
        light (int): ExDark lighting type id (1, 2, 4, 6, 8 or 10).
        indoor (bool): Indoor backdrop (wall and floor) or outdoor (sky,
            buildings, road).
        empty (bool): Render background and clutter only.
        day_rng (np.random.Generator, optional): Generator of the day
            twin's light and noise; no twin is rendered without it. The
            night image does not depend on it.
        clean_night (bool): Also render the night image without sensor
            noise (the night image does not change).

    Returns:
        RenderedScene: the night image, boxes, camera, true illumination
        and, with ``day_rng``, the day twin.
    """
    h, w = height, width
    emission = np.zeros((h, w, 3), np.float32)
    albedo, horizon, bare = _background(rng, h, w, indoor, emission)
    draw_clutter(rng, albedo, int(rng.integers(4, 12)))
    objects = [] if empty else _sample_objects(rng, h, w, horizon, primary,
                                               indoor)
    occluder = np.zeros((h, w), np.uint8)
    if objects and rng.uniform() < 0.35:  # a pole or bush in front
        x = int(rng.uniform(0, w))
        if rng.uniform() < 0.5:
            cv2.line(occluder, (x, 0), (x + int(rng.uniform(-20, 20)), h),
                     255, int(rng.uniform(3, 9)))
        else:
            cv2.ellipse(occluder, (x, int(rng.uniform(0.6, 1.0) * h)),
                        (int(rng.uniform(15, 45)), int(rng.uniform(10, 30))),
                        0, 0, 360, 255, -1)
    objects = _resolve_occlusion(objects, occluder, h, w)
    setting = _lighting(rng, light, h, w, horizon, emission)
    boxes, covered = [], occluder > 0
    for obj in objects:
        canvas_win, patch_win = _window(obj, h, w)
        region = albedo[canvas_win]
        keep = obj['mask'][patch_win] > 0
        region[keep] = obj['albedo'][patch_win][keep]
        covered |= obj['labels']
        ys, xs = np.nonzero(obj['mask'])
        boxes.append((obj['name'], obj['x0'] + int(xs.min()),
                      obj['y0'] + int(ys.min()), obj['x0'] + int(xs.max()) +
                      1, obj['y0'] + int(ys.max()) + 1))
    albedo[occluder > 0] = random_color(rng, 0.02, 0.2)
    # background light sources and the sky are hidden behind what stands in
    # front of them; the objects' own lamps are added afterwards
    emission[covered] = 0
    sky = np.all(albedo == bare, axis=2)
    sky[horizon:] = False
    if 'sky' in setting:
        emission += setting['sky'] * sky[..., None]
    for obj in objects:
        if rng.uniform() < setting['lamps_on']:
            for lx, ly, radius, color in obj['lamps']:
                cx, cy = int(obj['x0'] + lx), int(obj['y0'] + ly)
                if 0 <= cy < h and 0 <= cx < w and obj['labels'][cy, cx]:
                    cv2.circle(emission, (cx, cy), max(1, int(radius)),
                               tuple(20.0 * c for c in color[::-1]), -1)
    glow = cv2.GaussianBlur(emission, (0, 0), 0.02 * w)
    radiance = albedo * setting['illumination'][..., None] + emission + glow
    params = sample_low_light_params(
        rng,
        exposure_range=tuple(NIGHT_EXPOSURE_SCALE * e
                             for e in setting['exposure']),
        gamma_range=(2.0, 2.4),
        shot_noise_range=NIGHT_SHOT_NOISE,
        read_noise_range=NIGHT_READ_NOISE,
        color_cast_range=(1.0, 1.0),
        color_cast_prob=0.0)
    params['color_cast'] = [float(c) for c in setting['cast']]
    night = darken_linear(radiance, params, rng)
    # zero noise: the generator passed here draws numbers that are scaled
    # by 0, and ``rng`` is left as it was
    clean = darken_linear(
        radiance, dict(params, shot_noise=0.0, read_noise=0.0),
        np.random.default_rng(0)) if clean_night else None
    illumination = setting['illumination'].astype(np.float32)
    if day_rng is None:
        return RenderedScene(night, boxes, params, illumination,
                             clean_night=clean)
    day_sky = sky if not indoor else np.zeros_like(sky)
    day, day_illum = _render_day(day_rng, albedo, emission, day_sky)
    return RenderedScene(night, boxes, params, illumination, day, day_illum,
                         clean)
