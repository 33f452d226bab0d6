"""What every distribution in minigan.data shares: argument checks and the sampling contract.

A distribution (a noise prior p_z or a data distribution p_data) is a small object with

    dist.sample(m, rng)   a fresh minibatch: a float32 array of shape (m, dist.dim) on
                          rng's backend, every random number drawn from ``rng``
    dist.dim              the length of one sample
    dist.name             a short name ("ring", "digits", ...) for logs and metrics.json
    repr(dist)            how it was made, e.g. ``ring(modes=8, radius=2.0, std=0.02)``

``rng`` is a ``minigan.backend.Random``: it draws on the host from one seeded NumPy
generator and copies the draw to its backend, so the same seed gives the same data on
NumPy, CuPy and the strict test backend.
"""
from __future__ import annotations

import math
import os

import numpy as np

from minigan.backend import Random


def cache_dir() -> str:
    """Where minigan caches what it makes once (drawn datasets, trained judges):
    ``$MINIGAN_CACHE`` if set (and not empty), else ``~/.cache/minigan``. Deleting it is always safe."""
    return os.path.expanduser(os.environ.get("MINIGAN_CACHE") or os.path.join("~", ".cache", "minigan"))


def write_cache(path: str, arrays: dict) -> None:
    """Save ``arrays`` to the .npz ``path`` atomically: a temporary file in the same folder,
    then a rename, so a reader sees the old file or the new one, never half of one. A folder
    that cannot be written just means no cache: the caller makes the thing again next time."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    except OSError:
        if os.path.exists(temporary):
            os.remove(temporary)


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, or a ValueError naming ``name`` when it is not an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name}: got {value!r}, wanted {wanted}")
    return int(value)


def check_positive_number(name: str, value) -> float:
    """``value`` as a float, or a ValueError naming ``name`` when it is not finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: got {value!r}, wanted a positive finite number")
    return float(value)


def check_finite_number(name: str, value) -> float:
    """``value`` as a float, or a ValueError naming ``name`` when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ValueError(f"{name}: got {value!r}, wanted a finite number")
    return float(value)


class Distribution:
    """The common part: the checks on ``sample``'s arguments and a per-backend array cache.

    Subclasses call ``super().__init__()``, set ``name`` and ``dim`` and write ``sample``
    (which starts with ``m = self.check_sample_args(m, rng)``).
    """

    name = "distribution"
    dim = 0

    def __init__(self):
        self._on_backend = {}  # (key, backend name) -> array already on that backend

    def check_sample_args(self, m, rng) -> int:
        """Return m as an int after checking the minibatch size and the generator."""
        if not isinstance(rng, Random):
            raise TypeError(
                f"rng: got a {type(rng).__name__}, wanted a minigan.backend.Random "
                f"(e.g. get_backend('numpy').random(0))"
            )
        return check_positive_int("m", m)

    def resident(self, key: str, host_array: np.ndarray, backend):
        """``host_array`` copied to ``backend`` once (float32), then reused on every call.

        Mode centres and whole image datasets live on the device; only the random draws
        (a few numbers per sample) travel on each call.
        """
        if (key, backend.name) not in self._on_backend:
            self._on_backend[key, backend.name] = backend.asarray(host_array, dtype=backend.default_float)
        return self._on_backend[key, backend.name]

    def sample(self, m, rng):  # pragma: no cover - every subclass writes its own
        raise NotImplementedError
