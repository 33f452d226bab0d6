"""Cartoon faces with known factors, drawn by code: no download, a deterministic function of a seed.

Every face is a coloured disc with a pair of eyes and a mouth, each chosen from a fixed list of
styles, so every image comes with its labels:

    colour  COLOURS   5 face colours
    eyes    EYES      4 styles: open, closed (two arcs), winking, glasses
    mouth   MOUTHS    5 styles: smile, frown, open, flat, tongue

5 x 4 x 5 = 100 combinations, and each combination is a "mode" of the data, as each Gaussian
is a mode of the ring: a judge that knows the factors can count how many of them a generator
draws (minigan.judging). Small random shifts, sizes and tilts (the nuisances) keep the task
from being a lookup table.

How a shape is drawn: a signed distance field. For every pixel, d is its distance to the
shape's edge, negative inside. The pixel's coverage is clip(0.5 - d / pixel, 0, 1): 1 well
inside, 0 well outside, and a ramp one pixel wide across the edge, which is anti-aliasing.
Painting a layer is then a blend, image = (1 - coverage) * image + coverage * colour.

    faces = data.faces(n=2000, size=32, seed=0)   # an ImageDataset of (2000, 3*32*32) rows in [-1, 1]
    faces.factors["mouth"][:5]                     # the mouth style of the first five faces
"""
from __future__ import annotations

import os
import zipfile

import numpy as np

from minigan.data.base import cache_dir, check_positive_int, write_cache
from minigan.data.images import ImageDataset

COLOURS = {"yellow": (1.00, 0.82, 0.20), "orange": (1.00, 0.55, 0.15), "pink": (1.00, 0.62, 0.75),
           "green": (0.45, 0.80, 0.35), "blue": (0.40, 0.62, 1.00)}
EYES = ("open", "closed", "wink", "glasses")
MOUTHS = ("smile", "frown", "open", "flat", "tongue")
FACTORS = {"colour": tuple(COLOURS), "eyes": EYES, "mouth": MOUTHS}
SIZES = (16, 32, 64)
BACKGROUND, INK, TONGUE = (0.96, 0.96, 0.94), (0.16, 0.10, 0.10), (0.86, 0.22, 0.32)
CACHE_VERSION = 1          # bump when the drawing changes: older cache files are then redrawn
CHUNK = 1000               # faces drawn at once: bounds the (chunk, size, size) temporaries


# ---- signed distances, in face units (the face's radius is 1) ------------------------------
def circle(x, y, cx, cy, r):
    """Distance to a disc of radius r centred at (cx, cy); negative inside."""
    return np.hypot(x - cx, y - cy) - r


def ring(x, y, cx, cy, r, width):
    """A circle's outline, ``width`` thick."""
    return np.abs(np.hypot(x - cx, y - cy) - r) - width / 2


def segment(x, y, ax, ay, bx, by, width):
    """A stroke from (ax, ay) to (bx, by) with round ends, ``width`` thick."""
    px, py, dx, dy = x - ax, y - ay, bx - ax, by - ay
    t = np.clip((px * dx + py * dy) / (dx * dx + dy * dy), 0.0, 1.0)   # nearest point's share of the way
    return np.hypot(px - t * dx, py - t * dy) - width / 2


def arc(x, y, cx, cy, r, half_angle, width, opens_up):
    """A stroke along the circle (cx, cy, r), within ``half_angle`` of its lowest point
    (``opens_up``: a smile, U) or of its highest point (a frown or a closed eye, n)."""
    qx, qy = x - cx, (y - cy) if opens_up else (cy - y)          # flip n into U
    angle = np.arctan2(qx, -qy)                                   # 0 at the lowest point
    on_arc = np.abs(np.hypot(qx, qy) - r)
    ends = np.hypot(np.abs(qx) - r * np.sin(half_angle), qy + r * np.cos(half_angle))
    return np.where(np.abs(angle) <= half_angle, on_arc, ends) - width / 2


def ellipse(x, y, cx, cy, ax, ay):
    """An ellipse with half-axes ax, ay (the distance is exact on the axes, close elsewhere)."""
    return (np.hypot((x - cx) / ax, (y - cy) / ay) - 1.0) * min(ax, ay)


