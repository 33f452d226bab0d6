# %% [markdown]
# # 02 · Autograd from scratch: a scalar engine, then `minigan.Tensor`
#
# **What this teaches.** How reverse-mode automatic differentiation works. We build a
# complete engine for single numbers in about fifty lines, use it to differentiate a tiny
# discriminator's loss, then do the same computation with `minigan.Tensor` (the same idea
# on whole arrays) and check that the two agree.
#
# **How long it runs.** About 2 seconds (the same in fast mode).
#
# Builds on [01](01_arrays_and_backends.py) (backends and dtypes). The array version of every
# derivative used here is derived in [Ops and their gradients](../docs/math/ops.md).

# %%
import math
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan

FAST = os.environ.get("MINIGAN_FAST") == "1"  # nothing to shrink: this one is instant
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The idea
#
# Any formula is a chain of small steps, each with a derivative we know: for `c = a * b`,
# dc/da = b and dc/db = a. If every step remembers its inputs and those *local
# derivatives*, the chain rule gives the derivative of the final result L with respect to
# anything that fed it:
#
# $$\frac{\partial L}{\partial a} \;=\; \sum_{c \text{ uses } a} \frac{\partial L}{\partial c}\,\frac{\partial c}{\partial a}.$$
#
# Going backwards from L, each node passes `its grad * local derivative` to each input, and
# a node used twice receives two contributions that add up. The only care needed is the
# order: a node may pass its gradient on only once every node that uses it has sent its
# contribution (a *reverse topological order*).

# %% [markdown]
# ## 2. The scalar engine
#
# A `Scalar` holds a value, a gradient, and a list of `(input, local derivative)` pairs.
# Each operation computes its value and its local derivatives right there, side by side.

# %%
class Scalar:
    """A number that remembers how it was made: value, grad and (input, d value / d input) pairs."""

    def __init__(self, value, inputs=(), op="", name=""):
        self.value = float(value)
        self.grad = 0.0
        self.inputs = inputs  # tuple of (Scalar, local derivative)
        self.op = op  # what made it, for drawing the graph
        self.name = name

    def __repr__(self):
        return f"Scalar({self.value:.4f}, grad={self.grad:.4f})"

    # each operation: value, then its local derivatives
    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value + other.value, ((self, 1.0), (other, 1.0)), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value * other.value, ((self, other.value), (other, self.value)), "*")

    def __neg__(self):
        return Scalar(-self.value, ((self, -1.0),), "neg")

    def __sub__(self, other):
        return self + (-other if isinstance(other, Scalar) else Scalar(-other))

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        return Scalar(other) - self

    def log(self):  # d log(x)/dx = 1/x
        return Scalar(math.log(self.value), ((self, 1.0 / self.value),), "log")

    def sigmoid(self):  # d s/dx = s (1 - s), reusing the output
        s = 1.0 / (1.0 + math.exp(-self.value))
        return Scalar(s, ((self, s * (1.0 - s)),), "sigmoid")

    def backward(self):
        """Set d self / d node for every node that led here, by the chain rule."""
        order, seen = [], set()

        def visit(node):  # post-order: a node is listed after all of its inputs
            if id(node) not in seen:
                seen.add(id(node))
                for parent, _ in node.inputs:
                    visit(parent)
                order.append(node)

        visit(self)
        self.grad = 1.0  # dL/dL
        for node in reversed(order):  # every node after all the nodes that use it
            for parent, local in node.inputs:
                parent.grad += node.grad * local  # contributions from several uses add up


# %% [markdown]
# A first check: for `y = x * x + 3 * x`, dy/dx = 2x + 3. At x = 2 that is 7. Note that
# `x` is used three times: its gradient is the sum of three contributions.

# %%
x = Scalar(2.0)
y = x * x + 3 * x
y.backward()
print(y, "  dy/dx =", x.grad, "(expected 7)")
assert x.grad == 7.0

