"""The probes: what the student's process is asked to compute, and nothing else.

Each probe runs the student's code on inputs the grader made and returns raw numbers
(arrays, counts, labels). It judges nothing: the grader compares what comes back with what
its own minigan computes. Anything a probe says could be forged by the student's code,
which runs in the same process, so the grader believes only numbers it can check.

This module runs on both sides. In the sandbox, ``import minigan`` is the student's copy;
in the grader, it is the grader's own minigan, which uses the same builders (``diamond``,
``small_gan``) to make the reference. It imports minigan inside each function for that
reason, and needs nothing but NumPy besides.
"""
from __future__ import annotations

import importlib
import sys

import numpy as np

SEED = 20140610  # the GAN paper's arXiv date: one seed for every grade


def to_host(value, backend=None):
    """(a NumPy array, the name of the array's module): what a probe sends back for an array."""
    kind = type(value).__module__.split(".")[0]
    if hasattr(value, "backend") and hasattr(value, "numpy"):  # a minigan Tensor
        value, backend, kind = value.data, value.backend, "Tensor"
    if backend is not None and isinstance(value, backend.array_type):
        value = backend.to_host(value)
    return np.array(value, copy=True), kind  # a copy: the array may be updated in place later


# ---- A1 and A2.2 to A2.4: one op's backward, called directly -------------------------------------
def vjp(module, op, backend, inputs, grad_y, settings=None, dtype="float64"):
    """Run ``minigan.<module>.<op>``'s forward on ``inputs`` and its backward on ``grad_y``.

    Calling the op directly (not through Tensor.backward) needs no graph walk, so a part of
    A1 is graded without the student's topological_order (A1.8).
    """
    import minigan
    from minigan.autograd import Context

    be = minigan.get_backend(backend)
    Op = getattr(importlib.import_module(f"minigan.{module}"), op)
    arrays = [be.asarray(np.asarray(x), dtype=be.dtype(dtype)) for x in inputs]
    settings = {name: tuple(v) if isinstance(v, list) else v for name, v in (settings or {}).items()}  # JSON: axes
    ctx = Context(be)
    Op.forward(ctx, *arrays, **settings)
    ctx.needs_grad = (True,) * len(arrays)
    grads = Op.backward(ctx, be.asarray(np.asarray(grad_y), dtype=be.dtype(dtype)))
    grads = grads if isinstance(grads, tuple) else (grads,)
    pairs = [(None, "None") if g is None else to_host(g, be) for g in grads]
    return {"grads": [g for g, _ in pairs], "kinds": [k for _, k in pairs]}


# ---- A1.8: the graph walk ----------------------------------------------------------------------------
_SCALE = []   # the Scale op, made once (its base class is the copy's Op: imported when first used)


def scale(t, c: float):
    """c * t through an op the grader defines here: y = c x, VJP grad_x = c grad_y.

    A1.8's graphs use it, addition and concat (which no part grades) in place of the copy's
    Mul, Exp and Tanh, so a mistake in A1.1 or A1.4 costs that part alone, not A1.8 as well.
    """
    if not _SCALE:
        from minigan.autograd import Op

        class Scale(Op):
            @staticmethod
            def forward(ctx, x, c=1.0):
                ctx.c = c
                return x * c

            @staticmethod
            def backward(ctx, grad_y):
                return grad_y * ctx.c

        _SCALE.append(Scale)
    from minigan.autograd import apply
    return apply(_SCALE[0], t, c=float(c))


def diamond(backend):
    """a = -0.6 x, b = a + x, c = (a - b) + k, out = (c + a) + b: a and b are used twice; k is a constant.

    Returns the graph's tensors in a fixed order: [x, k, a, b, a - b, c, c + a, out].
    """
    import minigan

    x = minigan.tensor([0.3, -0.7, 1.1], requires_grad=True, backend=backend, dtype="float64")
    k = minigan.tensor([2.0, 2.0, 2.0], backend=backend, dtype="float64")
    a = scale(x, -0.6)
    b = a + x
    a_minus_b = a - b
    c = a_minus_b + k
    c_plus_a = c + a
    out = c_plus_a + b
    return [x, k, a, b, a_minus_b, c, c_plus_a, out]


