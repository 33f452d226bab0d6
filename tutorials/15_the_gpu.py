# %% [markdown]
# # 15 · The GPU: the same training on CuPy, and a timing table
#
# **What this teaches.** Nothing in minigan's models changes on a GPU: pass
# `backend="cupy"` and the same code runs there, because every module asks its tensors for
# `xp` (tutorial 01). What does change is *where time goes*. We check that a seeded run
# gives the same numbers on both backends, then time NumPy against CuPy on matrix products
# and on whole training steps of growing size, synchronising the device before reading the
# clock, and see where the GPU starts to win and what a host-device sync per step costs.
#
# **How long it runs.** About 1 minute with a GPU (about 15 seconds in fast mode,
# `MINIGAN_FAST=1`); CuPy compiles its kernels on first use, so the very first run takes
# longer. **Without a GPU** it explains what it would do and how to get one working, and
# exits cleanly in a second.
#
# Builds on [12](12_images.py) and [01](01_arrays_and_backends.py). Installing CuPy, and the
# host/device traps, are on the [Backends](../docs/backends.md) page.

# %%
import os
import pathlib
import time

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan
from minigan import gan, losses

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode: shorter timings
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 0. Is there a GPU?
#
# `minigan.gpu_available()` is True when CuPy is installed and sees a CUDA device. If not,
# this tutorial stops here (in a notebook you will see `SystemExit: 0`: that is the clean
# stop, not an error).

# %%
GPU = minigan.gpu_available()
if not GPU:
    print("""No usable GPU here, so there is nothing to time.

With an NVIDIA GPU this tutorial would:
  1. compute the same seeded gradients and training steps on backend="numpy" and "cupy" and compare;
  2. time matrix products of growing size on both (the GPU loses on small ones, wins big on large ones);
  3. time whole Algorithm 1 steps for a small, a wide and an image GAN;
  4. show what one host-device sync per step (float(loss)) costs.

To get there: check your CUDA version with `nvidia-smi`, then
  pip install -e ".[gpu]"        # CUDA 12 (cupy-cuda12x), in your minigan checkout
  pip install cupy-cuda13x       # CUDA 13
and check with: python -m minigan.demo.selfcheck --backend cupy
Details: docs/backends.md.""")
    print("CHECK gpu_available = 0")
    raise SystemExit(0)

# %%
import cupy  # noqa: E402  (only on this path: the machine has a GPU)

numpy_backend = minigan.get_backend("numpy")
cupy_backend = minigan.get_backend("cupy")
device = cupy.cuda.runtime.getDeviceProperties(0)
print(f"GPU: {device['name'].decode()}, {device['totalGlobalMem'] / 2**30:.0f} GiB; CuPy {cupy.__version__}")


def sync(backend):
    """Wait for the device to finish its queued work. GPU calls return at once (they only
    queue the work), so a clock read without this measures the queueing, not the work."""
    if backend.name == "cupy":
        backend.xp.cuda.Device().synchronize()


# %% [markdown]
# ## 1. The same code on the device
#
# A tensor made on the cupy backend holds a `cupy.ndarray` in GPU memory; every op runs
# there. `.numpy()` (or `backend.to_host`) is the explicit copy back.

# %%
x = minigan.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, backend="cupy")
y = (x @ x).sigmoid().sum()
y.backward()
print("x lives in", type(x.data).__module__, type(x.data).__name__)
print("x.grad, copied to the host:\n", cupy_backend.to_host(x.grad))

# %% [markdown]
# ## 2. Same seed, same numbers
#
# minigan draws every random number on the host from one seeded generator and copies it to
# the device (see [Backends](../docs/backends.md#randomness-on-every-backend)), so a model
# built on the GPU starts from the same weights and sees the same minibatches as on the CPU.
# We take one minibatch, compute both players' gradients on each backend, and compare: only
# float32 rounding may differ (cuBLAS and OpenBLAS add in different orders).

# %%
def first_gradients(backend_name):
    model = gan.build(gan.recipe("ring", backend=backend_name))
    x = model.sample(model.p_data, model.m)  # (m, 2): the same draws on both backends
    z = model.sample(model.p_z, model.m)
    loss = losses.discriminator_loss(model.D(x), model.D(model.G(z)))  # no detach: G gets gradients too
    loss.backward()
    grads = {"G." + n: p.backend.to_host(p.grad) for n, p in model.G.named_parameters()}
    grads.update({"D." + n: p.backend.to_host(p.grad) for n, p in model.D.named_parameters()})
    return grads


grads_cpu, grads_gpu = first_gradients("numpy"), first_gradients("cupy")
difference = max(float(np.max(np.abs(grads_cpu[n] - grads_gpu[n]))) for n in grads_cpu)
largest = max(float(np.max(np.abs(g))) for g in grads_cpu.values())
print(f"gradients of {len(grads_cpu)} parameters: largest {largest:.2e}, "
      f"largest numpy-cupy difference {difference:.1e}")

# %% [markdown]
# Training amplifies those last-bit differences: Adam's first steps move each weight by
# about the learning rate whatever the size of its gradient, so a gradient that is zero up to
# rounding can move a weight differently on the two backends, and a GAN's dynamics carry the
# difference on. Runs on the two backends therefore agree closely for a while, then drift
# apart (each still a valid run).

# %%
def short_run(backend_name, steps):
    config = gan.recipe("ring", backend=backend_name, steps=steps)
    model = gan.build(config)
    model.train(steps)
    return model.G.state_dict()


