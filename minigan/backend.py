"""Where arrays live: the one module that decides between NumPy, CuPy and the strict stand-in.

Every other module asks a backend (or a tensor's ``.backend``) for its array namespace
``xp`` and writes array-API spellings (``xp.sum(a, axis=0)``, ``xp.matmul``,
``xp.astype``), so a single code path runs on:

- ``"numpy"``  : NumPy on the CPU;
- ``"cupy"``   : CuPy on an NVIDIA GPU (``pip install -e ".[gpu]"``, as the README says);
- ``"strict"`` : array-api-strict, a deliberately fussy stand-in for "some other array
  library", used by the tests to catch NumPy leaking into backend-agnostic code;
- ``"auto"``   : cupy when a CUDA device is usable, else numpy.

Randomness: every backend draws from one seeded NumPy generator on the host and copies
the draw to the device. Same seed, same numbers on every backend, which is what lets a
checkpoint written on the GPU resume on a laptop bit for bit.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

BACKEND_NAMES = ("numpy", "cupy", "strict", "auto")
# install hints use the README's wording: the commands run from the minigan folder
GPU_HINT = ('install CuPy with `pip install -e ".[gpu]"` (CuPy for CUDA 12; for CUDA 13 install `cupy-cuda13x` '
            'instead), or use backend="numpy"')


class BackendUnavailable(RuntimeError):
    """The backend asked for cannot run here (library missing or no device)."""


@dataclass(frozen=True, eq=False)
class Backend:
    """An array library as minigan sees it.

    name          "numpy" | "cupy" | "strict"
    xp            the array namespace every other module uses
    array_type    a Tensor refuses anything else: that is how host/device leaks get caught
    default_float the dtype training uses (float32); gradient checks ask for float64
    """

    name: str
    xp: ModuleType
    array_type: type
    default_float: Any
    _extra: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"

    # ---- host <-> device ------------------------------------------------------------
    def asarray(self, data, dtype=None):
        """Copy host data (a number, list or NumPy array) onto this backend."""
        if isinstance(data, self.array_type):
            return data if dtype is None else self.xp.astype(data, dtype)
        if self.name == "numpy":
            return np.asarray(data, dtype=dtype)
        host = np.asarray(data)
        return self.xp.asarray(host, dtype=dtype)

    def check(self, array):
        """Return ``array`` if it is this backend's array type, else raise TypeError.

        This is the check that catches host/device leaks: ``np.exp(strict_array)`` quietly
        returns a NumPy array, and a Tensor built from it on the strict backend is refused.
        (NumPy reductions return NumPy scalars; they are made 0-d arrays here.)
        """
        if isinstance(array, self.array_type):
            return array
        if self.name == "numpy" and isinstance(array, np.generic):
            return np.asarray(array)
        raise TypeError(
            f"data: got a {type(array).__module__}.{type(array).__name__}, wanted a {self.name} array "
            f"({self.array_type.__module__}.{self.array_type.__name__}); an array from another library leaked in"
        )

    def to_host(self, array) -> np.ndarray:
        """Copy a backend array to a NumPy array on the host."""
        if self.name == "cupy":
            return self.xp.asnumpy(array)
        return np.asarray(array)

    def dtype(self, name: str):
        """The backend's dtype object for a name such as "float32" or "float64"."""
        try:
            return getattr(self.xp, name)
        except AttributeError:
            raise ValueError(f"dtype: got {name!r}, wanted a dtype name such as 'float32' or 'float64'") from None

    def is_float(self, array) -> bool:
        return self.xp.isdtype(array.dtype, "real floating")

    # ---- randomness -----------------------------------------------------------------
    def random(self, seed: int) -> "Random":
        """A seeded random generator that draws on the host and copies to this backend."""
        return Random(self, seed)

    # ---- the one op the array API lacks ---------------------------------------------
    def add_at(self, array, index, values):
        """Return a copy of ``array`` with ``values`` added at rows ``index`` (duplicates add up).

        ``index`` indexes axis 0. NumPy has ``np.add.at``, CuPy ``cupyx.scatter_add``; the
        array API has no scatter, so the strict backend goes through the host.
        """
        if self.name == "numpy":
            out = array.copy()
            np.add.at(out, index, values)
            return out
        if self.name == "cupy":
            out = array.copy()
            self._extra["cupyx"].scatter_add(out, index, values)
            return out
        out = np.array(self.to_host(array))
        np.add.at(out, self.to_host(index), self.to_host(values))
        return self.asarray(out)

    def windows(self, x, kernel, stride):
        """The (kH, kW) windows of a channels-last array x (N, H, W, C), every ``stride`` =
        (sH, sW)-th one, as an array (N, Ho, Wo, kH, kW, C) with Ho = (H - kH) // sH + 1:

            windows[n, p, q, i, j, c] = x[n, p * sH + i, q * sW + j, c]

        NumPy and CuPy give a strided view that copies nothing (``as_strided``: the window
        axes step one pixel, the position axes ``stride`` pixels); read it, never write it,
        since windows overlap in memory. The array API has no strided views, so the strict
        backend builds the same view on a host copy and copies the result back.
        """
        (k_h, k_w), (s_h, s_w) = kernel, stride
        n, h, w, c = x.shape
        shape = (n, (h - k_h) // s_h + 1, (w - k_w) // s_w + 1, k_h, k_w, c)
        if self.name == "strict":
            host = np.asarray(self.to_host(x))
            return self.asarray(np.ascontiguousarray(_window_view(np.lib.stride_tricks.as_strided, host, shape, stride)))
        as_strided = np.lib.stride_tricks.as_strided if self.name == "numpy" else self.xp.lib.stride_tricks.as_strided
        return _window_view(as_strided, x, shape, stride)


def _window_view(as_strided, x, shape, stride):
    """``as_strided`` with the strides of Backend.windows (x's own strides, in bytes)."""
    t_n, t_h, t_w, t_c = x.strides
    return as_strided(x, shape=shape, strides=(t_n, t_h * stride[0], t_w * stride[1], t_h, t_w, t_c))

class Random:
    """A seeded generator: NumPy's PCG64 on the host, draws copied to the backend.

    ``state`` / ``set_state`` give a JSON-safe snapshot for exact-resume checkpoints.
    """

    def __init__(self, backend: Backend, seed: int):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed: got {seed!r}, wanted a non-negative integer")
        self.backend = backend
        self.seed = int(seed)
        self.host = np.random.default_rng(self.seed)

    def _out(self, host_array, dtype):
        dtype = self.backend.default_float if dtype is None else dtype
        return self.backend.asarray(host_array, dtype=dtype)

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        return self._out(self.host.normal(mean, std, size=shape), dtype)

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        return self._out(self.host.uniform(low, high, size=shape), dtype)

    def integers(self, low, high, shape):
        return self.backend.asarray(self.host.integers(low, high, size=shape))

    def bernoulli(self, shape, p, dtype=None):
        """1 with probability p, else 0 (a dropout keep-mask is bernoulli(keep))."""
        return self._out(self.host.random(size=shape) < p, dtype)

    def state(self) -> dict:
        return self.host.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.host.bit_generator.state = state


REAL_KINDS = "biuf"   # NumPy dtype kinds a tensor may hold: bool, signed and unsigned int, float


def check_data(data) -> None:
    """Raise TypeError or ValueError, naming ``data``, unless it holds real numbers in a rectangle.

    For ``minigan.tensor``: host data (numbers, nested lists, NumPy arrays) is looked at
    through NumPy, here, so that autograd never imports it."""
    if data is None:
        raise TypeError("data: got None, wanted a number, a (nested) list of numbers or an array")
    if isinstance(data, (str, bytes)):
        raise TypeError(f"data: got the string {data!r}, wanted a number, a (nested) list of numbers or an array")
    if hasattr(data, "dtype") and not isinstance(data, (np.ndarray, np.generic)):
        kind = getattr(data.dtype, "kind", None)   # CuPy dtypes have kinds; array-api-strict's do not
        if kind is None:
            kind = "c" if "complex" in str(data.dtype) else "f"
    else:
        try:
            kind = np.asarray(data).dtype.kind
        except ValueError:  # NumPy's "inhomogeneous shape": rows of different lengths
            raise ValueError("data: got a ragged nested list (rows of different lengths), "
                             "wanted a rectangular list of numbers") from None
    if kind == "c":
        raise TypeError("data: got complex numbers, wanted real numbers (take .real or abs() first)")
    if kind not in REAL_KINDS:
        what = {"U": "strings", "S": "bytes", "O": "objects that are not numbers (such as None)",
                "M": "dates", "m": "time spans"}.get(kind, f"values of kind {kind!r}")
        raise TypeError(f"data: got a {type(data).__name__} of {what}, wanted real numbers")



def _cupy_or_raise():
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        raise BackendUnavailable(f"backend 'cupy': CuPy is not installed; {GPU_HINT}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDA driver missing or broken
        raise BackendUnavailable(
            f"backend 'cupy': CuPy is installed but no CUDA device is usable ({error}); use backend='numpy'"
        ) from None
    if count < 1:
        raise BackendUnavailable("backend 'cupy': CuPy is installed but found no CUDA device; use backend='numpy'")
    return cupy


_CACHE: dict[str, Backend] = {}


def _make(name: str) -> Backend:
    if name == "numpy":
        return Backend("numpy", np, np.ndarray, np.float32)
    if name == "cupy":
        cupy = _cupy_or_raise()
        cupyx = importlib.import_module("cupyx")
        return Backend("cupy", cupy, cupy.ndarray, cupy.float32, {"cupyx": cupyx})
    if name == "strict":
        try:
            strict = importlib.import_module("array_api_strict")
        except ImportError:
            raise BackendUnavailable(
                'backend \'strict\': array-api-strict is not installed; `pip install -e ".[test]"`'
            ) from None
        array_type = type(strict.asarray(0.0))
        return Backend("strict", strict, array_type, strict.float32)
    raise AssertionError(name)


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        _cupy_or_raise()
    except BackendUnavailable:
        return False
    return True


def get_backend(name: str | Backend | None = "numpy") -> Backend:
    """Return the backend called ``name``: "numpy", "cupy", "strict" or "auto".

    ``None`` means numpy. "auto" picks cupy when a CUDA device is usable, else numpy.
    Asking for cupy where it cannot run raises BackendUnavailable with the fix.
    """
    if isinstance(name, Backend):
        return name
    if name is None:
        name = "numpy"
    if not isinstance(name, str) or name not in BACKEND_NAMES:
        raise ValueError(f"backend: got {name!r}, wanted one of {', '.join(BACKEND_NAMES)}")
    if name == "auto":
        name = "cupy" if gpu_available() else "numpy"
    if name not in _CACHE:
        _CACHE[name] = _make(name)
    return _CACHE[name]


def backend_of(array) -> Backend:
    """The backend whose array type ``array`` is (numpy first; never imports cupy)."""
    if isinstance(array, np.ndarray):
        return get_backend("numpy")
    for backend in _CACHE.values():
        if isinstance(array, backend.array_type):
            return backend
    module = type(array).__module__.split(".")[0]
    if module == "cupy":
        return get_backend("cupy")
    if module == "array_api_strict":
        return get_backend("strict")
    raise TypeError(f"array: got {type(array).__name__}, wanted a numpy, cupy or array-api-strict array")
