"""Checks for A6 (convolutions): conv2d's forward by im2col, its backward, BatchNorm's backward.

- A6.1, the forward (im2col and Conv2d.forward): the student's process runs Conv2d.forward
  directly (probes.conv_forward) and the grader compares y with its own conv2d, first where
  the layout of the columns cannot matter (one input channel and a 1 x 1 kernel), then on
  shapes where it does (channels, kernels 1 to 4, strides 1 to 3, padding), then on a
  batch of 16 images of 32 x 32 x 8.
- A6.2, the backward (col2im, Conv2dWeight.forward and Conv2d.backward): probes.conv_backward
  fills the context as the forward would and runs the student's backward with the
  grader's own im2col, so A6.2 is graded whatever A6.1 holds. grad_x and grad_w against
  central differences of the grader's forward, first where windows do not overlap
  (stride = kernel), then where they do (stride < kernel) and where pixels are skipped
  (stride > kernel); then on 8 images of 32 x 32 x 16, too large for finite differences one
  element at a time (about 140,000 inputs, 2 forwards each), against the grader's closed form.
- A6.3, BatchNorm.backward: through the A1 probe (probes.vjp) on features and images
  against finite differences; a wrong answer is also tested for the two properties the
  closed form has (grad_x sums to 0 over each channel, and is orthogonal to x_hat), so the
  feedback can say which term is missing; then on 128 x 64 x 8 x 8 inputs against the
  closed form.
"""
from __future__ import annotations

import numpy as np

from minigan import ops
from minigan.autograd import tensor
from minigan.gradcheck import GradcheckError, compare_gradient, element_steps, numeric_directional

from . import probes
from .checks import CheckFailed, as_numbers, expect, expect_close, get, on_backends
from .checks import backends as all_backends
from .checks_autograd import forward, judge_large, judge_vjp


def grader_conv(x, w, stride, padding) -> np.ndarray:
    """The grader's own conv2d, float64."""
    return forward(ops, "Conv2d", [x, w], {"stride": tuple(stride), "padding": tuple(padding)})


def _problem(rng, n, c, o, kernel, size, stride, padding):
    x = rng.uniform(-1.0, 1.0, size=(n, c) + size)
    w = rng.uniform(-1.0, 1.0, size=(o, c) + kernel)
    return x, w, stride, padding


def _describe(x, w, stride, padding) -> str:
    return f"x {x.shape}, w {w.shape}, stride {tuple(stride)}, padding {tuple(padding)}"


# ---- A6.1: the forward by im2col ------------------------------------------------------------------
FORWARD_EASY = [(2, 1, 3, (1, 1), (4, 5), (1, 1), (0, 0))]   # one channel, a 1 x 1 kernel: any column order works
FORWARD_CASES = [(2, 3, 4, (3, 3), (6, 7), (1, 1), (1, 1)), (1, 2, 3, (4, 2), (9, 8), (2, 3), (1, 0)),
                 (3, 4, 2, (2, 2), (5, 5), (3, 3), (2, 2)), (2, 3, 5, (4, 4), (8, 8), (2, 2), (1, 1))]
LARGE_FORWARD = (16, 8, 16, (4, 4), (32, 32), (2, 2), (1, 1))


def _judge_forward(student, backend, x, w, stride, padding) -> None:
    result = student.run("conv_forward", backend=backend, x=x, w=w, stride=list(stride), padding=list(padding))
    expect_close(f"Conv2d forward on {backend}, {_describe(x, w, stride, padding)}", get(result, "y"),
                 grader_conv(x, w, stride, padding), rtol=1e-10, atol=1e-10)