CHAIN = 10_000   # ops in the long chain: ten times Python's default recursion limit
RUNGS = 1_000    # rungs of the ladder: each reuses the one before twice


def graphs(backend) -> dict:
    """The graphs A1.8 is graded on: name -> (its tensors, root last; the leaves to read grads of).

    Each is built the same way by the student's process and by the grader, so a tensor is
    named by its position. Every one but the diamond and the chain has a node that the root
    reaches first by a short path and again through a longer one: a walk that marks a node
    visited when it is pushed (not when all its parents are done) lists it too late there.
    """
    import minigan
    from minigan import ops

    def leaf(values):
        return minigan.tensor(values, requires_grad=True, backend=backend, dtype="float64")

    built = {"diamond": (diamond(backend), [0])}
    x = leaf([1.0, -1.0])
    b = scale(x, 2.0)
    a = scale(b, 3.0)                             # a needs b, and out lists b first
    built["shared"] = ([x, b, a, b + a], [0])     # x.grad = 2 + 3 * 2 = 8
    x = leaf([0.4, -0.3, 0.9])
    h = scale(x, 0.7)
    nodes = [x, h]
    for step in (lambda t: scale(t, 1.5), lambda t: scale(t, -1.2), lambda t: t + 1.0, lambda t: scale(t, 0.5)):
        nodes.append(step(nodes[-1]))             # a path of four ops from h ...
    nodes.append(h + nodes[-1])                   # ... and a path of none: out = h + long(h)
    built["two paths"] = (nodes, [0])
    x, y = leaf([0.5, -1.5, 2.0]), leaf([1.0, 0.25, -0.5])
    branches = [scale(x, i + 1) + y for i in range(50)]
    products = [t for branch in branches for t in (branch._parents[0], branch)]
    wide = ops.concat([x, *branches])             # one node with 51 parents, x among them
    doubled = scale(wide, 2.0)
    built["fan-in"] = ([x, y, *products, wide, doubled, doubled + wide], [0, 1])
    chain = [leaf([1.0])]
    for _ in range(CHAIN):
        chain.append(chain[-1] + 1.0)
    built["chain"] = (chain, [0])
    ladder = [leaf([0.5, 2.0])]
    for _ in range(RUNGS):
        half = scale(ladder[-1], 0.5)
        ladder.extend([half, half + ladder[-1]])   # each rung uses the one before twice: x 1.5 per rung
    ladder.append(scale(ladder[-1], 1e-170))      # keeps the gradient (1.5 ** 1000 ~ 1e176) finite
    built["ladder"] = (ladder, [0])
    return built


def labels(order, nodes) -> list:
    """Each tensor of ``order`` as its index in ``nodes`` (-1 for a tensor not among them)."""
    where = {id(node): i for i, node in enumerate(nodes)}
    return [where.get(id(node), -1) for node in order]


def graph_walk(backend):
    """On each of ``graphs``: the student's topological_order as positions, the leaves'
    gradients after a backward from the root, and what a second backward through the freed
    graph raised ("RuntimeError", another exception's name, or "nothing")."""
    import minigan
    from minigan.autograd import topological_order

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: a recursive walk must fail on the chain
    try:
        return {name: _walk(nodes, leaves, topological_order, minigan, backend)
                for name, (nodes, leaves) in graphs(backend).items()}
    finally:
        sys.setrecursionlimit(limit)


