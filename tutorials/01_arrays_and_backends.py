# %% [markdown]
# # 01 · Arrays and backends: NumPy, CuPy, `xp`, host and device
#
# **What this teaches.** Everything minigan computes is an array. This tutorial shows where
# those arrays live (the *backend*), how one piece of code runs unchanged on NumPy (CPU),
# CuPy (GPU) and a strict stand-in used by the tests, and the one mistake that only shows on
# a GPU: a host array meeting a device array.
#
# **How long it runs.** About 2 seconds (the same in fast mode, `MINIGAN_FAST=1`).
#
# **Run it** with `python tutorials/01_arrays_and_backends.py`, or open it as a notebook
# (`jupytext --to notebook`, or VS Code's "Run Cell"). Figures go to `tutorials/figures/`
# (or `$MINIGAN_FIGURES`). Its `CHECK` lines print the numbers the text claims; the test
# suite asserts each one.
#
# The reference page for this lesson is [Backends](../docs/backends.md).

# %%
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode (nothing to shrink here)
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Arrays, shapes and dtypes
#
# A minibatch of m two-dimensional points is an array of shape `(m, 2)`: one row per
# example. Training uses `float32` (half the memory and twice the speed of `float64` on a
# GPU); gradient checks use `float64` (tutorial 03 shows why).

# %%
x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], dtype=np.float32)  # (m, 2) with m = 3
print("shape", x.shape, "dtype", x.dtype)
print("column means (axis=0 runs down the rows):", np.mean(x, axis=0))
print("row sums     (axis=1 runs along a row):  ", np.sum(x, axis=1))

# %% [markdown]
# Broadcasting lines shapes up from the right and repeats axes of length 1. Adding a bias
# of shape `(2,)` to a batch `(m, 2)` adds it to every row. (Its gradient, in tutorial 04, is
# the sum over the rows: the copies made by broadcasting add up on the way back.)

# %%
bias = np.array([10.0, 20.0], dtype=np.float32)
print((x + bias))  # (3, 2) + (2,) -> (3, 2)

# %% [markdown]
# ## 2. A backend: the array namespace `xp`
#
# `minigan.get_backend(name)` returns a `Backend`: its `xp` is the array library, its
# `array_type` the one kind of array it accepts. Code in minigan never writes `np.` or
# `cupy.`: it asks for `xp` and writes array-API spellings, which NumPy, CuPy and
# array-api-strict all understand.

# %%
numpy_backend = minigan.get_backend("numpy")
strict_backend = minigan.get_backend("strict")
print(numpy_backend, numpy_backend.xp.__name__, numpy_backend.default_float)
print(strict_backend, strict_backend.xp.__name__, strict_backend.default_float)


def log_one_plus_exp(a, xp):
    """softplus(a) = log(1 + exp(a)), written once for any backend.

    logaddexp(a, 0) = log(exp(a) + exp(0)): the same value, but finite for a = 1000.
    """
    return xp.logaddexp(a, xp.zeros_like(a))


def column_softplus_means(data, xp):
    """A little pipeline in array-API spellings: functions of xp, never methods."""
    rows = xp.reshape(data, (-1, 2))  # not data.reshape(...): strict arrays have no such method
    return xp.mean(log_one_plus_exp(rows, xp), axis=0)


host = np.linspace(-4.0, 4.0, 10, dtype=np.float32)
on_numpy = column_softplus_means(numpy_backend.asarray(host), numpy_backend.xp)
on_strict = column_softplus_means(strict_backend.asarray(host), strict_backend.xp)
print("numpy :", on_numpy)
print("strict:", on_strict)

# %% [markdown]
# ## 3. Host and device
#
# The *host* is the CPU and its memory; a *device* is a GPU with its own memory. A NumPy
# array lives on the host, a CuPy array on the device. `backend.asarray(host_array)` copies
# to the backend, `backend.to_host(array)` copies back. On a GPU each copy crosses the PCIe
# bus and waits for the GPU to finish, so training code keeps its arrays on the device and
# copies only what it reports.
#
# The strict backend plays the part of "some other array library" on a machine without a
# GPU, and it is fussy on purpose. Its arrays have no `.reshape` method, indexing must name
# every axis, and mixing it with NumPy raises:

# %%
a = strict_backend.asarray([1.0, 2.0])
for attempt, action in [
    ("a.reshape(2)", lambda: a.reshape(2)),
    ("a + np.ones(2)", lambda: a + np.ones(2)),
]:
    try:
        action()
        print(f"{attempt:16s} worked")
    except (AttributeError, TypeError) as error:
        print(f"{attempt:16s} -> {type(error).__name__}: {str(error)[:70]}")

# %% [markdown]
# One leak is silent even there: `np.exp(strict_array)` quietly converts the input and
# returns a **NumPy** array, a copy on the host. (CuPy happens to forward `np.exp` to itself,
# but not every NumPy function, and `np.asarray(cupy_array)` raises: only `xp.exp` is right
# everywhere.) minigan catches the leak where arrays enter a `Tensor`: a tensor accepts only
# its backend's array type.

# %%
leaked = np.exp(a)
print("np.exp(strict array) returned a", type(leaked).__module__, type(leaked).__name__)
try:
    minigan.Tensor(leaked, strict_backend)
except TypeError as error:
    print("Tensor refused it:", error)

# %% [markdown]
# ## 4. Randomness: one seeded generator, drawn on the host
#
# `backend.random(seed)` draws with NumPy's PCG64 on the host and copies the draw to the
# backend. CuPy's own generators would give different numbers for the same seed; drawing on
# the host gives the same numbers on every backend, so a run on the GPU can be replayed on a
# laptop.

# %%
n = 2_000 if FAST else 20_000
draws_numpy = numpy_backend.random(seed=7).normal((n,))
draws_strict = strict_backend.random(seed=7).normal((n,))
same = np.array_equal(numpy_backend.to_host(draws_numpy), strict_backend.to_host(draws_strict))
print(f"{n} normal draws, seed 7: identical on numpy and strict? {same}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(numpy_backend.to_host(draws_numpy), bins=50, alpha=0.6, label="numpy backend")
ax.hist(strict_backend.to_host(draws_strict), bins=50, histtype="step", color="k", label="strict backend")
ax.set_xlabel("value")
ax.set_ylabel("count")
ax.set_title("Same seed, same draws on every backend")
ax.legend()
fig.tight_layout()
fig.savefig(FIGURES / "01_same_seed_draws.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "01_same_seed_draws.png")

# %% [markdown]
# ## 5. The GPU, if there is one
#
# `minigan.gpu_available()` is True when CuPy is installed and sees a CUDA device;
# `get_backend("auto")` then picks `"cupy"`, otherwise `"numpy"`. Installing CuPy is on the
# [Backends](../docs/backends.md) page; tutorial 15 times the GPU against the CPU.

# %%
print("GPU available:", minigan.gpu_available(), "-> 'auto' means", minigan.get_backend("auto").name)
if minigan.gpu_available():
    cupy_backend = minigan.get_backend("cupy")
    on_gpu = column_softplus_means(cupy_backend.asarray(host), cupy_backend.xp)
    print("cupy  :", cupy_backend.to_host(on_gpu))

# %% [markdown]
# ## The checked number
#
# The same function on two backends must give the same numbers (to float32 rounding).

# %%
difference = float(np.max(np.abs(numpy_backend.to_host(on_numpy) - strict_backend.to_host(on_strict))))
assert same, "the same seed gave different draws on numpy and strict"
print(f"CHECK backend_max_abs_difference = {difference:.3e}")
