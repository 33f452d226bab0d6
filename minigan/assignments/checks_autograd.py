"""Checks for A1 (autograd): each op's backward against finite differences, and the graph walk.

For an op, the grader draws inputs and a random cotangent v, the student's process runs
the copy's ``Op.forward`` and ``Op.backward`` on them (probes.vjp, called directly, so no
graph walk and no A1.8 is involved), and the grader computes the same vector-Jacobian
product by central differences of its own forward, in float64, on every backend in
``checks.backends()``. A failed check names the op, the inputs' shapes, the input whose
gradient is wrong, the worst index, and the analytic and numeric values there.

For A1.8 the student's process reports the order its topological_order gives on a small
graph and on a long chain, as positions; the grader judges that order against the graph it
builds itself.
"""
from __future__ import annotations

import numpy as np

from minigan import ops
from minigan.autograd import Context
from minigan.backend import get_backend
from minigan.gradcheck import GradcheckError, compare_gradient, element_steps, numeric_directional

from . import probes
from .checks import CheckFailed, as_numbers, expect, expect_close, get, on_backends
from .checks import backends as all_backends

NAMES = "abcd"
CHAIN = 1500  # ops in the long chain: past Python's default recursion limit of 1000


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


def check_mul(student) -> str:
    cases = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3), (3,)), ((2, 2), ())]
    return _check_op(student, "Mul", cases)


def check_matmul(student) -> str:
    cases = [((3, 4), (4, 2)), ((1, 5), (5, 1)), ((2, 3, 4), (4, 5)), ((3, 2), (2, 2, 4))]
    return _check_op(student, "MatMul", cases)


def check_sum(student) -> str:
    settings = [(None, False), (0, False), (1, True), ((0, 2), False), (-1, False), ((0, 1), True)]
    for axis, keepdims in settings:
        shape = (2, 3, 4) if axis in ((0, 2), -1) else (3, 4)
        _check_op(student, "Sum", [(shape,)], settings={"axis": axis, "keepdims": keepdims})
    return f"Sum backward matches finite differences for {len(settings)} axis settings {on_backends(all_backends())}"


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
    return feedback + "; finite at saturated inputs"


def check_relu(student) -> str:
    return _check_op(student, "ReLU", [((3, 4),), ((6,),)], away_from_zero=0.1)


# ---- A1.8: the graph walk ---------------------------------------------------------------------------------
def check_topological_order(student) -> str:
    nodes = probes.diamond("numpy")  # the grader's own diamond: which tensor is whose parent
    parents = {i: [j for j in probes.labels([p for p in node._parents if p.requires_grad], nodes)]
               for i, node in enumerate(nodes)}
    leads_to_root = {i for i, node in enumerate(nodes) if node.requires_grad}
    t = np.tanh(np.array([0.3, -0.7, 1.1]))
    for backend in all_backends():
        result = student.run("graph_walk", backend=backend, chain_length=CHAIN)
        expect(get(result, "order_type") == "list",
               f"topological_order returned {get(result, 'order_type')}, wanted a list")
        order = get(result, "order")
        expect(isinstance(order, list) and all(isinstance(i, int) for i in order),
               "topological_order's result could not be read as a list of tensors")
        expect(-1 not in order, "topological_order lists something that is not a tensor of the graph")
        expect(len(order) == len(set(order)), "topological_order lists a tensor twice; visit each tensor once")
        expect(1 not in order, "topological_order lists a constant (requires_grad=False); skip such parents")
        missing = len(leads_to_root - set(order))
        expect(missing == 0, f"topological_order missed {missing} of the {len(leads_to_root)} tensors "
                             "that lead to the root")
        expect(order[-1] == len(nodes) - 1, "topological_order must end with the root (it comes after "
                                            "everything it uses)")
        where = {node: i for i, node in enumerate(order)}
        for node in order:
            for parent in parents[node]:
                expect(where[parent] < where[node],
                       f"topological_order put a tensor at position {where[node]} before its parent "
                       f"at position {where[parent]}; each tensor must come after all its parents")
        # out = c + a + b = (a - b + k) + a + b = 2a + k, so d out / dx = 2 (1 - tanh^2)
        expect_close(f"x.grad after backward through a diamond graph on {backend}", get(result, "x_grad"),
                     2.0 * (1.0 - t * t))
        chain = get(result, "chain_order")
        if chain == "RecursionError":
            raise CheckFailed(f"topological_order hit Python's recursion limit on a chain of {CHAIN} ops; "
                              "use an explicit stack instead of recursion")
        expect(chain == list(range(CHAIN + 1)),
               f"topological_order on a chain of {CHAIN} ops did not list its {CHAIN + 1} tensors in order")
    return (f"parents before children, each tensor once, constants skipped, diamond gradient right, "
            f"a chain of {CHAIN} ops fine {on_backends(all_backends())}")