def _walk(nodes, leaves, topological_order, minigan, backend) -> dict:
    """graph_walk on one graph."""
    result = {}
    try:
        result["order"] = labels(list(topological_order(nodes[-1])), nodes)
    except RecursionError:
        result["order"] = "RecursionError"
        return result  # the backward would fail the same way; the order says why
    root = nodes[-1]
    root.backward(minigan.tensor(np.ones(root.shape), backend=backend, dtype="float64"))
    result["grads"] = [to_host(nodes[i].grad, nodes[i].backend)[0] for i in leaves]
    try:
        root.backward(minigan.tensor(np.ones(root.shape), backend=backend, dtype="float64"))
        result["second_backward"] = "nothing"
    except Exception as error:  # noqa: BLE001  (its name is the answer)
        result["second_backward"] = type(error).__name__
    return result


# ---- A2.1: Linear.forward ----------------------------------------------------------------------------
def linear(backend, weight, bias, x):
    """Linear(n_in, n_out) with the grader's weights, on the grader's x; then one backward."""
    import minigan
    from minigan import nn

    be = minigan.get_backend(backend)
    layer = nn.Linear(*weight.shape, rng=be.random(SEED), backend=be)
    layer.weight.data = be.asarray(weight, dtype=layer.weight.dtype)
    layer.bias.data = be.asarray(bias, dtype=layer.weight.dtype)
    y = layer(minigan.tensor(x, backend=be, dtype="float32"))
    result = {"is_tensor": isinstance(y, minigan.Tensor)}
    if not result["is_tensor"]:
        return result
    result.update(y=to_host(y)[0], dtype=str(y.dtype), requires_grad=bool(y.requires_grad))
    if y.requires_grad:
        y.backward(minigan.tensor(np.ones(y.shape), backend=be, dtype="float32"))
    for name in ("weight", "bias"):
        grad = getattr(layer, name).grad
        result[f"{name}_grad"] = None if grad is None else to_host(grad, be)[0]
    return result


# ---- A2.5 and A2.6: the optimizers --------------------------------------------------------------------
def optimizer(backend, kind, settings, starts, schedule, gradients, buffers):
    """Run ``minigan.optim.<kind>(params, **settings)`` with known gradients; record every step.

    ``schedule[t]`` holds the hyperparameters to set before step t (as a schedule would).
    Returns, per step, the parameters and the named buffers.
    """
    import minigan
    from minigan import optim

    be = minigan.get_backend(backend)
    params = [minigan.tensor(p, requires_grad=True, backend=be) for p in starts]
    opt = getattr(optim, kind)(params, **settings)
    steps = []
    for changes, grads in zip(schedule, gradients):
        for name, value in changes.items():
            setattr(opt, name, tuple(value) if isinstance(value, list) else value)
        for p, g in zip(params, grads):
            p.grad = be.asarray(g, dtype=p.dtype)
        opt.step()
        steps.append({"params": [to_host(p)[0] for p in params],
                      "buffers": {name: [to_host(a, be)[0] for a in opt.buffers[name]] for name in buffers}})
    return steps


# ---- A3: Algorithm 1's two steps ---------------------------------------------------------------------
def small_gan(k: int, loss: str, **options):
    """A small seeded GAN on the ring (SGD, so a small difference stays small).

    options: the GAN's penalty, gamma and clip, passed on.
    """
    import minigan
    from minigan import data, gan, nn, optim

    backend = minigan.get_backend("numpy")
    rng = backend.random(SEED)
    G = nn.MLP([2, 16, 2], "relu", rng=rng, backend=backend)
    D = nn.MLP([2, 16, 1], "leaky_relu", rng=rng, backend=backend)
    opt_G = optim.SGD(G.parameters(), lr=0.05, momentum=0.5)
    opt_D = optim.SGD(D.parameters(), lr=0.05, momentum=0.5)
    return gan.GAN(G, D, data.ring(), data.normal_noise(2), opt_G, opt_D, k=k, m=32, loss=loss, rng=rng,
                   check_every=1, **options)


