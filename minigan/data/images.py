"""Image datasets as data distributions: the 8x8 digits of scikit-learn and MNIST from files.

Both become an ``ImageDataset``: every image flattened to one row and scaled to [-1, 1]
(the range of a tanh output layer), kept on the host as ``images`` (n, dim) with its
``labels``, and copied to the backend the first time it is sampled. Sampling draws m row
indices uniformly with replacement from the generator, so a fixed seed gives the same
minibatches on every backend.

- ``digits()``: 1,797 images of 8x8 pixels bundled inside scikit-learn (no download);
  scikit-learn is the optional ``minigan[datasets]`` extra, imported only here.
- ``mnist(path)``: 60,000 images of 28x28 pixels, read from files already on disk (the
  IDX files of the MNIST distribution, optionally gzipped, or a ``.npz``).
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from minigan.data.base import Distribution

DATASETS_HINT = 'install it with `pip install -e ".[datasets]"`'  # the README's wording (the extra is scikit-learn)

# IDX header: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
# then each dimension as a big-endian uint32; the pixels or labels follow, one byte each.
IDX_UBYTE = 0x08
IDX_PREFIXES = {"train": ("train-images", "train-labels"), "test": ("t10k-images", "t10k-labels")}
NPZ_KEYS = {"train": (("x_train", "y_train"), ("images", "labels")),
            "test": (("x_test", "y_test"), ("images", "labels"))}


class ImageDataset(Distribution):
    """A fixed set of images sampled uniformly with replacement.

    images       (n, dim) float32 NumPy array in [-1, 1], one flattened image per row
    labels       (n,) int64 NumPy array of class labels
    image_shape  (rows, cols), to turn a row back into a picture
    """

    def __init__(self, images, labels, image_shape, name: str, spec: str = ""):
        super().__init__()
        images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels)
        if images.ndim != 2 or images.shape[0] < 1 or images.shape[1] != math.prod(image_shape):
            raise ValueError(f"images: got shape {images.shape}, "
                             f"wanted (n, {math.prod(image_shape)}) for images of {image_shape}")
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels: got shape {labels.shape}, wanted ({images.shape[0]},), one per image")
        self.images = images
        self.labels = labels.astype(np.int64)
        self.image_shape = tuple(image_shape)
        self.dim = images.shape[1]
        self.name = name
        self._spec = spec

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        return f"{self.name}({self._spec})  # {len(self)} images of {self.image_shape[0]}x{self.image_shape[1]}"

    def sample(self, m, rng):
        """m images drawn uniformly with replacement: a float32 (m, dim) array on rng's backend."""
        m = self.check_sample_args(m, rng)
        xp = rng.backend.xp
        images = self.resident("images", self.images, rng.backend)   # (n, dim), copied once
        rows = rng.integers(0, len(self), (m,))                      # (m,) row indices
        return xp.take(images, rows, axis=0)                          # (m, dim)


