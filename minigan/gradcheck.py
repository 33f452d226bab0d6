"""Gradient checking: compare hand-derived gradients with central finite differences.

For a function f of inputs x and a fixed random cotangent v (the "grad_y" fed to
backward), autograd gives the vector-Jacobian product  g = v^T J.  Finite differences
give the same numbers one element at a time:

    g_j  ~  ( <v, f(x + eps e_j)> - <v, f(x - eps e_j)> ) / (2 eps)

with an error of order eps**2. In float64, eps = 1e-6 makes both errors (truncation
~1e-12 and rounding ~1e-16/1e-6 = 1e-10) far below the tolerance, so a mismatch means a
wrong derivative. For big inputs, ``directions=n`` checks n random directions u instead:
<g, u> against (<v, f(x + eps u)> - <v, f(x - eps u)>) / (2 eps).

The bookkeeping (perturbing one element, summing <v, f>) is done on host NumPy copies on
purpose: only ``fn`` runs on the inputs' backend, so the checker is the same on every one.
"""
from __future__ import annotations

import numpy as np

from minigan import ops, threads
from minigan.autograd import Tensor
from minigan.backprop import grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, directions=None, seed=0, names=None):
    """Check d fn / d input for every input that has ``requires_grad=True``.

    fn          takes the inputs (Tensors) and returns a Tensor
    inputs      float64 Tensors, all on one backend
    directions  None: every element (exact but costs 2 calls per element);
                n: n random directions per input (cheap on large inputs)
    names       optional names for the inputs, used in the error message

    Returns True, or raises GradcheckError naming the input, the worst index (or
    direction), the analytic and the numeric value.
    """
    return _check(fn, inputs, eps, atol, rtol, directions, seed, names, second_order=False)


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, directions=None, seed=0, names=None):
    """Check the second derivatives of ``fn``: the gradient of its gradient (double backprop).

    For a fixed random cotangent v, the first derivative h(x) = v^T J(x) = grad <v, fn(x)>
    is itself a function of the inputs. Its VJP comes from a recorded backward
    (``minigan.grad(..., create_graph=True)``) and is compared, as in ``gradcheck``, with
    central finite differences of h, each h computed by an ordinary backward. Same
    arguments and result as ``gradcheck``.
    """
    rng = np.random.default_rng(seed)

    def first_derivative(*xs):
        """h(x) = grad <v, fn(x)> with respect to every input that requires grad, flattened."""
        out = fn(*xs)
        v = Tensor(out.backend.asarray(cotangent(out.shape), dtype=out.dtype), out.backend)
        wanted = [x for x in xs if x.requires_grad]
        grads = grad(out, wanted, grad_outputs=v, create_graph=True, allow_unused=True)
        pieces = [ops.reshape(g if g is not None else Tensor(x.xp.zeros(x.shape, dtype=x.dtype), x.backend), (-1,))
                  for g, x in zip(grads, wanted)]
        return ops.concat(pieces) if len(pieces) > 1 else pieces[0]

    shapes = {}

    def cotangent(shape):  # one fixed v per output shape, the same at every perturbed point
        if shape not in shapes:
            shapes[shape] = rng.standard_normal(shape)
        return shapes[shape]

    return _check(first_derivative, inputs, eps, atol, rtol, directions, seed + 1, names, second_order=True)


