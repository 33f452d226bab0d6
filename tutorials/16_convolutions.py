# %% [markdown]
# # 16 · Convolutions from scratch: im2col, the backward step by step, and its transpose
#
# **What this teaches.** A convolution is one more op with a forward and a hand-derived
# backward. Its forward is a matrix product once the windows of the image are laid out as
# rows ("im2col"); its backward is two more products and one new move, "col2im", that adds
# each window's gradient back where the window read. That move, used forward, is the
# *transposed* convolution a DCGAN generator grows images with: the adjoint identity
# <conv(x, w), y> = <x, conv_transpose(y, w)> says so, and we check it to rounding.
# Last, batch normalisation's backward, and why it breaks R1's one-gradient trick.
#
# **How long it runs.** About 3 seconds (the same in fast mode).
#
# Builds on [02](02_autograd_from_scratch.py) (ops with their derivatives) and
# [03](03_gradient_checking.py) (finite differences). The derivation in prose, with the
# same pictures: [Convolution and its transpose](../docs/math/convolution.md).

# %%
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan
from minigan import losses, nn, ops

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode: the same small sizes
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The convolution as loops
#
# An image x has shape (N, C, H, W): N examples, C channels. A weight w (O, C, kH, kW)
# holds O filters. With stride s and p rows of zeros padded on each side, output pixel
# (p, q) of filter o is the filter times the window under it:
#
# $$y[n, o, p, q] = \sum_{c, i, j} w[o, c, i, j] \; x_\text{pad}[n, c, s p + i, s q + j]$$

# %%
def conv_loops(x, w, s, pad):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // s + 1, (wd + 2 * pad - kw) // s + 1
    y = np.zeros((n, o, ho, wo))
    for b in range(n):
        for f in range(o):
            for p in range(ho):
                for q in range(wo):
                    y[b, f, p, q] = np.sum(w[f] * xp[b, :, s * p:s * p + kh, s * q:s * q + kw])
    return y


x = rng.normal(size=(2, 3, 7, 7))         # 2 images, 3 channels, 7 x 7
w = rng.normal(size=(4, 3, 3, 3))         # 4 filters of 3 x 3 x 3
stride, pad = 2, 1
y_loops = conv_loops(x, w, stride, pad)
print("y:", y_loops.shape)                 # (2, 4, 4, 4): (7 + 2 - 3) // 2 + 1 = 4

# %% [markdown]
# ## 2. im2col: the windows as rows, then one matrix product
#
# `as_strided` gives a view of every window without copying a number: its axes step one
# pixel inside a window and s pixels from one window to the next. (minigan's
# `Backend.windows` does this for NumPy and CuPy.) Reshaping the view into a matrix, one
# row per window, is the one copy; then y is a single product with the filters as columns.

# %%
xp_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
n, c, hp, wp = xp_pad.shape
o, _, kh, kw = w.shape
ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
t = xp_pad.strides
windows = np.lib.stride_tricks.as_strided(
    xp_pad, shape=(n, c, ho, wo, kh, kw), strides=(t[0], t[1], t[2] * stride, t[3] * stride, t[2], t[3]))
print("windows:", windows.shape, "share memory with x_pad:", np.shares_memory(windows, xp_pad))
cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)  # (N Ho Wo, C kH kW)
w_rows = w.reshape(o, c * kh * kw)                                            # (O, C kH kW)
y_rows = cols @ w_rows.T                                                      # (N Ho Wo, O)
y = y_rows.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)                        # (N, O, Ho, Wo)
im2col_error = np.max(np.abs(y - y_loops))
print(f"im2col against the loops: max error {im2col_error:.1e}")

# %% [markdown]
# The picture: one 5 x 5 channel, a 3 x 3 kernel, stride 1. Each of the 9 windows becomes a
# row of 9 numbers; a pixel read by several windows appears in several rows.

