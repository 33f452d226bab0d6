# %% [markdown]
# # 14 · From minigan to PyTorch: the same GAN side by side, weights that move both ways
#
# **What this teaches.** Everything minigan does, PyTorch does with other names: a
# `Tensor` with `backward()`, layers, logit losses, Adam. We carry the ring GAN across
# (`minigan.interop`) and check that nothing about the math changes: one Algorithm 1 step
# gives the same losses and gradients in both, to rounding in float64; a run trained 500
# steps in minigan goes on for 500 more in PyTorch where it left off, optimizer state and
# all. A table maps every minigan name to its PyTorch counterpart. Then what PyTorch adds
# beyond one machine: CUDA, mixed precision, and DistributedDataParallel, run here for real
# on two CPU processes and checked against one process at the same total minibatch.
#
# **How long it runs.** About 1 minute on two CPU cores, most of it training the ring
# (about 10 seconds in fast mode, `MINIGAN_FAST=1`, which trains a smaller GAN for fewer
# steps and runs the DDP script in a single process). **Without PyTorch** it says how to
# install it and exits cleanly in a second.
#
# Builds on [08](08_two_dims_and_mode_collapse.py) (the ring) and
# [12](12_images.py). The same content in prose: [Next steps](../docs/next_steps.md).

# %%
import inspect
import os
import pathlib
import subprocess
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan
from minigan import gan, interop, losses, nn, optim
from minigan.gan import callbacks
from minigan.gan import checkpoint
from minigan.judging import metrics

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 0. Is PyTorch here?
#
# minigan never needs PyTorch; `minigan.interop` imports it only when called. If it is not
# installed, this tutorial stops here (in a notebook you will see `SystemExit: 0`: that is
# the clean stop, not an error).

# %%
try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("""PyTorch is not installed, so there is nothing to compare with.

With PyTorch this tutorial would:
  1. convert minigan's ring G and D to torch.nn.Sequential and take one Algorithm 1 step in both (float64);
  2. train 500 steps in minigan, then continue 500 in PyTorch from the converted checkpoint;
  3. map every minigan name to its PyTorch counterpart;
  4. run the same loop with DistributedDataParallel on two CPU processes.

To get there, in your minigan checkout (the CPU build, about 200 MB):
  pip install -e ".[torch]" --extra-index-url https://download.pytorch.org/whl/cpu
Details: docs/next_steps.md.""")
    print("CHECK torch_available = 0")
    raise SystemExit(0)

torch.set_num_threads(1)  # small matrices: one thread, like minigan's tests (docs/performance.md)
print("PyTorch", torch.__version__)

# %% [markdown]
# ## 1. The same networks on both sides
#
# We build the ring GAN's G and D as `gan.build` does (MLPs of 128 x 128), in float64 so
# that only rounding can differ, and convert them. `interop.to_torch` gives a
# `torch.nn.Sequential` with the weights copied. One thing is laid out differently:
# minigan's `Linear` keeps its weight as (n_in, n_out) and computes `x @ W + b` (rows are
# examples, as in the math), `torch.nn.Linear` keeps (n_out, n_in) and computes
# `x @ W.T + b`; the conversion transposes. Names keep their position: minigan's
# `layers.2.weight` is PyTorch's `2.weight`.

# %%
rng = minigan.get_backend("numpy").random(0)
G = nn.MLP([2, 128, 128, 2], "relu", rng=rng, dtype="float64")          # noise z (m, 2) -> sample (m, 2)
D = nn.MLP([2, 128, 128, 1], "leaky_relu", rng=rng, dtype="float64")    # sample (m, 2) -> logit (m, 1)
G_torch, D_torch = interop.to_torch(G), interop.to_torch(D)
print(D_torch)
print(f"{'minigan name':>18s} {'shape':>11s}   {'PyTorch name':>12s} {'shape':>11s}")
for (name, p), (torch_name, q) in zip(D.named_parameters(), D_torch.named_parameters()):
    print(f"{name:>18s} {str(p.shape):>11s}   {torch_name:>12s} {str(tuple(q.shape)):>11s}")