def _check(fn, inputs, eps, atol, rtol, directions, seed, names, second_order):
    """gradcheck's body. ``second_order``: fn differentiates its inputs itself, so the
    finite differences call it on inputs that require grad."""
    if not eps > 0:
        raise ValueError(f"eps: got {eps!r}, wanted a positive number")
    if not (atol >= 0 and rtol >= 0):
        raise ValueError(f"atol, rtol: got {atol!r}, {rtol!r}, wanted non-negative numbers")
    if directions is not None and (not isinstance(directions, int) or isinstance(directions, bool) or directions < 1):
        raise ValueError(f"directions: got {directions!r}, wanted None or a positive integer")
    inputs = list(inputs)
    if not inputs or not all(isinstance(t, Tensor) for t in inputs):
        raise TypeError("inputs: wanted a non-empty list of Tensors")
    backend = inputs[0].backend
    for i, t in enumerate(inputs):
        if t.requires_grad and t.dtype != backend.xp.float64:
            raise TypeError(f"inputs[{i}]: got dtype {t.dtype}, wanted float64 (finite differences need it)")
    names = names or [f"inputs[{i}]" for i in range(len(inputs))]
    rng = np.random.default_rng(seed)
    hosts = [t.numpy() for t in inputs]

    # analytic: one backward pass with a random cotangent v
    leaves = [Tensor(backend.asarray(h), backend, requires_grad=t.requires_grad) for h, t in zip(hosts, inputs)]
    out = fn(*leaves)
    v = rng.standard_normal(out.shape)
    if out.requires_grad or not second_order:  # a first derivative may be constant: then its own is 0
        out.backward(backend.asarray(v, dtype=out.dtype))

    def f(values) -> float:
        """<v, fn(values)>. Not under no_grad(): fn may take a gradient itself (a penalty)."""
        y = fn(*[Tensor(backend.asarray(h), backend, requires_grad=second_order and t.requires_grad)
                 for h, t in zip(values, inputs)])
        return float(np.sum(y.numpy() * v))

    for i, (t, leaf) in enumerate(zip(inputs, leaves)):
        if not t.requires_grad:
            continue
        analytic = np.zeros(t.shape) if leaf.grad is None else backend.to_host(leaf.grad)
        if tuple(analytic.shape) != t.shape:
            raise GradcheckError(f"{names[i]}: gradient has shape {tuple(analytic.shape)}, wanted {t.shape}")
        if directions is None:
            steps, labels = element_steps(t.shape)
        else:
            steps = [rng.standard_normal(t.shape) for _ in range(directions)]
            labels = [f"direction {k}" for k in range(directions)]
        a_values = np.array([float(np.sum(analytic * u)) for u in steps])
        compare_gradient(names[i], a_values, numeric_directional(f, hosts, i, steps, eps), labels, atol, rtol)
    return True



def element_steps(shape):
    """One unit step e_j per element of an array of ``shape``, and each element's index."""
    size = int(np.prod(shape))
    steps = [np.eye(1, size, j).reshape(shape) for j in range(size)]
    labels = [tuple(int(w) for w in np.unravel_index(j, shape)) if shape else () for j in range(size)]
    return steps, labels


def numeric_directional(f, hosts, i, steps, eps=1e-6) -> np.ndarray:
    """(f(x + eps u) - f(x - eps u)) / (2 eps) for each step u of input i; f takes host arrays."""
    values = []
    for u in threads.loop(steps):  # BLAS threads chosen by timing these evaluations (minigan.threads)
        plus = [h + eps * u if k == i else h for k, h in enumerate(hosts)]
        minus = [h - eps * u if k == i else h for k, h in enumerate(hosts)]
        values.append((f(plus) - f(minus)) / (2 * eps))
    return np.array(values)


def compare_gradient(name, a_values, n_values, labels, atol=1e-5, rtol=1e-3) -> None:
    """Raise GradcheckError at the worst of the analytic values that miss the numeric ones."""
    excess = np.abs(a_values - n_values) - (atol + rtol * np.abs(n_values))
    # a NaN or inf on either side is a failure too (NaN > 0 would quietly be False)
    if excess.size and (not np.all(np.isfinite(excess)) or excess.max() > 0):
        worst = int(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf)))
        raise GradcheckError(
            f"{name}: gradient mismatch at index {labels[worst]}: analytic {a_values[worst]:.6g}, "
            f"numeric {n_values[worst]:.6g} (atol={atol}, rtol={rtol})"
        )