# %% [markdown]
# ## 3. A tiny discriminator's loss
#
# A discriminator scores a point with a logit `a = w . x + b` and turns it into a
# probability `D = sigmoid(a)` that the point is real. Its loss on one real point and one
# fake point is the binary cross-entropy (tutorial 05 shows this is the GAN's value with
# the sign flipped):
#
# $$L = -\log D(x_\text{real}) - \log\bigl(1 - D(x_\text{fake})\bigr).$$

# %%
w_values, b_value = [0.5, -1.5], 0.25
x_real, x_fake = [1.0, 0.2], [-0.3, 0.8]


def scalar_loss():
    w = [Scalar(v, name=f"w{i}") for i, v in enumerate(w_values)]
    b = Scalar(b_value, name="b")
    xr = [Scalar(v, name=f"x_real[{i}]") for i, v in enumerate(x_real)]  # named, so the graph shows which is which
    xf = [Scalar(v, name=f"x_fake[{i}]") for i, v in enumerate(x_fake)]
    a_real = w[0] * xr[0] + w[1] * xr[1] + b
    a_fake = w[0] * xf[0] + w[1] * xf[1] + b
    loss = -(a_real.sigmoid().log()) - (1 - a_fake.sigmoid()).log()
    return loss, w, b


loss, w, b = scalar_loss()
loss.backward()
scalar_grads = np.array([w[0].grad, w[1].grad, b.grad])
print(f"scalar engine: L = {loss.value:.6f}, dL/dw = {scalar_grads[:2]}, dL/db = {scalar_grads[2]:.6f}")

# %% [markdown]
# ## 4. Drawing the graph
#
# Each box is a node (the operation that made it, or the input's name, or `const` for the
# number 1 in `1 - D`; then its value and its gradient); arrows run forward. The backward
# pass walked them right to left. The inputs x and the constant got gradients too: our
# little engine does not know which inputs we care about (minigan's `requires_grad` does).
#
# The layout: an operation sits one column right of its latest input, an input just left of
# its first use, and each box at the height of the boxes it connects to (pushed apart where
# two would overlap), so the arrows run between the boxes, not through them.

