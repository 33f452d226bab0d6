"""Checks for A1 (autograd): each op's backward against finite differences, and the graph walk.

For an op, the grader draws inputs and a random cotangent v, the student's process runs
the copy's ``Op.forward`` and ``Op.backward`` on them (probes.vjp, called directly, so no
graph walk and no A1.8 is involved), and the grader computes the same vector-Jacobian
product by central differences of its own forward, in float64, on every backend in
``checks.backends()``. A failed check names the op, the inputs' shapes, the input whose
gradient is wrong, the worst index, and the analytic and numeric values there.

MatMul, Sum and Mul with a broadcast input (whose gradient is a sum) are also run once on inputs so large that
a backward computed by finite differences, one element at a time, cannot finish within the
part's time limit (``judge_large``); the grader knows those VJPs in closed form. An
elementwise VJP done by finite differences of all elements at once cannot be told apart
from a derived one by its numbers; docs/teaching.md says so.

Where the hint teaches float32 exactness (Sigmoid), the part also runs in float32 on a dense
grid against the suite's bound (checks.float32_problem); missing it costs FLOAT32_SHARE of
the part's points, and the feedback says so.

For A1.8 the student's process reports the order its topological_order gives on the graphs
of probes.graphs (a diamond, a shared subexpression, paths of different lengths, a wide
fan-in, a 10,000-op chain, a ladder), as positions, the leaves' gradients after a backward,
and what a second backward through the freed graph raised; the grader judges them against
the graphs it builds itself.
"""
from __future__ import annotations

import numpy as np

from minigan import ops
from minigan.autograd import Context
from minigan.backend import get_backend
from minigan.gradcheck import GradcheckError, compare_gradient, element_steps, numeric_directional

from . import probes
from .checks import (FLOAT32_SHARE, CheckFailed, PartialCredit, as_numbers, expect, expect_close, float32_problem,
                     get, on_backends)
from .checks import backends as all_backends

NAMES = "abcd"


def forward(module, op: str, hosts, settings) -> np.ndarray:
    """The grader's own forward of ``op`` on float64 host arrays."""
    ctx = Context(get_backend("numpy"))
    return getattr(module, op).forward(ctx, *hosts, **settings)


def judge_vjp(student, what: str, module, op: str, hosts: list, backend: str, settings=None, v=None,
              eps=1e-6, atol=1e-5, rtol=1e-3) -> None:
    """The student's VJP of ``op`` at ``hosts`` against the grader's finite differences."""
    settings = settings or {}
    if v is None:
        v = np.random.default_rng(0).standard_normal(np.shape(forward(module, op, hosts, settings)))
    result = student.run("vjp", module=module.__name__.split(".")[-1], op=op, backend=backend, inputs=hosts,
                         grad_y=v, settings=settings)
    grads, kinds = get(result, "grads"), get(result, "kinds")
    expect(isinstance(grads, list) and len(grads) == len(hosts),
           f"{what} on {backend}: backward returned {len(grads) if isinstance(grads, list) else 'no'} "
           f"gradients, wanted {len(hosts)} (one per input)")
    if backend != "numpy" and any(kind in ("numpy", "builtins") for kind in kinds):
        raise CheckFailed(f"{what} works on numpy but not on {backend}: backward returned a numpy array; "
                          "use ctx.xp (the backend's namespace), never numpy, inside an op")

    def f(values) -> float:
        return float(np.sum(forward(module, op, values, settings) * v))

    for i, (host, name) in enumerate(zip(hosts, NAMES)):
        analytic = as_numbers(f"{what}: the gradient of {name}", grads[i])
        expect(analytic.shape == host.shape,
               f"{what} on {backend}: {name}: gradient has shape {analytic.shape}, wanted {host.shape}")
        steps, labels = element_steps(host.shape)
        try:
            compare_gradient(name, analytic.ravel(), numeric_directional(f, hosts, i, steps, eps), labels,
                             atol, rtol)
        except GradcheckError as error:
            raise CheckFailed(f"{what} on {backend}: {error}") from None


def _check_op(student, op: str, cases, low=-2.0, high=2.0, away_from_zero=0.0, settings=None) -> str:
    """judge_vjp on each case (a tuple of input shapes) on every backend."""
    rng = np.random.default_rng(probes.SEED)
    label = op if settings is None else f"{op}({', '.join(f'{k}={v}' for k, v in settings.items())})"
    for backend in all_backends():
        for shapes in cases:
            hosts = []
            for shape in shapes:
                x = rng.uniform(low, high, size=shape)
                if away_from_zero:  # finite differences are meaningless at a kink
                    x = np.where(np.abs(x) < away_from_zero, np.sign(x + 1e-12) * away_from_zero, x)
                hosts.append(x)
            shape_text = ", ".join(f"{n} {h.shape}" for n, h in zip(NAMES, hosts))
            judge_vjp(student, f"{label} backward, inputs {shape_text}", ops, op, hosts, backend, settings)
    return f"{op} backward matches finite differences on {len(cases)} input shapes {on_backends(all_backends())}"


