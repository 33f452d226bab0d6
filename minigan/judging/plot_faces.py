"""Colour images in a grid: generated faces beside real ones, a grid of conditional faces, and
the training GIF of a face GAN. Rows of (3 * S * S) values in [-1, 1], channels first, as
``minigan.data.faces`` and a DCGAN's G give them.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.figure import Figure

from minigan.judging.plot import _check_path, _points, save_figure, written_atomically


def check_shape(image_shape) -> tuple:
    if len(image_shape) != 3 or image_shape[0] != 3 or image_shape[1] < 1 or image_shape[2] < 1:
        raise ValueError(f"image_shape: got {tuple(image_shape)}, wanted (3, rows, cols): RGB, channels first")
    return tuple(int(s) for s in image_shape)


def colour_grid(images, image_shape, columns: int = 10, pad: int = 1) -> np.ndarray:
    """Tile rows of RGB images into one (H, W, 3) picture in [0, 1] on white, ``columns`` per row."""
    channels, rows, cols = check_shape(image_shape)
    images = _points("images", images, channels * rows * cols)
    pictures = np.clip((images.reshape(-1, channels, rows, cols).transpose(0, 2, 3, 1) + 1.0) / 2.0, 0.0, 1.0)
    lines = math.ceil(len(pictures) / columns)
    canvas = np.ones((lines * (rows + pad) + pad, columns * (cols + pad) + pad, 3))
    for i, picture in enumerate(pictures):
        r, c = divmod(i, columns)
        top, left = pad + r * (rows + pad), pad + c * (cols + pad)
        canvas[top:top + rows, left:left + cols] = picture
    return canvas


def _show(ax, images, image_shape, title, columns=None):
    columns = columns or math.ceil(math.sqrt(len(images)))                 # a square-ish grid
    ax.imshow(colour_grid(images, image_shape, columns=columns), interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()


def plot_faces(fake, path, image_shape, real=None, title: str | None = None, columns: int | None = None,
               label: str = "generated G(z)") -> str:
    """Up to 100 generated images as a grid (titled ``label``); real ones beside them when given."""
    fake = _points("fake", fake, math.prod(check_shape(image_shape)))[:100]
    panels = 2 if real is not None else 1
    columns = columns or math.ceil(math.sqrt(len(fake)))
    lines = math.ceil(len(fake) / columns)
    fig = Figure(figsize=(4.6 * panels, 4.6 * lines / columns + 0.6), layout="constrained")   # the grid's shape
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if real is not None:
        _show(axes[0], _points("real", real, fake.shape[1])[:100], image_shape, "real faces", columns)
    _show(axes[-1], fake, image_shape, label, columns)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def save_faces_gif(snapshots, path, image_shape, fps: int = 4, dpi: int = 80) -> str:
    """An animated GIF of the first 64 generated images of each ``(step, samples)`` snapshot."""
    path = _check_path(path, ".gif")
    if not isinstance(fps, int) or isinstance(fps, bool) or fps < 1:
        raise ValueError(f"fps: got {fps!r}, wanted a positive integer")
    if not snapshots:
        raise ValueError("snapshots: got an empty list, wanted at least one (step, samples) pair")
    dim = math.prod(check_shape(image_shape))
    frames = [(int(step), _points("snapshot samples", samples, dim)[:64]) for step, samples in snapshots]
    fig = Figure(figsize=(4, 4.4))
    ax = fig.subplots()
    picture = ax.imshow(colour_grid(frames[0][1], image_shape, columns=8), interpolation="nearest")
    ax.set_axis_off()
    title = ax.set_title("")
    fig.tight_layout()
    fig.set_layout_engine("none")                 # every frame the same size, no layout pass per frame
    writer = PillowWriter(fps=fps)
    with written_atomically(path, ".gif") as temp:      # PillowWriter picks GIF from the suffix
        with writer.saving(fig, temp, dpi):
            for step, samples in frames:
                picture.set_data(colour_grid(samples, image_shape, columns=8))
                title.set_text(f"generated faces, step {step}")
                writer.grab_frame()
    return path
