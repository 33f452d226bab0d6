"""Checks for A1 (autograd): each op's backward against finite differences, and the graph walk.

Each op check runs ``minigan.gradcheck`` (central differences in float64) on a few input
shapes chosen to exercise broadcasting, on every backend in ``checks.backends()``. A failed
gradient check names the op, the inputs' shapes, the input whose gradient is wrong, the
worst index, and the analytic and numeric values there.

So that one part is graded on its own, the op checks walk the graph with the grader's own
topological order (``reference_order``) instead of the student's A1.8; A1.8 is checked on
its own, through ops whose backward is not part of the assignment.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

import numpy as np

from .checks import CheckFailed, expect, expect_close, on_backends
from .checks import backends as all_backends


def reference_order(root) -> list:
    """The grader's topological order: every tensor that requires grad, after its parents."""
    order, seen = [], set()

    def visit(node):
        seen.add(id(node))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in seen:
                visit(parent)
        order.append(node)

    visit(root)
    return order


@contextmanager
def reference_graph_walk():
    """Within this block ``Tensor.backward`` walks the graph with ``reference_order``."""
    import minigan.autograd as autograd

    student = autograd.topological_order
    autograd.topological_order = reference_order
    try:
        yield
    finally:
        autograd.topological_order = student


def gradcheck_op(op: str, fn, arrays: dict, backend: str) -> None:
    """gradcheck ``fn`` on float64 copies of ``arrays`` (name -> host array) on ``backend``."""
    import minigan

    names = list(arrays)
    inputs = [minigan.tensor(arrays[n], requires_grad=True, backend=backend, dtype="float64") for n in names]
    shapes = ", ".join(f"{n} {arrays[n].shape}" for n in names)
    try:
        with reference_graph_walk():
            minigan.gradcheck(fn, inputs, names=names)
    except minigan.GradcheckError as error:
        raise CheckFailed(f"{op} backward, inputs {shapes} on {backend}: {error}") from None
    except TypeError as error:  # the Tensor's type check: another library's array leaked in
        if backend == "numpy":
            raise
        raise CheckFailed(f"{op} backward works on numpy but not on {backend}: {error}; "
                          "use ctx.xp (the backend's namespace), never numpy, inside an op") from None


def _draw(rng, shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def _check_op(op: str, fn, cases, low=-2.0, high=2.0, away_from_zero=0.0) -> str:
    """gradcheck ``fn`` on each case (a tuple of input shapes) on every backend."""
    rng = np.random.default_rng(20140610)  # the GAN paper's arXiv date: one seed for every grade
    names = "abcd"
    for backend in all_backends():
        for shapes in cases:
            arrays = {}
            for name, shape in zip(names, shapes):
                x = _draw(rng, shape, low, high)
                if away_from_zero:  # finite differences are meaningless at a kink
                    x = np.where(np.abs(x) < away_from_zero, np.sign(x + 1e-12) * away_from_zero, x)
                arrays[name] = x
            gradcheck_op(op, fn, arrays, backend)
    return f"{op} backward matches finite differences on {len(cases)} input shapes {on_backends(all_backends())}"


def check_mul() -> str:
    cases = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3), (3,)), ((2, 2), ())]
    return _check_op("Mul", lambda a, b: a * b, cases)


def check_matmul() -> str:
    cases = [((3, 4), (4, 2)), ((1, 5), (5, 1)), ((2, 3, 4), (4, 5)), ((3, 2), (2, 2, 4))]
    return _check_op("MatMul", lambda a, b: a @ b, cases)


def check_sum() -> str:
    settings = [(None, False), (0, False), (1, True), ((0, 2), False), (-1, False), ((0, 1), True)]
    for axis, keepdims in settings:
        shape = (2, 3, 4) if axis in ((0, 2), -1) else (3, 4)
        _check_op(f"Sum(axis={axis}, keepdims={keepdims})",
                  lambda x, axis=axis, keepdims=keepdims: x.sum(axis=axis, keepdims=keepdims), [(shape,)])
    return f"Sum backward matches finite differences for {len(settings)} axis settings {on_backends(all_backends())}"


def check_exp() -> str:
    return _check_op("Exp", lambda x: x.exp(), [((3, 4),), ((5,),)])