# ---- the features ----------------------------------------------------------------------------
def eye_layers(style: str, x, y) -> list:
    """[(distance, colour)] layers of one eye style; eyes sit at (+-0.35, 0.25)."""
    dot = lambda cx: circle(x, y, cx, 0.25, 0.13)                                   # noqa: E731
    shut = lambda cx: arc(x, y, cx, 0.20, 0.15, 1.1, 0.08, opens_up=False)         # noqa: E731
    if style == "open":
        return [(np.minimum(dot(-0.35), dot(0.35)), INK)]
    if style == "closed":
        return [(np.minimum(shut(-0.35), shut(0.35)), INK)]
    if style == "wink":
        return [(np.minimum(dot(-0.35), shut(0.35)), INK)]
    frames = np.minimum(ring(x, y, -0.35, 0.25, 0.22, 0.07), ring(x, y, 0.35, 0.25, 0.22, 0.07))
    bridge = segment(x, y, -0.13, 0.27, 0.13, 0.27, 0.07)
    pupils = np.minimum(circle(x, y, -0.35, 0.25, 0.08), circle(x, y, 0.35, 0.25, 0.08))
    return [(np.minimum(np.minimum(frames, bridge), pupils), INK)]


def mouth_layers(style: str, x, y) -> list:
    """[(distance, colour)] layers of one mouth style, painted in order; mouths sit near y = -0.4."""
    if style == "smile":
        return [(arc(x, y, 0.0, -0.12, 0.42, 0.95, 0.09, opens_up=True), INK)]
    if style == "frown":
        return [(arc(x, y, 0.0, -0.75, 0.32, 1.15, 0.09, opens_up=False), INK)]
    if style == "open":
        return [(ellipse(x, y, 0.0, -0.42, 0.24, 0.17), INK)]
    if style == "flat":
        return [(segment(x, y, -0.30, -0.42, 0.30, -0.42, 0.09), INK)]
    tongue = np.maximum(circle(x, y, 0.0, -0.58, 0.19), y + 0.52)    # the half of a disc below the lips
    return [(tongue, TONGUE), (arc(x, y, 0.0, -0.12, 0.42, 0.95, 0.09, opens_up=True), INK)]


# ---- drawing a batch ----------------------------------------------------------------------
def paint(image, distance, colour, pixel):
    """Blend ``colour`` over ``image`` (n, 3, S, S) where ``distance`` (n, S, S) < 0, anti-aliased."""
    coverage = np.clip(0.5 - distance / pixel, 0.0, 1.0)[:, None]     # (n, 1, S, S)
    colour = np.asarray(colour, dtype=np.float32).reshape(-1, 3, 1, 1)  # one colour, or one per face
    image *= 1.0 - coverage
    image += coverage * colour


def draw(colour, eyes, mouth, shift, radius, tilt, size: int) -> np.ndarray:
    """Faces for per-face factor indices and nuisances (each an (n,) or (n, 2) array):
    float32 (n, 3, size, size) in [0, 1]."""
    n = len(colour)
    centres = (-1.0 + (np.arange(size) + 0.5) * 2.0 / size).astype(np.float32)  # pixel centres in [-1, 1]
    X, Y = np.meshgrid(centres, -centres)                                  # (S, S); y points up
    shift, radius, tilt = (np.asarray(a, dtype=np.float32) for a in (shift, radius, tilt))  # float32: half the time of float64
    dx, dy = X[None] - shift[:, :1, None], Y[None] - shift[:, 1:, None]   # (n, S, S), about the face
    cos, sin = np.cos(tilt)[:, None, None], np.sin(tilt)[:, None, None]
    r = radius[:, None, None]
    x, y = (cos * dx + sin * dy) / r, (cos * dy - sin * dx) / r            # face units: turned, scaled
    pixel = (2.0 / size) / r                                               # one pixel, in face units
    image = np.empty((n, 3, size, size), dtype=np.float32)
    image[:] = np.asarray(BACKGROUND, dtype=np.float32).reshape(1, 3, 1, 1)
    skin = np.asarray(list(COLOURS.values()), dtype=np.float32)[colour]    # (n, 3)
    paint(image, circle(x, y, 0.0, 0.0, 1.0), skin, pixel)
    paint(image, ring(x, y, 0.0, 0.0, 1.0, 0.07), 0.55 * skin, pixel)      # the outline, a darker skin
    for styles, names, layers_of in ((eyes, EYES, eye_layers), (mouth, MOUTHS, mouth_layers)):
        for index, name in enumerate(names):
            rows = np.flatnonzero(styles == index)                         # the faces with this style
            if rows.size == 0:
                continue
            part = image[rows]
            for distance, ink in layers_of(name, x[rows], y[rows]):
                paint(part, distance, ink, pixel[rows])
            image[rows] = part
    return image