def digits() -> ImageDataset:
    """The 8x8 handwritten digits bundled in scikit-learn: 1,797 images, 64 pixels each.

    Pixels run 0..16 in the original; x / 8 - 1 puts them in [-1, 1].
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(f"digits(): needs scikit-learn, which is not installed; {DATASETS_HINT}") from None
    bunch = load_digits()
    images = bunch.data / 8.0 - 1.0                                  # (1797, 64) in [-1, 1]
    return ImageDataset(images, bunch.target, (8, 8), name="digits")


def mnist(path, split: str = "train") -> ImageDataset:
    """MNIST read from local files, pixels scaled to [-1, 1]: (n, 784) rows and n labels.

    ``path`` is either
    - a directory holding the IDX files ``train-images-idx3-ubyte`` and
      ``train-labels-idx1-ubyte`` (``t10k-...`` for split="test"), each optionally ``.gz``
      (also accepted: the ``train-images.idx3-ubyte`` spelling, or a ``mnist.npz`` there), or
    - a ``.npz`` file with arrays ``x_train``/``y_train`` (``x_test``/``y_test``), as Keras
      ships it, or ``images``/``labels``.
    Nothing is downloaded: a missing file raises FileNotFoundError saying where to put it.
    """
    if split not in IDX_PREFIXES:
        raise ValueError(f"split: got {split!r}, wanted 'train' or 'test'")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: got a {type(path).__name__}, wanted a directory or .npz file path")
    path = os.fspath(path)
    spec = f"{path!r}, split={split!r}"
    if os.path.isfile(path):
        images, labels = _read_npz(path, split)
        return ImageDataset(_scale_pixels(images, path), labels, images.shape[1:], name="mnist", spec=spec)
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"mnist: {os.path.abspath(path)!r} does not exist; pass a directory holding the MNIST IDX files "
            f"(train-images-idx3-ubyte, train-labels-idx1-ubyte, ...) or the path of a .npz such as Keras' mnist.npz"
        )
    image_names, label_names = _idx_names(split)
    image_file = _first_existing(path, image_names)
    label_file = _first_existing(path, label_names)
    if image_file is None or label_file is None:
        if image_file is None and label_file is None and os.path.isfile(os.path.join(path, "mnist.npz")):
            return mnist(os.path.join(path, "mnist.npz"), split)
        raise FileNotFoundError(
            f"mnist: no MNIST {split} files in {os.path.abspath(path)!r}: looked for "
            f"{' or '.join(image_names[::2])} and {' or '.join(label_names[::2])} (each also as .gz) "
            f"or mnist.npz; put the MNIST IDX files (or Keras' mnist.npz) there, or pass the path of a .npz"
        )
    images = read_idx(image_file, ndim=3)                             # (n, 28, 28) uint8
    labels = read_idx(label_file, ndim=1)                             # (n,) uint8
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"mnist: {image_file!r} holds {images.shape[0]} images but {label_file!r} "
                         f"{labels.shape[0]} labels; the two files are from different sets")
    return ImageDataset(_scale_pixels(images, image_file), labels, images.shape[1:], name="mnist", spec=spec)


def read_idx(filename: str, ndim: int) -> np.ndarray:
    """The unsigned-byte array stored in an IDX file (``.gz`` is decompressed), checked.

    Raises ValueError when the magic number is not that of an ``ndim``-dimensional
    unsigned-byte array, or the file's length does not match the shape in its header.
    """
    raw = _read_bytes(filename)
    wanted_magic = bytes([0, 0, IDX_UBYTE, ndim])
    if raw[:4] != wanted_magic:
        raise ValueError(f"{filename}: magic number 0x{raw[:4].hex()}, wanted 0x{wanted_magic.hex()} "
                         f"(an IDX file of unsigned bytes in {ndim} dimensions); not an MNIST file of this kind")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{filename}: {len(raw)} bytes, shorter than its {header}-byte header; the file is truncated")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])         # big-endian uint32 sizes
    wanted_size = header + math.prod(shape)
    if len(raw) != wanted_size:
        raise ValueError(f"{filename}: {len(raw)} bytes, wanted {wanted_size} for an array of shape {shape}; "
                         f"the file is truncated or damaged")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_bytes(filename: str) -> bytes:
    if not filename.endswith(".gz"):
        with open(filename, "rb") as file:
            return file.read()
    try:
        with gzip.open(filename, "rb") as file:
            return file.read()
    except (OSError, EOFError, zlib.error) as error:   # BadGzipFile is an OSError
        raise ValueError(f"{filename}: not a readable gzip file ({error}); the file is truncated or damaged") from None


def _idx_names(split: str) -> tuple[list[str], list[str]]:
    """The file names tried for the images and the labels, in order of preference."""
    images, labels = IDX_PREFIXES[split]
    names = []
    for prefix, kind in ((images, "idx3"), (labels, "idx1")):
        plain = [f"{prefix}-{kind}-ubyte", f"{prefix}.{kind}-ubyte"]
        names.append([name + ext for name in plain for ext in ("", ".gz")])
    return names[0], names[1]


def _first_existing(directory: str, names: list[str]) -> str | None:
    for name in names:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _read_npz(filename: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) from a .npz: images (n, rows, cols) or (n, rows*cols) of a square."""
    try:
        archive = np.load(filename, allow_pickle=False)
    except (OSError, ValueError, zlib.error) as error:
        raise ValueError(f"{filename}: not a readable .npz file ({error})") from None
    with archive:
        keys = next((pair for pair in NPZ_KEYS[split] if pair[0] in archive.files and pair[1] in archive.files), None)
        if keys is None:
            wanted = " or ".join("/".join(pair) for pair in NPZ_KEYS[split])
            raise ValueError(f"{filename}: holds arrays {sorted(archive.files)}, wanted {wanted}")
        try:
            images, labels = archive[keys[0]], archive[keys[1]]
        except (OSError, ValueError, zlib.error) as error:
            raise ValueError(f"{filename}: could not read {keys} ({error}); the file is truncated or damaged") from None
    if images.ndim == 2:                                              # (n, rows*cols) -> (n, rows, cols)
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"{filename}: {keys[0]} has shape {images.shape}, "
                             f"wanted (n, rows, cols) or (n, side*side)")
        images = images.reshape(images.shape[0], side, side)
    if images.ndim != 3 or images.shape[0] < 1:
        raise ValueError(f"{filename}: {keys[0]} has shape {images.shape}, wanted (n, rows, cols) with n >= 1")
    if labels.shape != (images.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{filename}: {keys[1]} has shape {labels.shape} and dtype {labels.dtype}, "
                         f"wanted ({images.shape[0]},) integers, one per image")
    return images, labels


def _scale_pixels(images: np.ndarray, source: str) -> np.ndarray:
    """(n, rows, cols) pixels -> (n, rows*cols) float32 in [-1, 1].

    uint8 pixels 0..255 become p / 127.5 - 1; float pixels already in [0, 1] become 2 p - 1.
    """
    n = images.shape[0]
    if images.dtype == np.uint8:
        scaled = images.astype(np.float32) / 127.5 - 1.0
    elif np.issubdtype(images.dtype, np.floating) and images.min() >= 0.0 and images.max() <= 1.0:
        scaled = 2.0 * images.astype(np.float32) - 1.0
    else:
        raise ValueError(f"{source}: pixels of dtype {images.dtype}, wanted uint8 (0..255) or floats in [0, 1]")
    return scaled.reshape(n, -1)