def watch(model) -> dict:
    """Count the optimizers' steps, and note a D step taken while G holds a gradient."""
    counts = {"D": 0, "G": 0, "D steps that reached G": 0}
    step_D, step_G = model.opt_D.step, model.opt_G.step

    def watched_D():
        counts["D"] += 1
        if any(p.grad is not None for p in model.G.parameters()):
            counts["D steps that reached G"] += 1
        step_D()

    def watched_G():
        counts["G"] += 1
        step_G()

    model.opt_D.step, model.opt_G.step = watched_D, watched_G
    return counts


def returned(out) -> dict:
    """What a step returned, as numbers: its type's name, and each item of a tuple (or the
    value itself) as an array where it is a Tensor, else None."""
    items = list(out) if isinstance(out, tuple) else [out]
    arrays = [to_host(item)[0] if hasattr(item, "backend") and hasattr(item, "numpy") else None for item in items]
    return {"type": type(out).__name__, "length": len(items) if isinstance(out, tuple) else None, "items": arrays}


def run_steps(model, call, iterations) -> dict:
    """``iterations`` calls of ``call(model)``, watched: the loss each returned (the first of
    a tuple), what the last call returned (``returned``), then every parameter of G and D,
    and how often each optimizer stepped."""
    counts = watch(model)
    losses, out = [], None
    for _ in range(iterations):
        for p in model.G.parameters():
            p.grad = None  # so a gradient seen at a D step came from that step
        out = call(model)
        loss_value = out[0] if isinstance(out, tuple) and out else out
        losses.append(float(np.asarray(getattr(loss_value, "data", np.nan))))
    params = {f"{net}.{name}": to_host(p)[0] for net in ("G", "D")
              for name, p in getattr(model, net).named_parameters()}
    return {"losses": losses, "returned": returned(out), "params": params, "counts": counts}


def steps(method, loss, iterations, options=None):
    """The student's GAN.<method>() ("discriminator_step" or "generator_step") on
    small_gan(1, loss, **options), through run_steps."""
    return run_steps(small_gan(1, loss, **(options or {})), lambda model: getattr(model, method)(), iterations)


# ---- A4: the experiment ---------------------------------------------------------------------------------
def run_ring(args):
    """The student's experiments.run_ring(**args), as it returns it."""
    from minigan.assignments import experiments

    return experiments.run_ring(**args)


def compare(steps, seed, runs):
    """The student's experiments.compare, with run_ring answering from the grader's runs.

    So A4.2 is graded on its own: the runs are the grader's (the grid, then tables it
    altered), only the bookkeeping and the findings are the student's.
    """
    from minigan.assignments import experiments

    table = {(run["form"], run["k"]): run for run in runs}

    def grader_run_ring(form="non_saturating", k=1, steps=experiments.STEPS, seed=0, early=None):
        return dict(table[form, k])

    student_run_ring, experiments.run_ring = experiments.run_ring, grader_run_ring
    try:
        return experiments.compare(steps=steps, seed=seed)
    finally:
        experiments.run_ring = student_run_ring  # so a probe run in the grader's process leaves it as it was


# ---- A5: second derivatives and the R1 penalty ---------------------------------------------------------
def second_order(module, op, backend, x, v, u):
    """y = op(x); g = grad <v, y> with create_graph=True; then h = grad <u, g>: g and h as numbers.

    ``g_recorded`` says whether g came back with a graph (requires_grad) at all.
    """
    import minigan
    from minigan.autograd import apply

    be = minigan.get_backend(backend)
    Op = getattr(importlib.import_module(f"minigan.{module}"), op)
    x = minigan.tensor(x, requires_grad=True, backend=be, dtype="float64")
    y = apply(Op, x)
    (g,) = minigan.grad(y, x, grad_outputs=minigan.tensor(v, backend=be, dtype="float64"), create_graph=True)
    result = {"g": to_host(g)[0], "g_recorded": bool(g.requires_grad)}
    if g.requires_grad:
        (h,) = minigan.grad(g, x, grad_outputs=minigan.tensor(u, backend=be, dtype="float64"), allow_unused=True)
        result["h"] = None if h is None else to_host(h)[0]
    return result