# %%
small = np.arange(25).reshape(5, 5)
rows = np.lib.stride_tricks.sliding_window_view(small, (3, 3)).reshape(9, 9)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), gridspec_kw={"width_ratios": [5, 9]})
axes[0].imshow(np.zeros((5, 5)), cmap="Greys", vmin=0, vmax=1)
for (i, j), value in np.ndenumerate(small):
    axes[0].text(j, i, str(value), ha="center", va="center")
for k, colour in zip([0, 4], ["tab:blue", "tab:orange"]):   # window 0 and window 4
    r, q = divmod(k, 3)
    axes[0].add_patch(plt.Rectangle((q - 0.5, r - 0.5), 3, 3, fill=False, lw=3, color=colour))
axes[0].set_title("x (5 x 5), two 3 x 3 windows")
axes[1].imshow(rows, cmap="viridis")
for (i, j), value in np.ndenumerate(rows):
    axes[1].text(j, i, str(value), ha="center", va="center", color="white", fontsize=8)
for k, colour in zip([0, 4], ["tab:blue", "tab:orange"]):
    axes[1].add_patch(plt.Rectangle((-0.5, k - 0.5), 9, 1, fill=False, lw=3, color=colour))
axes[1].set_title("cols (9 windows x 9 numbers): y = cols @ w_rows^T")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
fig.savefig(FIGURES / "16_im2col.png", dpi=50 if FAST else 100)
plt.close(fig)

# %% [markdown]
# ## 3. The backward, step by step
#
# Given grad_y = dL/dy, each step of the forward is undone in reverse:
#
# 1. y = y_rows reshaped: grad_y_rows is grad_y reshaped back, (N Ho Wo, O);
# 2. y_rows = cols @ w_rows^T, a matrix product (tutorial 02's matmul VJP):
#    grad_w_rows = grad_y_rows^T @ cols and grad_cols = grad_y_rows @ w_rows;
# 3. cols = the windows of x_pad: each entry of cols *is* a pixel of x_pad, so a pixel's
#    gradient is the sum of the entries that copied it: **col2im**, a loop over the kH x kW
#    offsets that adds each window's numbers back where they came from. Overlapping windows
#    (stride < kernel) add up; with stride > kernel some pixels get nothing;
# 4. x_pad = x with zeros around: grad_x is grad_x_pad without its border.

