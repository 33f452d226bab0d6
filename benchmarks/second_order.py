"""Second derivatives, measured: every op's double-backprop VJP against finite differences,
and what a recorded backward (create_graph=True) costs next to a plain one.

    python benchmarks/second_order.py          # the table, then the timings
    python benchmarks/second_order.py --json   # one JSON object

For each op f, with fixed float64 inputs x and cotangents v and u: h(x) = grad <v, f(x)>
by ``minigan.grad(..., create_graph=True)``, then d<u, h>/dx by a second ``minigan.grad``;
the reference is central differences of h (each h from an ordinary backward), eps 1e-6.
Reported: the largest absolute error and the largest error relative to max |reference|.
The tests (tests/test_second_order.py) check the same property on hypothesis-drawn inputs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import minigan  # noqa: E402
from minigan import losses, nn, ops  # noqa: E402

RNG = np.random.default_rng(0)
A, B = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
POS, AWAY = RNG.uniform(0.3, 2.0, size=(3, 4)), RNG.choice([-1, 1], size=(3, 4)) * RNG.uniform(0.2, 2, size=(3, 4))
M1, M2 = RNG.normal(size=(3, 5)), RNG.normal(size=(5, 2))
LOGITS, FAKE = RNG.normal(size=(6, 1)) * 2, RNG.normal(size=(4, 1)) * 2
# name -> (function of tensors, input arrays)
CASES = {
    "add": (lambda a, b: a + b, [A, B[0]]), "sub": (lambda a, b: a - b, [A, B]),
    "mul": (lambda a, b: a * b, [A, B]), "div": (lambda a, b: a / b, [A, AWAY]),
    "neg": (lambda a: -a, [A]), "pow 3": (lambda a: a**3, [A]), "pow -2.5": (lambda a: a**-2.5, [POS]),
    "matmul": (lambda a, b: a @ b, [M1, M2]), "sum": (lambda a: ops.sum(a, axis=1), [A]),
    "mean": (lambda a: ops.mean(a, axis=0), [A]), "max": (lambda a: ops.max(a, axis=1), [A]),
    "reshape": (lambda a: ops.reshape(a, (4, 3)), [A]), "transpose": (lambda a: a.T, [A]),
    "broadcast_to": (lambda a: ops.broadcast_to(a, (2, 3, 4)), [A]),
    "concat": (lambda a, b: ops.concat([a, b], axis=1), [A, B]), "index": (lambda a: a[1:, ::2], [A]),
    "take rows": (lambda a: a[[2, 0, 2]], [A]), "where": (lambda a, b: ops.where(A > 0, a * a, b), [A, B]),
    "exp": (ops.exp, [A]), "log": (ops.log, [POS]), "tanh": (ops.tanh, [A]), "sigmoid": (ops.sigmoid, [A]),
    "relu": (ops.relu, [AWAY]), "leaky_relu": (ops.leaky_relu, [AWAY]), "softplus": (ops.softplus, [A]),
    "log_sigmoid": (ops.log_sigmoid, [A]),
    "softmax": (lambda a: ops.softmax(a, axis=1), [A]), "log_softmax": (lambda a: ops.log_softmax(a, axis=1), [A]),
    "discriminator_loss": (losses.discriminator_loss, [LOGITS, FAKE]),
    "generator_loss (non-saturating)": (lambda a: losses.generator_loss(a, form="non_saturating"), [FAKE]),
    "generator_loss (minimax)": (lambda a: losses.generator_loss(a, form="minimax"), [FAKE]),
    "bce_with_logits": (lambda a: losses.bce_with_logits(a, 0.9), [LOGITS]),
    **{f"discriminator_loss ({form})": (lambda a, b, form=form: losses.discriminator_loss(a, b, form=form),
                                        [LOGITS * 0.3 + 0.05, FAKE * 0.3 + 0.05])  # off hinge's kinks at +-1
       for form in ("lsgan", "wgan", "hinge")},
    **{f"generator_loss ({form})": (lambda a, form=form: losses.generator_loss(a, form=form), [FAKE])
       for form in ("lsgan", "wgan", "hinge")},
}


def tensors(arrays, requires_grad=True):
    return [minigan.tensor(a, requires_grad=requires_grad, dtype="float64") for a in arrays]


def first_derivative(fn, arrays, v, create_graph):
    xs = tensors(arrays)
    out = fn(*xs)
    grads = minigan.grad(out, xs, grad_outputs=minigan.tensor(v, dtype="float64"), create_graph=create_graph,
                         allow_unused=True)
    return xs, grads


def second_order_error(fn, arrays, eps=1e-6):
    """(max abs error, max relative error) of d<u, h>/dx for every input, h = grad <v, fn(x)>."""
    with minigan.no_grad():
        shape = fn(*tensors(arrays, False)).shape
    v = RNG.normal(size=shape)
    xs, grads = first_derivative(fn, arrays, v, create_graph=True)
    us = [RNG.normal(size=np.shape(a)) for a in arrays]
    recorded = [(g, u) for g, u in zip(grads, us) if g is not None and g.requires_grad]
    if recorded:
        dot = sum(((g * minigan.tensor(u, dtype="float64")).sum() for g, u in recorded), start=0.0)
        analytic = [h.numpy() if h is not None else np.zeros(np.shape(a))
                    for h, a in zip(minigan.grad(dot, xs, allow_unused=True), arrays)]
    else:  # the first derivative does not depend on x (a linear op): its derivative is 0
        analytic = [np.zeros(np.shape(a)) for a in arrays]

    def h_dot_u(values) -> float:
        _, g = first_derivative(fn, values, v, create_graph=False)
        return sum(float(np.sum(gi.numpy() * u)) for gi, u in zip(g, us) if gi is not None)

    worst_abs, scale = 0.0, 0.0
    for i, a in enumerate(arrays):
        numeric = np.zeros(np.shape(a))
        for j in np.ndindex(*np.shape(a)):
            plus, minus = [b.copy() for b in arrays], [b.copy() for b in arrays]
            plus[i][j] += eps
            minus[i][j] -= eps
            numeric[j] = (h_dot_u(plus) - h_dot_u(minus)) / (2 * eps)
        worst_abs = max(worst_abs, float(np.max(np.abs(analytic[i] - numeric))))
        scale = max(scale, float(np.max(np.abs(numeric))))
    return worst_abs, worst_abs / scale if scale > 0 else 0.0


def timings(repeats=20):
    """ms per R1-style pass on a 2-128-128-1 D with m = 256: plain backward, and recorded + second backward."""
    rng = minigan.get_backend("numpy").random(0)
    D = nn.MLP([2, 128, 128, 1], "leaky_relu", rng=rng)
    x = minigan.tensor(np.random.default_rng(1).normal(size=(256, 2)).astype(np.float32))

    def plain():
        D.zero_grad()
        D(x).mean().backward()

    def r1():
        D.zero_grad()
        xl = x.detach().requires_grad_()
        (g,) = minigan.grad(D(xl).sum(), xl, create_graph=True)
        (g * g).sum(axis=1).mean().backward()

    result = {}
    for name, fn in (("backward", plain), ("r1 (create_graph + backward)", r1)):
        fn()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        result[name] = 1e3 * (time.perf_counter() - start) / repeats
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    table = {name: second_order_error(fn, arrays) for name, (fn, arrays) in CASES.items()}
    times = timings()
    if args.json:
        print(json.dumps({"second_order": table, "ms": times}))
        return 0
    print(f"{'op':34} {'max abs error':>14} {'relative':>10}")
    for name, (err, rel) in table.items():
        print(f"{name:34} {err:14.2e} {rel:10.2e}")
    print()
    for name, ms in times.items():
        print(f"{name:34} {ms:8.2f} ms")
    print(f"{'ratio':34} {times['r1 (create_graph + backward)'] / times['backward']:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
