# %% [markdown]
# # 03 · Gradient checking: finite differences, `gradcheck`, catching a wrong derivative
#
# **What this teaches.** Every backward in minigan is derived by hand, and a hand derivation
# can be wrong while everything still runs: training just goes quietly worse. This tutorial
# shows how to *prove* a gradient with finite differences, why the step size and float64
# matter, and how `minigan.gradcheck` catches two planted bugs.
#
# **How long it runs.** About 2 seconds (the same in fast mode).
#
# Builds on [02](02_autograd_from_scratch.py) (ops with their derivatives). The API is on
# the [gradcheck reference page](../docs/api/gradcheck.md).

# %%
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan
from minigan.autograd import Op, apply

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode: fewer step sizes
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Finite differences and the step size
#
# The derivative is the limit of a difference quotient, so a small step gives an estimate:
#
# $$\text{forward: } \frac{f(a + \varepsilon) - f(a)}{\varepsilon} = f'(a) + O(\varepsilon),
# \qquad
# \text{central: } \frac{f(a + \varepsilon) - f(a - \varepsilon)}{2\varepsilon} = f'(a) + O(\varepsilon^2).$$
#
# Smaller is not always better: each f value carries a rounding error of about
# `machine epsilon * |f|`, which the division by epsilon blows up. The total error is
# truncation (falls with epsilon) plus rounding (grows as epsilon shrinks), so there is a
# best step. We measure it on the function at the heart of every GAN loss,
# f(a) = log sigmoid(a), whose derivative is 1 - sigmoid(a).

# %%
def log_sigmoid(a):
    return -np.logaddexp(-a, 0.0)  # log(1 / (1 + exp(-a))), finite for any a


def d_log_sigmoid(a):
    return 1.0 / (1.0 + np.exp(a))  # 1 - sigmoid(a) = sigmoid(-a)


a0 = 0.7
steps = np.logspace(-12, -1, 12 if FAST else 45)
errors = {}
for dtype in (np.float64, np.float32):
    a, exact = dtype(a0), d_log_sigmoid(a0)
    forward, central = [], []
    for eps in steps:
        e = dtype(eps)
        forward.append(abs(float((log_sigmoid(a + e) - log_sigmoid(a)) / e) - exact))
        central.append(abs(float((log_sigmoid(a + e) - log_sigmoid(a - e)) / (2 * e)) - exact))
    errors[dtype.__name__] = (np.array(forward), np.array(central))

fig, ax = plt.subplots(figsize=(6, 4))
for name, style in (("float64", "-"), ("float32", "--")):
    forward, central = errors[name]
    ax.loglog(steps, np.maximum(forward, 1e-17), "C0" + style, label=f"forward, {name}")
    ax.loglog(steps, np.maximum(central, 1e-17), "C1" + style, label=f"central, {name}")
ax.axvline(1e-6, color="0.6", lw=0.8)
ax.text(1.3e-6, 1e-1, "gradcheck's eps", fontsize=8, color="0.4")
ax.set_xlabel("step epsilon")
ax.set_ylabel("|estimate - exact derivative|")
ax.set_title("Truncation falls, rounding grows: the V of finite differences")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "03_step_size.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "03_step_size.png")

at_1e_6 = int(np.argmin(np.abs(np.log10(steps) + 6)))  # the step closest to 1e-6
for name in ("float64", "float32"):
    forward, central = errors[name]
    best = int(np.argmin(central))
    print(f"{name}: central error {central[at_1e_6]:.1e} at eps = 1e-6; "
          f"best central step {steps[best]:.0e} with error {central[best]:.1e}")
# the three numbers the text below reads off the figure, checked by the tests
print(f"CHECK float64_central_error_at_eps_1e_6 = {errors['float64'][1][at_1e_6]:.3e}")
print(f"CHECK float32_central_error_at_eps_1e_6 = {errors['float32'][1][at_1e_6]:.3e}")
print(f"CHECK float32_best_eps = {steps[np.argmin(errors['float32'][1])]:.3e}")

# %% [markdown]
# Read the figure and the lines printed under it: in float64 the central difference is good
# to about 1e-12 at epsilon = 1e-6. In float32 the same step is off in the third digit
# (an error of about 4e-3 on a derivative of 0.33), and the best step (near 1e-3 to 1e-2,
# where truncation already bites) is a lucky balance that moves with
# the function and the point. A float32 check could not tell a correct gradient from one that
# is slightly wrong, which is why gradient checks run in float64 (training stays in float32).
# minigan's `gradcheck` uses
# central differences with eps = 1e-6 and tolerances atol = 1e-5, rtol = 1e-3, the same as
# PyTorch's.