def judge_large(student, what: str, module, op: str, hosts: list, v, wanted: list, settings=None) -> None:
    """The student's VJP of ``op`` on large inputs against the closed form ``wanted`` (float64).

    Large enough that finite differences one element at a time (2 forwards per element)
    would take hours: such a backward runs past the part's time limit.
    """
    for backend in all_backends():
        result = student.run("vjp", module=module.__name__.split(".")[-1], op=op, backend=backend, inputs=hosts,
                             grad_y=v, settings=settings or {})
        grads = get(result, "grads")
        expect(isinstance(grads, list) and len(grads) == len(hosts),
               f"{what} on {backend}: backward returned {len(grads) if isinstance(grads, list) else 'no'} "
               f"gradients, wanted {len(hosts)}")
        for i, (name, grad) in enumerate(zip(NAMES, wanted)):
            expect_close(f"{what} on {backend}: the gradient of {name}", grads[i], grad, rtol=1e-9, atol=1e-9)


LARGE_MUL = ((600, 700), (700,))          # 420,000 inputs, each forward 420,000 products; b broadcast


def check_mul(student) -> str:
    cases = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3), (3,)), ((2, 2), ())]
    feedback = _check_op(student, "Mul", cases)
    rng = np.random.default_rng(probes.SEED + 5)
    a, b = (rng.uniform(-1.0, 1.0, size=shape) for shape in LARGE_MUL)
    v = rng.standard_normal(LARGE_MUL[0])
    judge_large(student, f"Mul backward, inputs a {a.shape}, b {b.shape}", ops, "Mul", [a, b], v,
                [v * b, np.sum(v * a, axis=0)])
    return feedback + f"; and on a {a.shape} * {b.shape} product"


LARGE_MATMUL = ((300, 400), (400, 300))   # 240,000 inputs, each forward 36 million multiply-adds
LARGE_SUM = (500, 800)                    # 400,000 inputs, each forward 400,000 additions


def check_matmul(student) -> str:
    cases = [((3, 4), (4, 2)), ((1, 5), (5, 1)), ((2, 3, 4), (4, 5)), ((3, 2), (2, 2, 4))]
    feedback = _check_op(student, "MatMul", cases)
    rng = np.random.default_rng(probes.SEED + 3)
    a, b = (rng.uniform(-1.0, 1.0, size=shape) for shape in LARGE_MATMUL)
    v = rng.standard_normal((LARGE_MATMUL[0][0], LARGE_MATMUL[1][1]))
    judge_large(student, f"MatMul backward, inputs a {a.shape}, b {b.shape}", ops, "MatMul", [a, b], v,
                [v @ b.T, a.T @ v])
    return feedback + f"; and on a {a.shape} @ {b.shape} product"


def check_sum(student) -> str:
    settings = [(None, False), (0, False), (1, True), ((0, 2), False), (-1, False), ((0, 1), True)]
    for axis, keepdims in settings:
        shape = (2, 3, 4) if axis in ((0, 2), -1) else (3, 4)
        _check_op(student, "Sum", [(shape,)], settings={"axis": axis, "keepdims": keepdims})
    rng = np.random.default_rng(probes.SEED + 4)
    x, v = rng.uniform(-1.0, 1.0, size=LARGE_SUM), rng.standard_normal(LARGE_SUM[1])
    judge_large(student, f"Sum(axis=0) backward, input {x.shape}", ops, "Sum", [x], v,
                [np.broadcast_to(v, x.shape)], settings={"axis": 0, "keepdims": False})
    return (f"Sum backward matches finite differences for {len(settings)} axis settings, and the closed form "
            f"on a {x.shape} input {on_backends(all_backends())}")


def check_exp(student) -> str:
    return _check_op(student, "Exp", [((3, 4),), ((5,),)])


def check_log(student) -> str:
    return _check_op(student, "Log", [((3, 4),), ((5,),)], low=0.3, high=3.0)