# %%
def draw_graph(root, path):
    order, seen = [], set()

    def visit(node):  # the same post-order walk as backward(): inputs before their users
        if id(node) not in seen:
            seen.add(id(node))
            for parent, _ in node.inputs:
                visit(parent)
            order.append(node)

    visit(root)
    users = {id(n): [] for n in order}
    for node in order:
        for parent, _ in node.inputs:
            users[id(parent)].append(node)
    column = {}
    for node in order:  # an op: one column right of its latest input
        column[id(node)] = 1 + max((column[id(p)] for p, _ in node.inputs), default=-1)
    for node in order:  # an input (no inputs of its own): just left of its first use
        if not node.inputs:
            column[id(node)] = min(column[id(u)] for u in users[id(node)]) - 1
    columns = {}
    for node in order:
        columns.setdefault(column[id(node)], []).append(node)

    height = {id(n): 0.0 for n in order}

    def place(nodes, neighbours):  # ranked by the mean height of their neighbours, 1 apart
        def wanted(n):
            return np.mean([height[id(m)] for m in neighbours(n)]) if neighbours(n) else height[id(n)]
        ranked = sorted(nodes, key=wanted, reverse=True)  # highest first
        centre = np.mean([wanted(n) for n in ranked])
        for rank, n in enumerate(ranked):
            height[id(n)] = centre + (len(ranked) - 1) / 2 - rank

    for c in sorted(columns, reverse=True):  # right to left: by the boxes each one feeds
        place(columns[c], lambda n: users[id(n)])
    for c in sorted(columns):  # left to right: ops by their inputs, which are now placed
        if any(n.inputs for n in columns[c]):
            place(columns[c], lambda n: [p for p, _ in n.inputs] or users[id(n)])

    fig, ax = plt.subplots(figsize=(1.55 * len(columns) + 1, 1.0 * max(map(len, columns.values())) + 2.2))
    for node in order:
        x0, y0 = column[id(node)], height[id(node)]
        for parent, _ in node.inputs:
            x1, y1 = column[id(parent)], height[id(parent)]
            ax.annotate("", (x0 - 0.33, y0), (x1 + 0.33, y1), arrowprops=dict(arrowstyle="->", color="0.5"))
        label = f"{node.name or node.op or 'const'}\n{node.value:.3f}\ngrad {node.grad:.3f}"
        ax.text(x0, y0, label, ha="center", va="center", fontsize=7, bbox=dict(boxstyle="round", fc="w", ec="C0"))
    ax.set_xlim(min(columns) - 0.6, max(columns) + 0.6)
    ax.set_ylim(min(height.values()) - 0.7, max(height.values()) + 0.7)
    ax.axis("off")  # a diagram, not a plot: no axes to label
    ax.set_title("The loss's graph: forward left to right, gradients flow back right to left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


draw_graph(loss, FIGURES / "02_scalar_graph.png")
print("saved", FIGURES / "02_scalar_graph.png")

# %% [markdown]
# ## 5. The same computation with `minigan.Tensor`
#
# minigan's engine has exactly this shape (`minigan/autograd.py`): a tensor remembers the
# op that made it and its inputs, and `backward()` walks the graph in reverse topological
# order. Two differences matter:
#
# - **Arrays, not numbers.** For an op on arrays the "local derivative" is a Jacobian
#   matrix, far too big to build (a 128 x 128 matmul has a 16384 x 16384 one). Each op
#   therefore implements the *vector-Jacobian product* directly: given dL/dy it returns
#   dL/dx. For `y = x @ W` that is `grad_x = grad_y @ W.T`; see `minigan/ops/` and
#   [the derivations](../docs/math/ops.md).
# - **No recursion.** The graph walk uses an explicit stack, so a chain of 10,000 ops does
#   not hit Python's recursion limit.
#
# Gradient checks use float64, so we ask for it.

# %%
W = minigan.tensor(w_values, requires_grad=True, dtype="float64")  # (2,)
B = minigan.tensor(b_value, requires_grad=True, dtype="float64")  # ()
X = minigan.tensor([x_real, x_fake], dtype="float64")  # (2 points, 2 features)

logits = (X * W).sum(axis=1) + B  # (2, 2) * (2,) -> (2, 2) -> sum over features -> (2,)
D = logits.sigmoid()
tensor_loss = -(D[0].log()) - (1 - D[1]).log()
tensor_loss.backward()
tensor_grads = np.concatenate([W.grad, np.reshape(B.grad, (1,))])
print(f"minigan.Tensor: L = {tensor_loss.item():.6f}, dL/dw = {tensor_grads[:2]}, dL/db = {tensor_grads[2]:.6f}")

# %% [markdown]
# ## 6. And by hand
#
# With `s = sigmoid(a)`: d/da [-log s(a)] = s - 1 and d/da [-log(1 - s(a))] = s. So
# dL/dw = (s_real - 1) x_real + s_fake x_fake and dL/db = (s_real - 1) + s_fake. These two
# lines are the heart of every GAN discriminator update ([the GAN losses](../docs/math/losses.md)).

# %%
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


s_real = sigmoid(np.dot(w_values, x_real) + b_value)
s_fake = sigmoid(np.dot(w_values, x_fake) + b_value)
hand_grads = np.array([*((s_real - 1) * np.array(x_real) + s_fake * np.array(x_fake)), (s_real - 1) + s_fake])
print("by hand       :", hand_grads)
print("scalar engine :", scalar_grads)
print("minigan.Tensor:", tensor_grads)

# %% [markdown]
# ## The checked number
#
# The largest disagreement between the three gradients: float64 rounding only.

# %%
difference = max(np.max(np.abs(scalar_grads - tensor_grads)), np.max(np.abs(hand_grads - tensor_grads)))
print(f"CHECK max_abs_grad_difference = {difference:.3e}")