def make_faces(n: int, size: int, seed: int):
    """(images uint8 (n, 3, size, size), factors {name: (n,) int64}): the set ``faces`` returns."""
    rng = np.random.default_rng([seed, size, n])
    factors = {name: rng.integers(0, len(values), n) for name, values in FACTORS.items()}
    shift = rng.uniform(-0.06, 0.06, (n, 2))                  # nuisances: where the face sits,
    radius = rng.uniform(0.78, 0.88, n)                       # how big it is,
    tilt = rng.uniform(-0.15, 0.15, n)                        # and how far it leans (radians)
    images = np.empty((n, 3, size, size), dtype=np.uint8)
    for start in range(0, n, CHUNK):
        rows = slice(start, start + CHUNK)
        drawn = draw(factors["colour"][rows], factors["eyes"][rows], factors["mouth"][rows],
                     shift[rows], radius[rows], tilt[rows], size)
        images[rows] = np.round(drawn * 255.0)
    return images, factors


def combination(factors: dict) -> np.ndarray:
    """One label per face: its (colour, eyes, mouth) combination as one number in [0, 100)."""
    return (factors["colour"] * len(EYES) + factors["eyes"]) * len(MOUTHS) + factors["mouth"]


def cache_file(n: int, size: int, seed: int, folder: str | None = None) -> str:
    return os.path.join(folder or cache_dir(), f"faces_v{CACHE_VERSION}_n{n}_size{size}_seed{seed}.npz")


def _read_cache(path: str, n: int, size: int):
    """The cached set, or None when the file is missing, damaged or of another shape."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            images, factors = saved["images"], {name: saved[name] for name in FACTORS}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    if images.shape != (n, 3, size, size) or images.dtype != np.uint8 \
            or any(f.shape != (n,) or f.min() < 0 or f.max() >= len(FACTORS[k]) for k, f in factors.items()):
        return None
    return images, factors


def faces(n: int = 20000, size: int = 32, seed: int = 0, cache: bool = True) -> ImageDataset:
    """``n`` cartoon faces of ``size`` x ``size`` RGB pixels, each row (3 * size * size,) in [-1, 1].

    The set is a function of (n, size, seed) alone. ``labels`` is each face's combination
    (``combination``), ``factors`` its colour, eyes and mouth, ``image_shape`` (3, size, size),
    channels first as ``nn.Conv2d`` wants them. Drawn sets are cached under ``$MINIGAN_CACHE``
    (else ~/.cache/minigan); a missing, damaged or foreign cache file is drawn again.
    """
    n = check_positive_int("n", n)
    if size not in SIZES:
        raise ValueError(f"size: got {size!r}, wanted one of {', '.join(map(str, SIZES))}")
    seed = check_positive_int("seed", seed, minimum=0)
    path = cache_file(n, size, seed)
    found = _read_cache(path, n, size) if cache else None
    if found is None:
        found = make_faces(n, size, seed)
        if cache:
            write_cache(path, {"images": found[0], **found[1]})
    images, factors = found
    rows = images.reshape(n, -1).astype(np.float32) / 127.5 - 1.0         # [0, 255] -> [-1, 1]
    dataset = ImageDataset(rows, combination(factors), (3, size, size), name="faces",
                           spec=f"n={n}, size={size}, seed={seed}")
    dataset.factors = factors
    return dataset