# %% [markdown]
# ## 2. One Algorithm 1 step in both
#
# The same minibatch x ~ p_data, the same noise z ~ p_z, one discriminator step, then one
# generator step, each with Adam (betas 0.5, 0.999, the DCGAN recipe). On the PyTorch side
# the losses are `F.binary_cross_entropy_with_logits` against labels 1 (real) and 0 (fake):
# -V(D, G) = mean softplus(-a_real) + mean softplus(a_fake) is exactly that. We compare
# the losses, every parameter's gradient and every parameter after the step.

# %%
p_data, p_z, m = minigan.data.ring(), minigan.data.normal_noise(2), 256
x = p_data.sample(m, rng).astype(np.float64)        # (m, 2)
z = p_z.sample(m, rng).astype(np.float64)           # (m, 2): the discriminator's step
z_g = p_z.sample(m, rng).astype(np.float64)         # fresh noise for the generator's step

opt_G, opt_D = optim.Adam(G.parameters(), lr=1.5e-3), optim.Adam(D.parameters(), lr=1.5e-3)
# minigan: gan.train_step's lines
real, fake = D(minigan.tensor(x)), D(G(minigan.tensor(z)).detach())
loss_D = losses.discriminator_loss(real, fake)
gan.update(opt_D, loss_D)
D_grads = [p.grad.copy() for p in D.parameters()]
loss_G = losses.generator_loss(D(G(minigan.tensor(z_g))), form="non_saturating")
gan.update(opt_G, loss_G)
G_grads = [p.grad.copy() for p in G.parameters()]


def bce(logits, target):
    """Binary cross-entropy on logits against a constant label (1 = real, 0 = fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(target)))


def torch_d_step(G, D, opt_D, x, z):
    """The discriminator's step: descend -V = bce(D(x), 1) + bce(D(G(z)), 0), G fixed."""
    with torch.no_grad():
        fake = G(z)                                 # like .detach(): no gradient to G
    loss = bce(D(x), 1) + bce(D(fake), 0)
    opt_D.zero_grad()
    loss.backward()
    opt_D.step()
    return loss


def torch_g_step(G, D, opt_G, z):
    """The generator's step, non-saturating: descend -mean log D(G(z)) = bce(D(G(z)), 1)."""
    loss = bce(D(G(z)), 1)
    opt_G.zero_grad()
    loss.backward()                                 # D's parameters get gradients too; its step clears them
    opt_G.step()
    return loss


opt_G_torch = torch.optim.Adam(G_torch.parameters(), lr=1.5e-3, betas=(0.5, 0.999))
opt_D_torch = torch.optim.Adam(D_torch.parameters(), lr=1.5e-3, betas=(0.5, 0.999))
loss_D_torch = torch_d_step(G_torch, D_torch, opt_D_torch, torch.from_numpy(x), torch.from_numpy(z))
D_grads_torch = [q.grad.clone() for q in D_torch.parameters()]
loss_G_torch = torch_g_step(G_torch, D_torch, opt_G_torch, torch.from_numpy(z_g))
G_grads_torch = [q.grad.clone() for q in G_torch.parameters()]


def layout(array):
    return array.T if array.ndim == 2 else array     # minigan (n_in, n_out) -> PyTorch (n_out, n_in)


differences = {
    "L_D": abs(loss_D.item() - loss_D_torch.item()),
    "L_G": abs(loss_G.item() - loss_G_torch.item()),
    "D's gradients": max(np.abs(layout(a) - b.numpy()).max() for a, b in zip(D_grads, D_grads_torch)),
    "G's gradients": max(np.abs(layout(a) - b.numpy()).max() for a, b in zip(G_grads, G_grads_torch)),
    "parameters after the step": max(np.abs(layout(p.numpy()) - q.detach().numpy()).max()
                                     for net, net_torch in ((G, G_torch), (D, D_torch))
                                     for p, q in zip(net.parameters(), net_torch.parameters())),
}
print(f"L_D = {loss_D.item():.12f} (minigan), {loss_D_torch.item():.12f} (PyTorch)")
print(f"L_G = {loss_G.item():.12f} (minigan), {loss_G_torch.item():.12f} (PyTorch)")
for what, difference in differences.items():
    print(f"largest difference, {what}: {difference:.1e}")
one_step = max(differences.values())
assert one_step < 1e-6, f"minigan and PyTorch disagree by {one_step:.1e} after one step"