# %%
grad_y = rng.normal(size=y.shape)
grad_y_rows = grad_y.transpose(0, 2, 3, 1).reshape(n * ho * wo, o)          # step 1
grad_w = (grad_y_rows.T @ cols).reshape(w.shape)                            # step 2: (O, C kH kW)
grad_cols = (grad_y_rows @ w_rows).reshape(n, ho, wo, c, kh, kw)            # step 2: (N Ho Wo, C kH kW)
grad_x_pad = np.zeros(xp_pad.shape)
for i in range(kh):                                                         # step 3: col2im
    for j in range(kw):
        grad_x_pad[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += grad_cols[..., i, j].transpose(0, 3, 1, 2)
grad_x = grad_x_pad[:, :, pad:-pad, pad:-pad]                               # step 4


def loss(x_, w_):
    return float(np.sum(conv_loops(x_, w_, stride, pad) * grad_y))         # L = <y, grad_y>


def numeric(f, a, eps=1e-6):
    """Central differences of f at a, one element at a time."""
    g = np.zeros(a.shape)
    for index in np.ndindex(a.shape):
        step = np.zeros(a.shape)
        step[index] = eps
        g[index] = (f(a + step) - f(a - step)) / (2 * eps)
    return g


grad_x_error = np.max(np.abs(grad_x - numeric(lambda a: loss(a, w), x)))
grad_w_error = np.max(np.abs(grad_w - numeric(lambda a: loss(x, a), w)))
print(f"by hand against finite differences: grad_x {grad_x_error:.1e}, grad_w {grad_w_error:.1e}")

# %% [markdown]
# minigan's `ops.conv2d` does the same (minigan/ops/conv.py), and its backward agrees with
# ours. Read its `Conv2d.backward`: grad_x is `ConvTranspose2d` of grad_y, grad_w is
# `Conv2dWeight`, the product of step 2.

# %%
tx = minigan.tensor(x, requires_grad=True, dtype="float64")
tw = minigan.tensor(w, requires_grad=True, dtype="float64")
ops.conv2d(tx, tw, stride=stride, padding=pad).backward(grad_y)
minigan_gap = max(np.max(np.abs(tx.grad - grad_x)), np.max(np.abs(tw.grad - grad_w)))
print(f"minigan's backward against ours: {minigan_gap:.1e}")

# %% [markdown]
# ## 4. The transpose: the backward used forward
#
# Steps 2 to 4 map grad_y (N, O, Ho, Wo) to an image (N, C, H, W) with the same weights:
# that linear map is conv2d's transpose, `conv_transpose2d(y, w)`. For *every* x and y,
#
# $$\langle \operatorname{conv}(x, w), y \rangle = \langle x, \operatorname{conv\_transpose}(y, w) \rangle,$$
#
# which is what "the transpose" means, and why it is conv2d's VJP. A generator uses it
# forward: kernel 4, stride 2, padding 1 doubles the side of an image.

# %%
y_random = rng.normal(size=y.shape)
left = np.sum(ops.conv2d(tx, tw, stride=stride, padding=pad).numpy() * y_random)
back = ops.conv_transpose2d(minigan.tensor(y_random, dtype="float64"), tw, stride=stride, padding=pad)
right = np.sum(x * back.numpy())
adjoint_gap = abs(left - right) / abs(left)
print(f"<conv(x, w), y> = {left:.12f}\n<x, conv_transpose(y, w)> = {right:.12f}   relative gap {adjoint_gap:.1e}")
up = nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)
print("a generator's step:", up(minigan.tensor(rng.normal(size=(1, 8, 16, 16)), dtype="float32")).shape)

# %% [markdown]
# ## 5. Batch normalisation's backward, and what it does to R1
#
# BatchNorm standardises each channel with the batch's own mean and variance, so every
# output depends on every example. Its VJP (minigan/ops/batchnorm.py) keeps that in two
# subtracted terms:
#
# $$\bar x = \frac{1}{\sqrt{\sigma^2 + \epsilon}} \Big( \bar y - \operatorname{mean}(\bar y) - \hat x \, \operatorname{mean}(\bar y \, \hat x) \Big).$$
#
# R1 takes every example's input gradient from *one* gradient of the summed scores,
# which is only right when D(x_i) depends on x_i alone. With batch statistics it is not:
# the penalties refuse such a discriminator.

# %%
xb = minigan.tensor(rng.normal(size=(6, 3)) * 2 + 1, requires_grad=True, dtype="float64")
minigan.gradcheck(lambda t: ops.batch_norm(t, 0), [xb])
batchnorm_checked = 1
D = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
try:
    losses.r1_penalty(D, minigan.tensor(rng.normal(size=(5, 2)), dtype="float32"))
    refused = 0
except ValueError as error:
    refused = 1
    print("refused:", error)

# %% [markdown]
# ## The checked numbers
#
# The im2col product equals the loops, the hand backward equals finite differences and
# minigan's backward, and the adjoint identity holds, each to rounding in float64; the
# batch-norm gradient passes gradcheck, and R1 refuses a batch-normalised D.

# %%
print(f"CHECK im2col_max_error = {im2col_error:.3e}")
print(f"CHECK grad_x_max_error = {grad_x_error:.3e}")
print(f"CHECK grad_w_max_error = {grad_w_error:.3e}")
print(f"CHECK minigan_backward_gap = {minigan_gap:.3e}")
print(f"CHECK adjoint_relative_gap = {adjoint_gap:.3e}")
print(f"CHECK batchnorm_gradcheck = {batchnorm_checked}")
print(f"CHECK r1_refuses_batchnorm = {refused}")