for steps in (1, 20):
    on_cpu, on_gpu = short_run("numpy", steps), short_run("cupy", steps)
    drift = max(float(np.max(np.abs(on_cpu[name] - on_gpu[name]))) for name in on_cpu)
    print(f"after {steps:2d} training steps, largest difference between G's weights: {drift:.1e}")

# %% [markdown]
# ## 3. Matrix products: where the GPU starts to win
#
# Each GPU call costs a few microseconds to launch, whatever its size; the work itself is
# far faster than on a CPU. So small products are faster on the CPU and large ones on the
# GPU. `time_per_call` repeats an operation for a fixed time, synchronising the device
# before each clock read.

# %%
def time_per_call(fn, backend, seconds):
    fn()  # warm up (the first CuPy call compiles and caches the kernel)
    sync(backend)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    sync(backend)
    return (time.perf_counter() - start) / calls


budget = 0.1 if FAST else 0.5  # seconds per measurement
sizes = [64, 256, 1024, 4096]
rows = []
for n in sizes:
    times = {}
    for backend in (numpy_backend, cupy_backend):
        rng = backend.random(0)
        a, b = rng.normal((n, n)), rng.normal((n, n))  # float32 on the backend
        times[backend.name] = time_per_call(lambda: backend.xp.matmul(a, b), backend, budget)
    rows.append((n, times["numpy"], times["cupy"]))

print(f"{'float32 matmul':>16s} | {'numpy':>10s} | {'cupy':>10s} | {'speedup':>8s}")
for n, t_cpu, t_gpu in rows:
    print(f"{f'{n} x {n}':>16s} | {t_cpu * 1e3:8.3f}ms | {t_gpu * 1e3:8.3f}ms | {t_cpu / t_gpu:7.1f}x")

# %% [markdown]
# ## 4. Whole training steps
#
# One Algorithm 1 iteration is a few dozen small ops, each a kernel launch on the GPU. For
# the toy ring GAN (layers of 128, minibatches of 256) launches dominate and the CPU may well
# win; widen the networks and minibatches, or move to images, and the GPU pulls ahead.

# %%
CONFIGS = {
    "ring: 128-wide, m=256": dict(dataset="ring"),
    "ring: 1024-wide, m=1024": dict(dataset="ring", g_hidden=(1024, 1024), d_hidden=(1024, 1024), m=1024),
    "digits: 256-wide, m=64": dict(dataset="digits"),
    "digits: 1024-wide, m=512": dict(dataset="digits", g_hidden=(1024, 1024), d_hidden=(1024, 1024), m=512),
}


def steps_per_second(backend_name, changes, seconds):
    model = gan.build(gan.recipe(backend=backend_name, **changes))
    for _ in range(3):  # warm up
        model.train_step()
    sync(model.backend)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.train_step()
        count += 1
    sync(model.backend)
    return count / (time.perf_counter() - start)


budget = 0.5 if FAST else 3.0
speeds = {}
print(f"{'training iterations per second':>30s} | {'numpy':>8s} | {'cupy':>8s} | {'speedup':>8s}")
for name, changes in CONFIGS.items():
    cpu, gpu = steps_per_second("numpy", changes, budget), steps_per_second("cupy", changes, budget)
    speeds[name] = (cpu, gpu)
    print(f"{name:>30s} | {cpu:8.1f} | {gpu:8.1f} | {gpu / cpu:7.1f}x")

fig, ax = plt.subplots(figsize=(7, 3.5))
names = list(speeds)
ax.barh(np.arange(len(names)) + 0.2, [speeds[n][0] for n in names], height=0.4, label="numpy (CPU)")
ax.barh(np.arange(len(names)) - 0.2, [speeds[n][1] for n in names], height=0.4, label="cupy (GPU)")
ax.set_yticks(range(len(names)), names)
ax.set_xscale("log")
ax.set_xlabel("training iterations per second")
ax.legend()
fig.tight_layout()
fig.savefig(FIGURES / "10_speed.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "10_speed.png")

# %% [markdown]
# ## 5. The cost of looking: one sync per step
#
# `float(loss)` copies one number to the host, which forces the CPU to wait until the GPU
# has finished everything queued before it. Done every step, it stops the CPU from queueing
# the next step's work while the GPU computes. minigan's `GAN.train` therefore keeps each
# step's numbers on the device and checks them every `check_every` steps, and
# `callbacks.History` copies them in batches.

# %%
def loop_speed(read_every_step, seconds):
    model = gan.build(gan.recipe("ring", backend="cupy"))
    model.train_step()
    sync(model.backend)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        record = model.train_step()
        if read_every_step:
            float(record.g_loss)  # a device -> host copy: the CPU waits for the GPU here
        count += 1
    sync(model.backend)
    return count / (time.perf_counter() - start)


quiet, chatty = loop_speed(False, budget), loop_speed(True, budget)
print(f"ring on cupy: {quiet:.0f} it/s reading nothing, {chatty:.0f} it/s reading the loss every step "
      f"({chatty / quiet:.0%} of the speed)")

# %% [markdown]
# `python -m minigan.demo.selfcheck --backend cupy` runs these checks and more (every gradient on
# the device, one step against NumPy in float64), and `benchmarks/train_step.py` compares
# minigan with a hand-written NumPy step and PyTorch; see [Performance](../docs/performance.md).
#
# ## The checked number
#
# The largest difference between the first gradients on NumPy and on CuPy (float32
# rounding only; gradients are of order 0.01 to 1).

# %%
print(f"CHECK numpy_cupy_max_abs_difference = {difference:.3e}")