def check_forward(student) -> str:
    rng = np.random.default_rng(probes.SEED + 61)
    for backend in all_backends():
        for case in FORWARD_EASY:
            _judge_forward(student, backend, *_problem(rng, *case))
        for case in FORWARD_CASES:
            x, w, stride, padding = _problem(rng, *case)
            try:
                _judge_forward(student, backend, x, w, stride, padding)
            except CheckFailed as error:
                raise CheckFailed(f"{error}; right with one channel and a 1 x 1 kernel, so look at the order: "
                                  "do the columns of cols and of w_rows list (i, j, c) the same way?") from None
    x, w, stride, padding = _problem(rng, *LARGE_FORWARD)
    for backend in all_backends():
        _judge_forward(student, backend, x, w, stride, padding)
    return (f"Conv2d forward matches the grader's on {1 + len(FORWARD_CASES)} shapes and on "
            f"{_describe(x, w, stride, padding)} {on_backends(all_backends())}")


# ---- A6.2: the backward ----------------------------------------------------------------------------
BACKWARD_APART = [(2, 2, 3, (2, 2), (4, 6), (2, 2), (0, 0))]                 # stride = kernel: no overlap
BACKWARD_CASES = [(2, 2, 3, (3, 3), (5, 5), (1, 1), (1, 1)),                 # stride < kernel: overlap
                  (1, 3, 2, (4, 3), (8, 7), (2, 1), (1, 2)),
                  (2, 2, 2, (2, 2), (7, 8), (3, 3), (0, 1))]                 # stride > kernel: pixels skipped
LARGE_BACKWARD = (8, 16, 32, (4, 4), (32, 32), (2, 2), (1, 1))


def _student_grads(student, backend, x, w, grad_y, stride, padding, what):
    result = student.run("conv_backward", backend=backend, x=x, w=w, grad_y=grad_y, stride=list(stride),
                         padding=list(padding))
    grads, kinds = get(result, "grads"), get(result, "kinds")
    expect(isinstance(grads, list) and len(grads) == 2,
           f"{what}: backward returned {len(grads) if isinstance(grads, list) else 'no'} gradients, wanted 2 "
           "(grad_x, grad_w)")
    if backend != "numpy" and any(kind in ("numpy", "builtins") for kind in kinds):
        raise CheckFailed(f"{what}: backward returned a numpy array; use ctx.xp (the backend's namespace), "
                          "never numpy, inside an op")
    return grads


def _judge_backward(student, backend, x, w, stride, padding, rng) -> None:
    what = f"Conv2d backward on {backend}, {_describe(x, w, stride, padding)}"
    v = rng.standard_normal(grader_conv(x, w, stride, padding).shape)
    grads = _student_grads(student, backend, x, w, v, stride, padding, what)

    def f(values) -> float:
        return float(np.sum(grader_conv(values[0], values[1], stride, padding) * v))

    for i, (host, name) in enumerate(zip([x, w], ["x", "w"])):
        expect(grads[i] is not None, f"{what}: no gradient for {name}")
        analytic = as_numbers(f"{what}: the gradient of {name}", grads[i])
        expect(analytic.shape == host.shape, f"{what}: {name}: gradient has shape {analytic.shape}, wanted {host.shape}")
        steps, labels = element_steps(host.shape)
        try:
            compare_gradient(name, analytic.ravel(), numeric_directional(f, [x, w], i, steps), labels)
        except GradcheckError as error:
            raise CheckFailed(f"{what}: {error}") from None


def check_backward(student) -> str:
    rng = np.random.default_rng(probes.SEED + 62)
    for backend in all_backends():
        for case in BACKWARD_APART:
            _judge_backward(student, backend, *_problem(rng, *case), rng)
        for case in BACKWARD_CASES:
            x, w, stride, padding = _problem(rng, *case)
            try:
                _judge_backward(student, backend, x, w, stride, padding, rng)
            except CheckFailed as error:
                overlap = "overlap" if stride[0] < w.shape[2] or stride[1] < w.shape[3] else "skip pixels"
                raise CheckFailed(f"{error}; right where the windows do not overlap, wrong where they {overlap}: "
                                  "in col2im, does each window add to what the others wrote?") from None
    x, w, stride, padding = _problem(rng, *LARGE_BACKWARD)
    v = rng.standard_normal(grader_conv(x, w, stride, padding).shape)
    tx, tw, tv = (tensor(a, dtype="float64") for a in (x, w, v))
    extra = tuple((n + 2 * p - k) % s for n, k, s, p in zip(x.shape[2:], w.shape[2:], stride, padding))
    grad_x = ops.conv_transpose2d(tv, tw, stride=stride, padding=padding, output_padding=extra).numpy()
    grad_w = ops.conv2d_weight(tx, tv, w.shape[2:], stride=stride, padding=padding).numpy()
    for backend in all_backends():
        what = f"Conv2d backward on {backend}, {_describe(x, w, stride, padding)}"
        grads = _student_grads(student, backend, x, w, v, stride, padding, what)
        for got, wanted, name in zip(grads, (grad_x, grad_w), ("x", "w")):
            expect(got is not None, f"{what}: no gradient for {name}")
            expect_close(f"{what}: the gradient of {name}", got, wanted, rtol=1e-9, atol=1e-9)
    return (f"Conv2d backward matches finite differences with windows apart, overlapping and skipping pixels, "
            f"and the closed form on {_describe(x, w, stride, padding)} {on_backends(all_backends())}")


