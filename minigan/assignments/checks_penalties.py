"""Checks for A5 (gradient penalties): a VJP that can be differentiated again, and R1.

- Tanh.backward, second order: the student's process runs Tanh forward, then the gradient
  g = <v, dy/dx> with ``create_graph=True``, then the gradient of <u, g>. The grader knows
  both in closed form, with t = tanh(x):  g = v (1 - t^2),  d<u, g>/dx = -2 u v t (1 - t^2).
- r1_penalty: on a linear D(x) = x w + b, R1 = ||w||^2 at every x and its gradient is
  (2w, 0), exactly; on a tanh MLP, the value and every parameter's gradient against the
  grader's own minigan running the same probe.
"""
from __future__ import annotations

import numpy as np

from . import probes
from .checks import CheckFailed, as_numbers, expect, expect_close, get, missing_gradient_excused, on_backends
from .checks import backends as all_backends
from .checks_autograd import _check_op


# ---- A5.2: Tanh.backward, differentiable ------------------------------------------------------------
def check_tanh_second_order(student) -> str:
    feedback = _check_op(student, "Tanh", [((3, 4),), ((5,),)])  # the first derivative, as in A1
    rng = np.random.default_rng(probes.SEED)
    x, v, u = rng.uniform(-2.0, 2.0, size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    t = np.tanh(x)
    for backend in all_backends():
        result = student.run("second_order", module="ops", op="Tanh", backend=backend, x=x, v=v, u=u)
        what = f"Tanh backward under create_graph=True on {backend}"
        expect_close(f"{what}: the gradient", get(result, "g"), v * (1.0 - t * t), rtol=1e-10, atol=1e-12)
        expect(get(result, "g_recorded") is True,
               f"{what}: the gradient came back with no graph, so its own derivative is lost: "
               "is it built from ctx.saved with ctx.xp and operators, or from raw arrays?")
        h = get(result, "h")
        expect(h is not None, f"{what}: the gradient does not depend on x: which saved value carries x?")
        expect_close(f"{what}: the second derivative d<u, grad>/dx", h, -2.0 * u * v * t * (1.0 - t * t),
                     rtol=1e-8, atol=1e-12)
    return feedback + f"; second derivatives match -2 t (1 - t^2) {on_backends(all_backends())}"


# ---- A5.1: r1_penalty ---------------------------------------------------------------------------------
def _judge_penalty(student, backend: str, sizes, weights, x, wanted_value, wanted_grads, label: str) -> None:
    result = student.run("penalty", backend=backend, sizes=list(sizes), weights=weights, x=x)
    what = f"r1_penalty on {label} on {backend}"
    expect(get(result, "is_tensor") is True, f"{what}: returned something that is not a Tensor")
    expect_close(f"{what}: the value", get(result, "value"), wanted_value, rtol=1e-8, atol=1e-12)
    expect(get(result, "requires_grad") is True,
           f"{what}: the penalty has no graph back to D's weights: was grad_x D(x) recorded (create_graph)?")
    grads = get(result, "grads")
    expect(isinstance(grads, list) and len(grads) == len(wanted_grads),
           f"{what}: the reply holds no gradient list of {len(wanted_grads)} parameters")
    names = [f"layer {i // 2} {'weight' if i % 2 == 0 else 'bias'}" for i in range(len(wanted_grads))]
    for got, wanted, name in zip(grads, wanted_grads, names):
        if got is None:
            if missing_gradient_excused(wanted):
                continue  # a parameter the penalty does not depend on may get no gradient
            raise CheckFailed(f"{what}: after R1.backward(), the {name} has no gradient: "
                              "does the penalty depend on D's weights through the input gradient?")
        expect_close(f"{what}: d R1 / d {name}", as_numbers(name, got), wanted, rtol=1e-7, atol=1e-10)


def check_r1(student) -> str:
    rng = np.random.default_rng(probes.SEED)
    x = rng.normal(size=(6, 3))
    w, b = rng.normal(size=(3, 1)), rng.normal(size=(1,))
    mlp = [rng.normal(size=(3, 5)) * 0.8, rng.normal(size=(5,)) * 0.5, rng.normal(size=(5, 1)), rng.normal(size=(1,))]
    reference = probes.penalty("numpy", [3, 5, 1], mlp, x)  # the grader's own minigan
    # the last bias moves D(x) but not its slope grad_x D: no gradient, i.e. zeros
    reference_grads = [np.zeros_like(w) if g is None else g for g, w in zip(reference["grads"], mlp)]
    for backend in all_backends():
        _judge_penalty(student, backend, [3, 1], [w, b], x, float(np.sum(w * w)), [2.0 * w, np.zeros(1)],
                       "a linear D (R1 = ||w||^2)")
        _judge_penalty(student, backend, [3, 5, 1], mlp, x, reference["value"], reference_grads,
                       "a tanh MLP 3-5-1")
    return f"R1 and its gradient match ||w||^2 on a linear D and the reference on an MLP {on_backends(all_backends())}"