# %% [markdown]
# Every difference is at the level of float64 rounding (about 1e-16 relative): the two
# frameworks add the same numbers in different orders, nothing more. The gradients are the
# same because the math is: minigan's hand-derived vector-Jacobian products (tutorials 02
# to 04, checked there against finite differences) and PyTorch's autograd compute the same
# derivatives.
#
# ## 3. 500 steps in minigan, then 500 more in PyTorch
#
# Now a real run: `gan.recipe("ring")` for 1,000 steps (float32, the learning rate decayed
# linearly to a tenth by step 1,000). We train 500 steps in minigan and save a checkpoint,
# then resume it twice: once in minigan, as a reference, and once converted to PyTorch:
# the networks with `to_torch`, both Adams with `to_torch_optimizer` (the step count t
# and the moments m and v; without them Adam's next steps would be about lr in size,
# whatever the gradient). Both continuations draw their minibatches from the checkpoint's
# generator, and the PyTorch loop sets the learning rate from the same schedule.

# %%
if FAST:  # a smaller GAN, fewer steps: a few seconds
    config = gan.recipe("ring", steps=200, m=64, g_hidden=(64, 64), d_hidden=(64, 64), lr=3e-3, threads=1)
else:
    config = gan.recipe("ring", steps=1000, threads=1)
half = config.steps // 2
model = gan.build(config)
history = callbacks.History()
model.train(half, callbacks=[history, *gan.schedules(config, model)])
saved = checkpoint.save(pathlib.Path(tempfile.mkdtemp()) / "ring.npz", model)


def coverage(samples):
    c = metrics.mode_coverage(samples, p_data.centres, p_data.std)
    return c.modes_covered, c.high_quality_fraction


noise = model.p_z.sample(metrics.N_SAMPLES, model.backend.random(1))  # the same z for every look at G
modes_half, hq_half = coverage(model.generate(metrics.N_SAMPLES, seed=1))
print(f"step {half} (minigan): {modes_half} of 8 modes, high quality {hq_half:.1%}")

# the reference: the checkpoint resumed in minigan
reference = gan.resume(saved)
reference_history = callbacks.History()
reference.train(config.steps - half, callbacks=[reference_history, *gan.schedules(config, reference)])

# the same checkpoint, continued in PyTorch
resumed = gan.resume(saved)
G_t, D_t = interop.to_torch(resumed.G), interop.to_torch(resumed.D)
opt_G_t = interop.to_torch_optimizer(resumed.opt_G, G_t.parameters())
opt_D_t = interop.to_torch_optimizer(resumed.opt_D, D_t.parameters())
lr_schedule = gan.schedules(config, resumed)[0]      # minigan's schedule, read step by step
torch_d_losses, torch_g_losses = [], []
for step in range(half, config.steps):
    for opt in (opt_G_t, opt_D_t):
        for group in opt.param_groups:
            group["lr"] = lr_schedule.value(step)    # the lr for the iteration after `step` done
    x = torch.from_numpy(resumed.p_data.sample(config.m, resumed.rng))   # (m, 2) float32
    z = torch.from_numpy(resumed.p_z.sample(config.m, resumed.rng))
    torch_d_losses.append(torch_d_step(G_t, D_t, opt_D_t, x, z).item())
    z = torch.from_numpy(resumed.p_z.sample(config.m, resumed.rng))
    torch_g_losses.append(torch_g_step(G_t, D_t, opt_G_t, z).item())

with torch.no_grad():
    samples_torch = G_t(torch.from_numpy(noise)).numpy()            # (2500, 2)
