# %% [markdown]
# # 04 · Layers and MLPs: a layer's backward derived by hand, checked against autograd
#
# **What this teaches.** A GAN's generator and discriminator are multilayer perceptrons
# (MLPs): linear layers with nonlinearities between them. We derive the backward pass of a
# linear layer and of a two-layer MLP by hand, shape by shape, check it against autograd,
# then let `minigan.nn` and `minigan.optim` fit a curve to show the pieces working together.
#
# **How long it runs.** About 3 seconds (about 2 in fast mode, `MINIGAN_FAST=1`).
#
# Builds on [03](03_gradient_checking.py). The per-op derivations are in
# [Ops and their gradients](../docs/math/ops.md); the classes on the
# [nn reference page](../docs/api/nn.md).

# %%
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan
from minigan import nn, optim, threads

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode: fewer training steps
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. A linear layer, forward
#
# A minibatch `x` of m rows with n_in features each goes in; `y = x W + b` comes out, with
# `W` of shape `(n_in, n_out)` and `b` of shape `(n_out,)` added to every row:
#
# $$y_{ij} = \sum_k x_{ik} W_{kj} + b_j .$$

# %%
m, n_in, n_out = 5, 3, 4
backend = minigan.get_backend("numpy")
layer = nn.Linear(n_in, n_out, rng=backend.random(1), dtype="float64")
print(layer, [(name, p.shape) for name, p in layer.named_parameters()])

rng = np.random.default_rng(0)
x_host = rng.normal(size=(m, n_in))
W, b = layer.weight.numpy(), layer.bias.numpy()
y_hand = x_host @ W + b  # (m, n_in) @ (n_in, n_out) + (n_out,) -> (m, n_out)

# %% [markdown]
# ## 2. Its backward, by hand
#
# Backward receives `grad_y` = dL/dy, shape `(m, n_out)`, and must return dL/dx, dL/dW and
# dL/db. Take one entry at a time: W_kj appears in y_ij for every row i, multiplied by
# x_ik, so dL/dW_kj = sum_i x_ik grad_y_ij. The other two follow the same way:
#
# $$\frac{\partial L}{\partial W} = x^\top\, \text{grad}_y, \qquad
# \frac{\partial L}{\partial b} = \sum_i \text{grad}_{y,\,i\cdot}, \qquad
# \frac{\partial L}{\partial x} = \text{grad}_y\, W^\top .$$
#
# A shape check is the quickest proof-reading: each gradient has its variable's shape.
# The bias was broadcast to all m rows, so its gradient sums over them (tutorial 03 planted
# exactly the bug of forgetting that).

# %%
def linear_backward(x, W, grad_y):
    """Hand-derived VJP of y = x @ W + b."""
    grad_W = x.T @ grad_y  # (n_in, m) @ (m, n_out) -> (n_in, n_out)
    grad_b = grad_y.sum(axis=0)  # (m, n_out) -> (n_out,)
    grad_x = grad_y @ W.T  # (m, n_out) @ (n_out, n_in) -> (m, n_in)
    return grad_x, grad_W, grad_b


grad_y = rng.normal(size=(m, n_out))  # any upstream gradient will do
hand = linear_backward(x_host, W, grad_y)

x = minigan.tensor(x_host, requires_grad=True)  # float64 in, float64 out
y = layer(x)
y.backward(grad_y)  # pushes grad_y back through the graph: the same VJP, by autograd
auto = (x.grad, layer.weight.grad, layer.bias.grad)
linear_difference = max(float(np.max(np.abs(h - a))) for h, a in zip(hand, auto))
print("forward matches:", np.allclose(y.numpy(), y_hand))
print(f"linear layer: hand vs autograd, largest difference {linear_difference:.1e}")

# %% [markdown]
# ## 3. A two-layer MLP, forward and backward by hand
#
# `h = relu(x W1 + b1)`, `out = h W2 + b2`. The backward runs the forward's lines in
# reverse, each line the VJP of one forward line. ReLU passes the gradient where its input
# was positive and blocks it elsewhere.

# %%
mlp = nn.MLP([n_in, 8, 2], "relu", rng=backend.random(2), dtype="float64")
print(mlp, [name for name, _ in mlp.named_parameters()])
W1, b1, W2, b2 = (p.numpy() for p in mlp.parameters())


