"""The reverse pass: ``Tensor.backward`` and ``minigan.grad``, once or differentiably.

Both walk the graph from the outputs back to the inputs in reverse topological order
(every tensor after all the tensors that use it) and apply each op's VJP: given dL/dy it
returns dL/dx for each input x. Where a tensor feeds several ops, their contributions add.

- ``backward`` adds the gradients into the leaves' ``.grad`` (what an optimizer reads);
- ``grad`` returns the gradients of chosen tensors, and leaves every ``.grad`` alone.

Double backprop. With ``create_graph=True`` the pass is itself recorded: each VJP runs on
Tensors, with ``ctx.xp`` = minigan.ops instead of the array library and ``ctx.saved``
holding the tensors the saved arrays came from (the op's inputs and output; anything else,
a mask, is a constant). The gradients come back as Tensors with a graph of their own, so a
loss on a gradient, such as the R1 penalty mean ||grad_x D(x)||^2, can be differentiated in
turn. The same backward code serves both passes; docs/math/ops.md#second-derivatives.
"""
from __future__ import annotations

from minigan import autograd
from minigan.autograd import Context, Tensor, topological_order


def backward(root: Tensor, grad=None, retain_graph=None, inputs=None, create_graph: bool = False) -> None:
    """Add d(root)/d(leaf) into every leaf's ``.grad`` (the body of ``Tensor.backward``)."""
    if not root.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad (no input had requires_grad=True)")
    leaves = _check_leaves(inputs)
    seed = _seed("grad", root, grad, create_graph)
    retain_graph = create_graph if retain_graph is None else retain_graph
    reverse_pass([root], [seed], leaves, create_graph, retain_graph, into_leaves=True)


def grad(outputs, inputs, grad_outputs=None, create_graph: bool = False, retain_graph=None,
         allow_unused: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to each of ``inputs``, as a tuple of Tensors.

    outputs       a Tensor or a list of them; their gradients add up
    inputs        a Tensor or a list of Tensors that require grad (leaves or not)
    grad_outputs  d(loss)/d(output) for each output: omitted for one-element outputs (1)
    create_graph  record the pass, so each returned gradient can be differentiated again
    retain_graph  keep the graph for another pass (default: what create_graph is)
    allow_unused  return None for an input the outputs do not depend on (else an error)

    ``.grad`` is left untouched. Like ``torch.autograd.grad``:
    ``(grad_x,) = minigan.grad(D(x).sum(), x, create_graph=True)``.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):  # one Tensor or array, for one output
        grad_outputs = [grad_outputs]
    if not outputs or len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs: got {len(grad_outputs)}, wanted one per output ({len(outputs)})")
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError(f"outputs[{i}]: got {t!r:.60}, wanted a Tensor that requires grad")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError(f"inputs[{i}]: got {t!r:.60}, wanted a Tensor with requires_grad=True")
    seeds = [_seed(f"grad_outputs[{i}]", t, g, create_graph) for i, (t, g) in enumerate(zip(outputs, grad_outputs))]
    retain_graph = create_graph if retain_graph is None else retain_graph
    found = reverse_pass(outputs, seeds, inputs, create_graph, retain_graph, into_leaves=False)
    grads = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise ValueError(f"inputs[{i}]: the outputs do not depend on it; pass allow_unused=True to get None")
        grads.append(g if g is None or isinstance(g, Tensor) else Tensor(g, t.backend))
    return tuple(grads)


def reverse_pass(roots, seeds, targets, create_graph, retain_graph, into_leaves) -> dict:
    """The walk itself. Returns {id(target): its gradient} for the ``targets`` (None: all leaves).

    into_leaves   add each leaf's gradient into its ``.grad`` (backward) or not (grad)
    """
    order = _order(roots)
    wanted = _leading_to(order, targets)
    target_ids = set() if targets is None else {id(t) for t in targets}
    grads, found = {}, {}
    for root, seed in zip(roots, seeds):
        grads[id(root)] = seed if id(root) not in grads else grads[id(root)] + seed
    recording = autograd.is_grad_enabled()
    autograd._GRAD_ENABLED = recording or create_graph  # a recorded pass records even inside no_grad()
    try:
        for node in reversed(order):  # every node after all the nodes that use it
            grad_node = grads.pop(id(node), None)
            if grad_node is None:
                continue
            if id(node) in target_ids:
                found[id(node)] = grad_node
            if node._op is None:  # a leaf: keep its gradient
                if into_leaves:
                    node.grad = _add(node.grad, grad_node)
                continue
            needs_grad = node._ctx.needs_grad = tuple([id(parent) in wanted for parent in node._parents])
            ctx = GraphContext(node) if create_graph else node._ctx
            grads_in = node._op.backward(ctx, grad_node)
            if not isinstance(grads_in, tuple):
                grads_in = (grads_in,)
            for parent, needed, grad_parent in zip(node._parents, needs_grad, grads_in):  # asked once, above
                if grad_parent is None or not needed:
                    continue
                grad_parent = _checked(node, grad_parent, create_graph)
                key = id(parent)
                grads[key] = grad_parent if key not in grads else grads[key] + grad_parent
            if not retain_graph:
                node._op, node._ctx, node._parents = autograd._Freed, None, ()
    finally:
        autograd._GRAD_ENABLED = recording
    return found