samples_reference = reference.generate(metrics.N_SAMPLES, seed=1)  # the same z through minigan's G
modes_torch, hq_torch = coverage(samples_torch)
modes_reference, hq_reference = coverage(samples_reference)
reference_d = np.array(reference_history["d_loss"])
before_d = np.array(history["d_loss"])
first_step_gap = abs(torch_d_losses[0] - reference_d[0])
window = max(config.steps // 10, 10)
print(f"step {config.steps}, continued in PyTorch: {modes_torch} of 8 modes, high quality {hq_torch:.1%}")
print(f"step {config.steps}, continued in minigan: {modes_reference} of 8 modes, high quality {hq_reference:.1%}")
print(f"first step after the switch: L_D = {torch_d_losses[0]:.6f} (PyTorch), {reference_d[0]:.6f} (minigan)")
print(f"mean L_D over the last {window} steps: {np.mean(torch_d_losses[-window:]):.3f} (PyTorch), "
      f"{reference_d[-window:].mean():.3f} (minigan); before the switch {before_d[-window:].mean():.3f}")

fig, (ax, *panels) = plt.subplots(1, 3, figsize=(14, 4), layout="constrained", width_ratios=[2, 1, 1])
steps_before, steps_after = np.arange(1, half + 1), np.arange(half + 1, config.steps + 1)
ax.plot(steps_before, before_d, color="tab:blue", lw=0.8, label="L_D, minigan")
ax.plot(steps_after, reference_d, color="tab:gray", lw=0.8, label="L_D, continued in minigan")
ax.plot(steps_after, torch_d_losses, color="tab:orange", lw=0.8, alpha=0.8, label="L_D, continued in PyTorch")
ax.axvline(half, color="k", ls=":", lw=1)
ax.set_xlabel("step")
ax.set_ylabel("L_D = -V(D, G)")
ax.legend(fontsize=8)
for panel, samples, title in zip(panels, (samples_reference, samples_torch),
                                 ("continued in minigan", "continued in PyTorch")):
    panel.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:orange", label="G's samples")
    panel.scatter(*p_data.centres.T, marker="x", s=20, color="k", label="mode centres")
    panel.set_xlim(-2.7, 2.7)
    panel.set_ylim(-2.7, 2.7)
    panel.set_aspect("equal")
    panel.set_title(f"step {config.steps}, {title}", fontsize=9)
fig.savefig(FIGURES / "14_handover.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "14_handover.png")

# %% [markdown]
# The switch does not show. By step 500 minigan has found all 8 modes (the high-quality
# fraction still under a third); PyTorch's first step computes the same L_D as minigan's
# own next step (here to every digit, and to float32 rounding at worst), and the PyTorch
# run ends at step 1,000 with all 8 modes and about three quarters of its samples of high
# quality, as the continuation in minigan does. The two continuations do not stay identical, though:
# float32 rounding differs in the last bit, and a GAN's dynamics amplify such differences
# (tutorial 15 shows the same between NumPy and CuPy), so after a few hundred steps they
# are two different, equally good runs.
#
# ## 4. The names, side by side
#
# | minigan | PyTorch |
# | --- | --- |
# | `minigan.tensor(data, requires_grad=True)` | `torch.tensor(data, requires_grad=True)` |
# | `Tensor.backward()`, `.grad` (an array) | `Tensor.backward()`, `.grad` (a tensor) |
# | `minigan.no_grad()` | `torch.no_grad()` |
# | `minigan.grad(outputs, inputs, create_graph=True)` | `torch.autograd.grad(outputs, inputs, create_graph=True)` |
# | `Tensor.detach()` | `Tensor.detach()` |
# | `Tensor.numpy()` | `Tensor.detach().cpu().numpy()` |
# | `get_backend("cupy")`, `Module.to(backend)` | `device="cuda"`, `Module.to("cuda")` |
# | `nn.Linear(n_in, n_out)`: weight (n_in, n_out), `x @ W + b` | `torch.nn.Linear(n_in, n_out)`: weight (n_out, n_in), `x @ W.T + b` |
# | `nn.ReLU`, `nn.LeakyReLU(0.2)`, `nn.Tanh`, `nn.Sigmoid`, `nn.Dropout(p)` | `torch.nn.ReLU`, `torch.nn.LeakyReLU(0.2)`, `torch.nn.Tanh`, `torch.nn.Sigmoid`, `torch.nn.Dropout(p)` |
# | `nn.MLP([2, 128, 128, 1], "leaky_relu")` | `torch.nn.Sequential(Linear(2, 128), LeakyReLU(0.2), Linear(128, 128), LeakyReLU(0.2), Linear(128, 1))` |
# | `Module.parameters()`, `named_parameters()`: `layers.0.weight` | `Module.parameters()`, `named_parameters()`: `0.weight` |
# | `Module.state_dict()`, `load_state_dict()` (NumPy arrays) | `Module.state_dict()`, `load_state_dict()` (tensors) |
# | `Module.train()`, `Module.eval()` | `Module.train()`, `Module.eval()` |
# | `losses.discriminator_loss(a_real, a_fake)` | `F.binary_cross_entropy_with_logits(a_real, ones) + F.binary_cross_entropy_with_logits(a_fake, zeros)` |
# | `losses.generator_loss(a_fake, "non_saturating")` | `F.binary_cross_entropy_with_logits(a_fake, ones)` |
# | `losses.generator_loss(a_fake, "minimax")` | `-F.binary_cross_entropy_with_logits(a_fake, zeros)` |
# | `losses.value_function(a_real, a_fake)` | `F.logsigmoid(a_real).mean() + F.logsigmoid(-a_fake).mean()` |
# | `losses.bce_with_logits(a, t)` | `F.binary_cross_entropy_with_logits(a, t)` |
# | `losses.discriminator_loss(a_real, a_fake, "lsgan")`, `generator_loss(a_fake, "lsgan")` | `0.5 * F.mse_loss(a_real, ones) + 0.5 * F.mse_loss(a_fake, zeros)`, `0.5 * F.mse_loss(a_fake, ones)` |
# | `losses.discriminator_loss(a_real, a_fake, "wgan")`, `"hinge"` | `a_fake.mean() - a_real.mean()`, `F.relu(1 - a_real).mean() + F.relu(1 + a_fake).mean()` |
# | `losses.generator_loss(a_fake, "wgan")`, `"hinge"` | `-a_fake.mean()` |
# | `losses.r1_penalty(D, x)` (`minigan.grad(..., create_graph=True)` inside) | `torch.autograd.grad(D(x).sum(), x, create_graph=True)`, then the mean squared norm |
# | `optim.Adam(params, lr, betas)`, `optim.SGD(params, lr, momentum)` | `torch.optim.Adam(params, lr, betas)`, `torch.optim.SGD(params, lr, momentum)` |
# | `opt.zero_grad()`, `opt.step()`, `opt.lr = ...` | `opt.zero_grad()`, `opt.step()`, `opt.param_groups[0]["lr"] = ...` |
# | `callbacks.LinearSchedule` | `torch.optim.lr_scheduler.LinearLR` |
# | `gan.update(opt, loss)` | `opt.zero_grad(); loss.backward(); opt.step()` |
# | `gan.GAN.train_step()` | the hand-written loop: `torch_d_step` and `torch_g_step` above |
# | `backend.random(seed)` (one explicit generator) | `torch.Generator().manual_seed(seed)`, or the global `torch.manual_seed(seed)` |
# | `checkpoint.save(path, gan)` (npz, no pickle) | `torch.save(state_dicts, path)`; load with `torch.load(path, weights_only=True)` |
#
# Two differences hide behind the same names. SGD's momentum buffer: minigan's velocity is
# in parameter units (v <- momentum v - lr g; p <- p + v), PyTorch's in gradient units
# (b <- momentum b + g; p <- p - lr b), so `to_torch_optimizer` carries b = -v / lr. And
# Adam's step count: minigan counts t once per `step()` for all parameters, PyTorch per
# parameter. The bias correction itself is the same formula in both (tests/test_interop.py
# checks 5 minigan steps plus 5 PyTorch steps against 10 PyTorch steps).
#
# ## 5. Beyond one machine
#
# **CUDA.** `G_torch.to("cuda")` and tensors made with `device="cuda"`: the same move as
# minigan's `backend="cupy"` (tutorial 15), with far more of the library tuned for it.
#
# **Mixed precision.** Under `torch.autocast`, matrix products run in a 16-bit float
# (bfloat16 on CPUs, float16 or bfloat16 on GPUs) while sums that need the range stay
# float32: about twice the speed on modern GPUs, for numbers good to two or three
# significant digits (bfloat16 keeps 8 bits of mantissa). Here is the trained D's verdict
# D(x) on ring data both ways (on the CPU there is no speed to gain, but the precision cost
# is the same):

# %%
D32 = interop.to_torch(reference.D)                          # the trained float32 D
x_ring = torch.from_numpy(p_data.sample(1000, minigan.get_backend("numpy").random(2)))
with torch.no_grad():
    logits32 = D32(x_ring)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits16 = D32(x_ring)
autocast_difference = float((torch.sigmoid(logits16.float()) - torch.sigmoid(logits32)).abs().max())
print(f"autocast: logits in {logits16.dtype}; D(x) differs from float32's by up to {autocast_difference:.3f}")

# %% [markdown]
# D(x) moves by up to about 0.01 (0.008 in the full run): the price of the speed, which
# large models usually pay (with float16 on GPUs, a `torch.amp.GradScaler` also keeps
# small gradients from rounding to zero).
#
# **DistributedDataParallel (DDP).** Many processes (one per GPU, on one machine or many),
# each with a whole copy of G and D, each computing the losses of its share of every
# minibatch. Wrapping a network in `DDP(...)` makes `backward()` average the gradients of all
# the processes, so every copy takes the same step: the one a single process would take on
# the whole minibatch, since the mean of equal shares' mean losses is the whole minibatch's
# mean loss. The loop does not change. The script `tutorials/ddp_ring_gan.py` is that loop;
# its core:

# %%
sys.path.insert(0, str(HERE))
import ddp_ring_gan  # noqa: E402  (the script beside this tutorial)

source = inspect.getsource(ddp_ring_gan.train)
print(source[source.index("    G, D = ring_networks()"):source.index("        total = ")])

# %% [markdown]
# It runs here for real: two CPU processes talking through the `gloo` backend (on GPUs it
# would be `nccl`), each on half of a minibatch of 256, for 20 steps, in float64 (fast mode:
# one process, in this one, for 3 steps). We compare its parameters with the single-process
# loop of section 2 on the whole minibatch.

# %%
processes, ddp_steps = (1, 3) if FAST else (2, 20)
result = pathlib.Path(tempfile.mkdtemp()) / "ddp.npz"
if processes == 1:   # in this process: the same function, a world of one
    ddp_ring_gan.train(0, 1, ddp_steps, 256, str(result.parent / "rendezvous"), str(result))
else:
    run = subprocess.run([sys.executable, str(HERE / "ddp_ring_gan.py"), "--processes", str(processes),
                          "--steps", str(ddp_steps), "--out", str(result)], capture_output=True, text=True)
    print(run.stdout.strip() or run.stderr[-2000:])
    assert run.returncode == 0, f"the DDP script failed:\n{run.stderr[-2000:]}"
ddp = np.load(result)

G_one, D_one = ddp_ring_gan.ring_networks()         # the same start, one process, the whole minibatch
opt_G_one = torch.optim.Adam(G_one.parameters(), lr=ddp_ring_gan.LR, betas=ddp_ring_gan.BETAS)
opt_D_one = torch.optim.Adam(D_one.parameters(), lr=ddp_ring_gan.LR, betas=ddp_ring_gan.BETAS)
rng_one = minigan.get_backend("numpy").random(ddp_ring_gan.SEED)
for _ in range(ddp_steps):
    x, z = (torch.from_numpy(dist.sample(256, rng_one).astype(np.float64)) for dist in (p_data, p_z))
    torch_d_step(G_one, D_one, opt_D_one, x, z)
    torch_g_step(G_one, D_one, opt_G_one, torch.from_numpy(p_z.sample(256, rng_one).astype(np.float64)))
single = {"G." + n: p.detach().numpy() for n, p in G_one.named_parameters()}
single.update({"D." + n: p.detach().numpy() for n, p in D_one.named_parameters()})
ddp_difference = max(float(np.abs(ddp[name] - value).max()) for name, value in single.items())
print(f"{processes} process(es) with DDP vs 1 without, after {ddp_steps} steps: "
      f"largest parameter difference {ddp_difference:.1e}")

# %% [markdown]
# The same parameters, up to float64 rounding: splitting the minibatch changes only the
# order of the sums. That is the whole idea of data parallelism, and why it scales a GAN
# that trains well on one machine without changing what it learns (a larger total minibatch
# usually wants a larger learning rate, but that is a choice, not a change DDP makes).
#
# ## The checked numbers

# %%
print(f"CHECK one_step_max_difference = {one_step:.3e}")
print(f"CHECK modes_at_handover = {modes_half}")
print(f"CHECK modes_after_torch = {modes_torch}")
print(f"CHECK modes_after_minigan = {modes_reference}")
print(f"CHECK first_step_d_loss_difference = {first_step_gap:.3e}")
print(f"CHECK autocast_d_difference = {autocast_difference:.3e}")
print(f"CHECK high_quality_after_torch = {hq_torch:.3f}")
print(f"CHECK high_quality_after_minigan = {hq_reference:.3f}")
print(f"CHECK ddp_processes = {processes}")
print(f"CHECK ddp_max_abs_difference = {ddp_difference:.3e}")