def check_log() -> str:
    return _check_op("Log", lambda x: x.log(), [((3, 4),), ((5,),)], low=0.3, high=3.0)


def check_sigmoid() -> str:
    import minigan

    feedback = _check_op("Sigmoid", lambda x: x.sigmoid(), [((3, 4),), ((5,),)], low=-4.0, high=4.0)
    for backend in all_backends():  # saturated inputs: the derivative is ~0, and must stay finite
        x = minigan.tensor([-1000.0, -40.0, 0.0, 40.0, 1000.0], requires_grad=True, backend=backend)
        with reference_graph_walk():
            x.sigmoid().sum().backward()
        wanted = [0.0, 4.248354e-18, 0.25, 4.248354e-18, 0.0]
        expect_close(f"Sigmoid backward at x = [-1000, -40, 0, 40, 1000] (float32) on {backend}", x.grad, wanted,
                     atol=1e-12)
    return feedback + "; finite at saturated inputs"


def check_relu() -> str:
    return _check_op("ReLU", lambda x: x.relu(), [((3, 4),), ((6,),)], away_from_zero=0.1)


# ---- A1.8: the graph walk ---------------------------------------------------------------------------------
def _diamond(backend):
    """a = tanh(x), b = a + x, c = (a - b) + k, out = (c + a) + b: a and b are used twice; k is a constant."""
    import minigan

    x = minigan.tensor([0.3, -0.7, 1.1], requires_grad=True, backend=backend, dtype="float64")
    k = minigan.tensor([2.0, 2.0, 2.0], backend=backend, dtype="float64")
    a = x.tanh()
    b = a + x
    c = (a - b) + k
    out = (c + a) + b
    return x, k, [a, b, c], out


def check_topological_order() -> str:
    import minigan
    import minigan.autograd as autograd

    for backend in all_backends():
        x, k, middle, out = _diamond(backend)
        order = autograd.topological_order(out)
        expect(isinstance(order, list), f"topological_order returned {type(order).__name__}, wanted a list")
        ids = [id(node) for node in order]
        expect(len(ids) == len(set(ids)), "topological_order lists a tensor twice; visit each tensor once")
        expect(id(k) not in ids, "topological_order lists a constant (requires_grad=False); skip such parents")
        wanted = {id(node) for node in reference_order(out)}
        missing = len(wanted - set(ids))
        expect(missing == 0, f"topological_order missed {missing} of the {len(wanted)} tensors that lead to the root")
        expect(order[-1] is out, "topological_order must end with the root (it comes after everything it uses)")
        where = {node_id: i for i, node_id in enumerate(ids)}
        for node in order:
            for parent in node._parents:
                if parent.requires_grad:
                    expect(where[id(parent)] < where[id(node)],
                           f"topological_order put a tensor at position {where[id(node)]} before its parent "
                           f"at position {where[id(parent)]}; each tensor must come after all its parents")
        # backward through the diamond: a tensor used twice must collect both gradients first
        x, k, middle, out = _diamond(backend)
        out.backward(minigan.tensor([1.0, 1.0, 1.0], backend=backend, dtype="float64"))
        t = np.tanh(np.array([0.3, -0.7, 1.1]))
        # out = c + a + b = (a - b + k) + a + b = 2a + k, so d out / dx = 2 (1 - tanh^2)
        expect_close(f"x.grad after backward through a diamond graph on {backend}", x.grad, 2.0 * (1.0 - t * t))
    # a long chain: an explicit stack has no recursion limit
    x = minigan.tensor([1.0], requires_grad=True, dtype="float64")
    y = x
    for _ in range(sys.getrecursionlimit() + 500):
        y = y + 1.0
    try:
        order = autograd.topological_order(y)
    except RecursionError:
        raise CheckFailed(
            f"topological_order hit Python's recursion limit on a chain of {sys.getrecursionlimit() + 500} ops; "
            "use an explicit stack instead of recursion"
        ) from None
    expect(len(order) == sys.getrecursionlimit() + 501,
           f"topological_order on a chain of {sys.getrecursionlimit() + 500} ops listed {len(order)} tensors, "
           f"wanted {sys.getrecursionlimit() + 501}")
    return (f"parents before children, each tensor once, constants skipped, diamond gradient right, "
            f"a chain of {sys.getrecursionlimit() + 500} ops fine {on_backends(all_backends())}")