def mlp_forward(x):
    pre = x @ W1 + b1  # (m, n_in) @ (n_in, 8) -> (m, 8)
    h = np.maximum(pre, 0.0)  # (m, 8)
    out = h @ W2 + b2  # (m, 8) @ (8, 2) -> (m, 2)
    return out, (x, pre, h)


def mlp_backward(grad_out, cache):
    x, pre, h = cache
    grad_h, grad_W2, grad_b2 = linear_backward(h, W2, grad_out)  # (m, 8), (8, 2), (2,)
    grad_pre = grad_h * (pre > 0)  # (m, 8): ReLU lets the gradient through where pre > 0
    grad_x, grad_W1, grad_b1 = linear_backward(x, W1, grad_pre)  # (m, n_in), (n_in, 8), (8,)
    return grad_x, grad_W1, grad_b1, grad_W2, grad_b2


out_hand, cache = mlp_forward(x_host)
grad_out = rng.normal(size=out_hand.shape)
hand = mlp_backward(grad_out, cache)

x = minigan.tensor(x_host, requires_grad=True)
mlp(x).backward(grad_out)
auto = (x.grad, *(p.grad for p in mlp.parameters()))
mlp_difference = max(float(np.max(np.abs(h - a))) for h, a in zip(hand, auto))
print(f"two-layer MLP: hand vs autograd, largest difference {mlp_difference:.1e}")

# %% [markdown]
# In minigan nothing in `nn.Linear` or `nn.MLP` has a backward of its own: the layer is
# written with `@` and `+`, and the matmul and add ops carry the VJPs (with the shared
# `unbroadcast` doing the bias sum). That is what autograd buys: derive each primitive once,
# and every network built from them is differentiated for free.

# %% [markdown]
# ## 4. Training: fitting a curve
#
# The loop every trainer in minigan follows: forward, loss, `zero_grad`, `backward`, `step`.
# Training runs in float32, the backend's default. We fit y = sin(3x) on [-1, 1] with mean
# squared error and Adam.

# %%
steps = 150 if FAST else 1500
data_rng = backend.random(3)
net = nn.MLP([1, 64, 64, 1], "tanh", rng=backend.random(4))
opt = optim.Adam(net.parameters(), lr=1e-2, betas=(0.9, 0.999))
losses = []
# threads.loop: BLAS threads chosen by timing this loop (1 or all; a busy core makes 2 slower)
for step in threads.loop(range(steps)):
    xs = data_rng.uniform((64, 1), -1.0, 1.0)  # (m, 1) float32, already on the backend
    target = minigan.tensor(backend.xp.sin(3 * xs))  # xp, not np: the same line runs on a GPU
    loss = ((net(minigan.tensor(xs)) - target) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
first, last = float(np.mean(losses[:10])), float(np.mean(losses[-10:]))
print(f"{steps} Adam steps: mean squared error {first:.3f} -> {last:.4f}")

grid = np.linspace(-1, 1, 200, dtype=np.float32)[:, None]
with minigan.no_grad():
    fitted = net(minigan.tensor(grid)).numpy()
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.2))
ax0.plot(grid, np.sin(3 * grid), "k", label="sin(3x)")
ax0.plot(grid, fitted, "C1--", label="MLP")
ax0.set_xlabel("x")
ax0.set_ylabel("y")
ax0.legend()
ax0.set_title("The fit")
ax1.semilogy(losses)
ax1.set_xlabel("step")
ax1.set_ylabel("minibatch loss")
ax1.set_title("Mean squared error")
fig.tight_layout()
fig.savefig(FIGURES / "04_curve_fit.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "04_curve_fit.png")

# %% [markdown]
# ## The checked number
#
# The hand-derived backward of the linear layer and of the MLP against autograd, in
# float64: rounding only. (And the fit must have improved at least tenfold.)

# %%
assert last < first / 10, f"training did not reduce the error tenfold: {first:.3f} -> {last:.4f}"
print(f"CHECK fit_improvement = {first / last:.1f}")  # mean squared error, first 10 steps over last 10
print(f"CHECK max_abs_grad_difference = {max(linear_difference, mlp_difference):.3e}")