# ---- A6.3: BatchNorm's backward --------------------------------------------------------------------
BATCHNORM_CASES = [((6, 3), (0,)), ((4, 2, 3, 3), (0, 2, 3))]
LARGE_BATCHNORM = ((128, 64, 8, 8), (0, 2, 3))


def batchnorm_closed_form(x, v, axes, eps):
    """grad_x = r (v - mean(v) - x_hat mean(v x_hat)), means over ``axes``: the grader's closed form."""
    centred = x - x.mean(axis=axes, keepdims=True)
    r = 1.0 / np.sqrt((centred**2).mean(axis=axes, keepdims=True) + eps)
    x_hat = centred * r
    return r * (v - v.mean(axis=axes, keepdims=True) - x_hat * (v * x_hat).mean(axis=axes, keepdims=True)), x_hat


def _which_term(student, x, axes, backend) -> str:
    """For a wrong answer: which of the two properties of the true gradient it lacks."""
    v = np.random.default_rng(probes.SEED + 63).standard_normal(x.shape)
    result = student.run("vjp", module="ops", op="BatchNorm", backend=backend, inputs=[x], grad_y=v,
                         settings={"axis": list(axes), "eps": 1e-12})
    try:
        got = as_numbers("grad_x", get(result, "grads")[0])
        _, x_hat = batchnorm_closed_form(x, v, axes, 1e-12)
        if got.shape != x.shape:
            return ""
        scale = np.abs(got).max() + 1e-12
        if np.abs(got.sum(axis=axes)).max() > 1e-6 * scale * x.size:
            return ("; your grad_x does not sum to 0 over each channel: the batch mean depends on every x, "
                    "which term of the closed form takes that away?")
        if np.abs((got * x_hat).sum(axis=axes)).max() > 1e-6 * scale * x.size:
            return ("; your grad_x is not orthogonal to x_hat in each channel: the batch variance depends on every "
                    "x, which term of the closed form takes that away?")
    except (CheckFailed, IndexError, TypeError):
        pass
    return ""


def check_batchnorm(student) -> str:
    rng = np.random.default_rng(probes.SEED + 64)
    for backend in all_backends():
        for shape, axes in BATCHNORM_CASES:
            x = rng.normal(size=shape) * 2.0 + 1.0
            try:
                judge_vjp(student, f"BatchNorm backward, x {shape}, axis {axes}", ops, "BatchNorm", [x], backend,
                          settings={"axis": axes, "eps": 1e-5})
            except CheckFailed as error:
                raise CheckFailed(f"{error}{_which_term(student, x, axes, backend)}") from None
    shape, axes = LARGE_BATCHNORM
    x = rng.normal(size=shape) * 2.0 + 1.0
    v = rng.standard_normal(shape)
    wanted, _ = batchnorm_closed_form(x, v, axes, 1e-5)
    judge_large(student, f"BatchNorm backward, x {shape}", ops, "BatchNorm", [x], v, [wanted],
                settings={"axis": axes, "eps": 1e-5})
    return (f"BatchNorm backward matches finite differences on features and images, and the closed form on "
            f"x {shape} {on_backends(all_backends())}")