def check_sigmoid(student) -> str:
    feedback = _check_op(student, "Sigmoid", [((3, 4),), ((5,),)], low=-4.0, high=4.0)
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    s = np.exp(-np.logaddexp(0.0, -x))  # sigmoid in float64, exact at both ends
    for backend in all_backends():  # saturated inputs: the derivative is ~0, and must stay finite
        result = student.run("vjp", module="ops", op="Sigmoid", backend=backend, inputs=[x], grad_y=np.ones(5),
                             dtype="float32")
        expect_close(f"Sigmoid backward at x = [-1000, -40, 0, 40, 1000] (float32) on {backend}",
                     get(result, "grads", 0), s * (1.0 - s), atol=1e-12)
    x = FLOAT32_GRID
    truth = np.exp(-np.logaddexp(0.0, -x) - np.logaddexp(0.0, x))   # sigmoid(x) sigmoid(-x), float64
    for backend in all_backends():
        result = student.run("vjp", module="ops", op="Sigmoid", backend=backend, inputs=[x], grad_y=np.ones(x.size),
                             dtype="float32")
        problem = float32_problem(f"Sigmoid backward in float32 on {backend}", get(result, "grads", 0), truth)
        if problem:
            raise PartialCredit(f"right in float64, but not float32-exact: {problem}; as the hint asks, is "
                                "1 - y computed without subtracting y from 1? (tests/test_ops.py checks the "
                                "same bound)", FLOAT32_SHARE)
    return feedback + "; finite at saturated inputs; float32-exact on [-88, 88]"


# 20,001 float32 numbers evenly spaced in [-88, 88] (as float64): the suite's grid for float32 exactness
FLOAT32_GRID = np.linspace(-88.0, 88.0, 20_001).astype(np.float32).astype(np.float64)


def check_relu(student) -> str:
    return _check_op(student, "ReLU", [((3, 4),), ((6,),)], away_from_zero=0.1)


# ---- A1.8: the graph walk ---------------------------------------------------------------------------------
def _judge_order(name: str, order, nodes) -> None:
    """The student's order (positions in ``nodes``) against the graph the grader built."""
    if order == "RecursionError":
        raise CheckFailed(f"topological_order hit Python's recursion limit on the {name} graph "
                          f"({len(nodes)} tensors); use an explicit stack instead of recursion")
    expect(isinstance(order, list) and all(type(i) is int for i in order),
           f"topological_order's result on the {name} graph could not be read as a list of its tensors")
    expect(-1 not in order, f"topological_order lists something that is not a tensor of the {name} graph")
    expect(len(order) == len(set(order)), f"topological_order lists a tensor of the {name} graph twice; "
                                          "visit each tensor once")
    constants = [i for i in order if not nodes[i].requires_grad]
    expect(not constants, f"topological_order lists a constant (requires_grad=False) of the {name} graph; "
                          "skip such parents")
    leads_to_root = sum(1 for node in nodes if node.requires_grad)
    expect(len(order) == leads_to_root, f"topological_order missed {leads_to_root - len(order)} of the "
                                        f"{leads_to_root} tensors that lead to the root of the {name} graph")
    expect(order[-1] == len(nodes) - 1, f"topological_order must end with the root (it comes after "
                                        f"everything it uses); on the {name} graph it did not")
    where = {node: i for i, node in enumerate(order)}
    index = {id(node): i for i, node in enumerate(nodes)}
    for node in order:
        for parent in nodes[node]._parents:
            if parent.requires_grad and where[index[id(parent)]] > where[node]:
                raise CheckFailed(
                    f"on the {name} graph, topological_order put a tensor at position {where[node]} before its "
                    f"parent at position {where[index[id(parent)]]}; each tensor must come after all its parents "
                    "(a node marked visited when it is pushed, not when all its parents are listed, ends up "
                    "too early when a later sibling needs it)")


def check_topological_order(student) -> str:
    import minigan

    built = probes.graphs("numpy")   # the grader's own graphs: who is whose parent, and the gradients
    wanted = {}
    for name, (nodes, leaves) in built.items():
        nodes[-1].backward(minigan.tensor(np.ones(nodes[-1].shape), dtype="float64"))
        wanted[name] = [nodes[i].grad for i in leaves]
    built = probes.graphs("numpy")   # again, with graphs not freed by that backward
    for backend in all_backends():
        result = student.run("graph_walk", backend=backend)
        for name, (nodes, leaves) in built.items():
            got = get(result, name)
            _judge_order(name, get(got, "order"), nodes)
            for i, (leaf, grad) in enumerate(zip(leaves, wanted[name])):
                expect_close(f"the gradient of leaf {i} after backward through the {name} graph on {backend}",
                             get(got, "grads", i), grad, rtol=1e-9, atol=1e-12)
            second = get(got, "second_backward")
            expect(second == "RuntimeError",
                   f"a second backward through the freed {name} graph raised {one_line_name(second)}, wanted "
                   "RuntimeError (backprop.py raises it once your order reaches a freed tensor: does your walk "
                   "list every tensor, the freed ones too?)")
    sizes = ", ".join(f"{name} ({len(nodes)})" for name, (nodes, _) in built.items())
    return (f"parents before children, each tensor once, constants skipped, gradients right, freed graphs "
            f"refused, on graphs of {sizes} tensors {on_backends(all_backends())}")


def one_line_name(value) -> str:
    """A name the student's process sent, shortened for the feedback."""
    return repr(value)[:60]