class GraphContext(Context):
    """A node's context for a recorded backward: the same settings, with ``xp`` = minigan.ops
    and each saved array replaced by the tensor it is (an input or the output) or, for
    anything else (a mask, a share of a tie), by a constant tensor."""

    def __init__(self, node: Tensor):
        vars(self).update(vars(node._ctx))
        self.xp = autograd._ops
        own = {id(node.data): node}
        own.update({id(parent.data): parent for parent in node._parents})  # an input wins over the output
        self.saved = tuple(own[id(a)] if id(a) in own else Tensor(a, node.backend) for a in node._ctx.saved)

    def run(self, op, *inputs, **settings):
        """Another op, recorded (a VJP that is itself an op: Index's is Scatter)."""
        return autograd.apply(op, *inputs, **settings)


# ---- the pieces ----------------------------------------------------------------------------
def _seed(name: str, root: Tensor, grad, create_graph: bool):
    """d(loss)/d(root) to start from: 1 for a one-element root, else ``grad``, checked.

    An array on the default pass; a Tensor on a recorded one, where a Tensor given is kept
    as it is, so a gradient can flow into it too."""
    backend = root.backend
    if grad is None:
        if root.size != 1:
            raise ValueError(f"backward(): got no {name} for a tensor of shape {root.shape}; pass one of that shape")
        grad = backend.xp.ones(root.data.shape, dtype=root.data.dtype)  # root's shape and dtype already:
        return Tensor(grad, backend) if create_graph else grad            # no copy, no check (1 us a pass)
    if isinstance(grad, Tensor):
        if grad.backend is not backend:
            raise ValueError(f"backward(): got {name} on backend {grad.backend.name!r}, wanted {backend.name!r}")
        if create_graph and grad.shape == root.shape and grad.dtype == root.dtype:
            return grad
        grad = grad.data
    grad = backend.asarray(grad, dtype=root.data.dtype)  # same dtype as the root: no promotion
    if tuple(grad.shape) != root.shape:
        raise ValueError(f"backward(): got {name} of shape {tuple(grad.shape)}, wanted {root.shape}")
    return Tensor(grad, backend) if create_graph else grad


def _checked(node: Tensor, grad, create_graph: bool):
    """A VJP's result: a backend array on the default pass, a Tensor on a recorded one."""
    if not create_graph:
        # a backward that leaked another library's array fails here, not later;
        # NumPy scalars from full reductions become 0-d arrays
        return node.backend.check(grad)
    if not isinstance(grad, Tensor) or grad.backend is not node.backend:
        raise TypeError(f"{node._op.__name__}.backward: under create_graph it returned a {type(grad).__name__}, "
                        "wanted a Tensor (write the backward with ctx.xp and ctx.saved)")
    return grad


def _add(old, new):
    """old + new for .grad, where one may be an array and the other a Tensor."""
    if old is None:
        return new
    if isinstance(new, Tensor) and not isinstance(old, Tensor):
        old = Tensor(old, new.backend)
    elif isinstance(old, Tensor) and not isinstance(new, Tensor):
        old = old.data
    return old + new


def _check_leaves(inputs):
    """``backward(inputs=...)``: None, or leaves that require grad."""
    if inputs is None:
        return None
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad or not t.is_leaf:
            raise ValueError(f"inputs[{i}]: got {t!r:.60}, wanted a leaf Tensor with requires_grad=True")
    return inputs


def _order(roots) -> list:
    """The tensors that lead to any root, each after all its parents: each root's
    topological order in turn, keeping a tensor's first place (still parents first).

    A tensor whose graph an earlier backward freed has lost its parents: the walk cannot
    go on from it, so the pass stops here, before any gradient is computed.
    """
    if len(roots) == 1:
        order = topological_order(roots[0])
    else:
        order, seen = [], set()
        for root in roots:
            for node in topological_order(root):
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
    for node in order:
        if node._op is autograd._Freed:
            raise RuntimeError("backward(): the graph was already freed by an earlier backward(); "
                               "pass retain_graph=True to the first call to keep it")
    return order


def _leading_to(order: list, inputs) -> set:
    """The ids of the tensors in ``order`` that a gradient must reach: all of them, or
    (with ``inputs``) those inputs and every tensor computed from one of them."""
    if inputs is None:
        return {id(node) for node in order}
    wanted = {id(t) for t in inputs}
    for node in order:  # parents come first, so each node's parents are already decided
        for parent in node._parents:  # a plain loop: any(<generator>) cost 0.3 us more a node, 14 us a toy step
            if id(parent) in wanted:
                wanted.add(id(node))
                break
    return wanted