# %% [markdown]
# ## 2. `minigan.gradcheck` on a real computation
#
# `gradcheck(fn, inputs)` runs `fn` once with autograd and a random cotangent v, then
# estimates every element of every input's gradient with central differences of
# `<v, fn(x)>`, and raises `GradcheckError` at the first disagreement. Here: a linear
# discriminator's loss on a minibatch, `mean(-log sigmoid(x @ w + b))`.

# %%
rng = np.random.default_rng(0)
x = minigan.tensor(rng.normal(size=(8, 3)), dtype="float64")  # (m, 3), a minibatch; no grad needed
w = minigan.tensor(rng.normal(size=(3, 1)), requires_grad=True, dtype="float64")
b = minigan.tensor(rng.normal(size=(1,)), requires_grad=True, dtype="float64")


def discriminator_loss(x, w, b):
    logits = x @ w + b  # (m, 3) @ (3, 1) + (1,) -> (m, 1)
    return (-logits.log_sigmoid()).mean()


print("gradcheck passed:", minigan.gradcheck(discriminator_loss, [x, w, b], names=["x", "w", "b"]))

# %% [markdown]
# ## 3. Planting a wrong derivative
#
# An op is a class with `forward` and `backward` side by side (see `minigan/ops/`). Here
# is sigmoid with a classic slip: the backward forgets the `(1 - y)` factor. It runs, it
# returns numbers of the right shape, and a GAN trained with it would simply train badly.
# `gradcheck` names the input, the index and both values.

# %%
class SigmoidWrongBackward(Op):
    """y = sigmoid(x).   VJP (wrong on purpose): grad_x = grad_y * y, missing the factor (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = 0.5 * (ctx.xp.tanh(0.5 * x) + 1.0)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved
        return grad_y * y  # should be grad_y * y * (1.0 - y)


def loss_with_wrong_sigmoid(x, w, b):
    return apply(SigmoidWrongBackward, x @ w + b).mean()


caught = 0
try:
    minigan.gradcheck(loss_with_wrong_sigmoid, [x, w, b], names=["x", "w", "b"])
    print("the wrong derivative slipped through!")
except minigan.GradcheckError as error:
    caught += 1
    print("caught:", error)

# %% [markdown]
# A second classic: a binary op that forgets its gradient must be *summed* over the axes it
# was broadcast along. Adding a bias of shape `(1,)` to logits of shape `(m, 1)` copies it m
# times, so its gradient is the sum of m contributions (tutorial 04 derives this).

# %%
class AddForgetsUnbroadcast(Op):
    """y = a + b.   VJP (wrong on purpose): returns grad_y for both, without summing back to b's shape."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, grad_y  # b's gradient should be unbroadcast(grad_y, b.shape)


def loss_with_wrong_add(x, w, b):
    return (-apply(AddForgetsUnbroadcast, x @ w, b).log_sigmoid()).mean()


try:
    minigan.gradcheck(loss_with_wrong_add, [x, w, b], names=["x", "w", "b"])
    print("the missing sum slipped through!")
except minigan.GradcheckError as error:
    caught += 1
    print("caught:", error)

# %% [markdown]
# ## 4. How the tests use it
#
# `tests/test_ops.py` runs this check on every op in `minigan/ops.py`, on random shapes and
# values drawn by hypothesis, on every backend. For big inputs,
# `gradcheck(..., directions=n)` checks n random directions u instead of every element
# (`<grad, u>` against a difference quotient along u), which costs 2n evaluations instead of
# two per element.
#
# ## The checked number
#
# The correct sigmoid backward (`minigan.ops.Sigmoid`) against central differences, over a
# range of logits, in float64: the error is rounding-sized. (And both planted bugs must have
# been caught.)

# %%
assert caught == 2, "gradcheck missed a planted bug"
logits = minigan.tensor(np.linspace(-8.0, 8.0, 33), requires_grad=True, dtype="float64")
logits.sigmoid().sum().backward()
eps = 1e-6
host = logits.numpy()
numeric = ((1 / (1 + np.exp(-(host + eps)))) - (1 / (1 + np.exp(-(host - eps))))) / (2 * eps)
error = float(np.max(np.abs(logits.grad - numeric)))
print(f"CHECK max_abs_grad_error = {error:.3e}")