def penalty(backend, sizes, weights, x):
    """R1 = losses.r1_penalty(D, x) for an MLP D with the given weights (tanh, float64);
    then R1.backward(): its value and the gradient of every weight and bias, in order."""
    import minigan
    from minigan import losses, nn

    be = minigan.get_backend(backend)
    D = nn.MLP(list(sizes), "tanh", rng=be.random(SEED), backend=be, dtype="float64")
    params = list(D.parameters())
    for p, w in zip(params, weights):
        p.data = be.asarray(w, dtype=p.dtype)
    r1 = losses.r1_penalty(D, minigan.tensor(x, backend=be, dtype="float64"))
    result = {"is_tensor": isinstance(r1, minigan.Tensor)}
    if not result["is_tensor"]:
        return result
    result.update(value=to_host(r1)[0], requires_grad=bool(r1.requires_grad))
    if r1.requires_grad:
        r1.backward()
    result["grads"] = [None if p.grad is None else to_host(p.grad, be)[0] for p in params]
    return result


# ---- A6: convolutions ------------------------------------------------------------------------------------
def conv_forward(backend, x, w, stride, padding):
    """The student's Conv2d.forward (im2col and the product) on x and w, called directly: y."""
    import minigan
    from minigan.autograd import Context
    from minigan.ops import conv

    be = minigan.get_backend(backend)
    ctx = Context(be)
    y = conv.Conv2d.forward(ctx, be.asarray(np.asarray(x), dtype=be.dtype("float64")),
                            be.asarray(np.asarray(w), dtype=be.dtype("float64")), tuple(stride), tuple(padding))
    return {"y": to_host(y, be)[0]}


def conv_backward(backend, x, w, grad_y, stride, padding):
    """The student's Conv2d.backward at (x, w) for grad_y: grad_x and grad_w, with the grader's im2col.

    The context is filled in here, as Conv2d.forward would, and ``conv.im2col`` is the
    grader's own while the backward runs: A6.2 is graded on its own, whatever A6.1 holds.
    """
    import minigan
    from minigan.autograd import Context
    from minigan.ops import conv

    be = minigan.get_backend(backend)
    xp = be.xp
    x, w, grad_y = (be.asarray(np.asarray(a), dtype=be.dtype("float64")) for a in (x, w, grad_y))
    stride, padding = tuple(stride), tuple(padding)

    def grader_im2col(backend, x, kernel, stride, padding):
        n, c, h, wd = x.shape
        (p_h, p_w) = padding
        padded = xp.zeros((n, h + 2 * p_h, wd + 2 * p_w, c), dtype=x.dtype)
        padded[:, p_h:p_h + h, p_w:p_w + wd, :] = xp.permute_dims(x, (0, 2, 3, 1))
        view = backend.windows(padded, kernel, stride)
        return xp.reshape(view, (-1, kernel[0] * kernel[1] * c)), (view.shape[1], view.shape[2])

    ctx = Context(be)
    ctx.save(x, w)
    ctx.stride, ctx.padding = stride, padding
    ctx.output_padding = tuple((n + 2 * p - k) % s for n, k, s, p in zip(x.shape[2:], w.shape[2:], stride, padding))
    ctx.needs_grad = (True, True)
    student_im2col, conv.im2col = conv.im2col, grader_im2col
    try:
        grads = conv.Conv2d.backward(ctx, grad_y)
    finally:
        conv.im2col = student_im2col   # a probe run in the grader's process leaves it as it was
    grads = grads if isinstance(grads, tuple) else (grads,)
    pairs = [(None, "None") if g is None else to_host(g, be) for g in grads]
    return {"grads": [g for g, _ in pairs], "kinds": [k for _, k in pairs]}


PROBES = {"vjp": vjp, "graph_walk": graph_walk, "linear": linear, "optimizer": optimizer, "steps": steps,
          "run_ring": run_ring, "compare": compare, "second_order": second_order, "penalty": penalty,
          "conv_forward": conv_forward, "conv_backward": conv_backward}
