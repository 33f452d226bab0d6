"""Reverse-mode automatic differentiation: the Tensor, the graph it records, and backward().

A Tensor is a backend array plus three things autograd needs:

- ``grad``           the gradient accumulated by ``backward()`` (leaves only);
- ``_op``, ``_ctx``  the op that made it and what that op saved for its backward;
- ``_parents``       the tensors the op was applied to.

Running ops builds a directed acyclic graph from the inputs to the output. ``backward()``
visits it in reverse topological order (every tensor after all the tensors that use it)
and applies each op's hand-written vector-Jacobian product (VJP): given dL/dy it returns
dL/dx for each input x. Where a tensor feeds several ops, their contributions add up.
This file holds the Tensor, the op interface and the order of the walk; the walk itself,
and ``minigan.grad`` with its differentiable (create_graph) form, is minigan/backprop.py.
"""
from __future__ import annotations

from contextlib import contextmanager


from minigan.backend import Backend, backend_of, check_data, get_backend

_GRAD_ENABLED = True


@contextmanager
def no_grad():
    """Within this block ops record no graph (for evaluation and optimizer updates)."""
    global _GRAD_ENABLED
    previous, _GRAD_ENABLED = _GRAD_ENABLED, False
    try:
        yield
    finally:
        _GRAD_ENABLED = previous


def is_grad_enabled() -> bool:
    return _GRAD_ENABLED


class Context:
    """What a forward saves for its backward: ``xp``, saved arrays and op settings.

    ``needs_grad`` holds one flag per input: does this backward pass want that input's
    gradient? ``backward()`` sets it just before calling ``op.backward``, so an op can skip
    the work for an input that needs none (data fed to the first layer, or the weights of
    a network that is not being trained by this backward pass).
    """

    def __init__(self, backend: Backend):
        self.backend = backend
        self.xp = backend.xp
        self.saved = ()
        self.needs_grad = ()

    def save(self, *arrays):
        """Keep arrays for the backward: the op's inputs, its output, or constants (a mask).

        Save nothing else computed from an input: a recorded backward (create_graph) swaps
        each saved input and output for its tensor, and would take anything else as a constant.
        """
        self.saved = arrays

    def run(self, op, *arrays, **settings):
        """Another op's forward, on arrays (a VJP that is itself an op: Index's is Scatter)."""
        return op.forward(Context(self.backend), *arrays, **settings)


class Op:
    """A differentiable primitive: ``forward(ctx, *arrays, **settings)`` and ``backward(ctx, grad_y)``.

    ``backward`` returns one gradient per array input (a tuple when there are several);
    it may return None for an input whose ``ctx.needs_grad`` flag is False.
    """

    @staticmethod
    def forward(ctx, *args, **settings):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_y):
        raise NotImplementedError


class _Freed(Op):
    """Marks a tensor whose graph was freed by an earlier backward()."""


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the VJP of broadcasting.

    Broadcasting copies an input along new leading axes and along axes of length 1, so
    the gradient is the sum over those copies. ``grad`` is an array, or a Tensor in a
    recorded backward (create_graph), where the sums are minigan's own ops.
    """
    if tuple(grad.shape) == tuple(shape):
        return grad
    xp = _ops if isinstance(grad, Tensor) else backend_of(grad).xp
    extra = grad.ndim - len(shape)
    if extra:
        grad = xp.sum(grad, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = xp.sum(grad, axis=axes, keepdims=True)
    return grad


class Tensor:
    """A backend array that remembers how it was made, so gradients can flow back."""

    __slots__ = ("data", "backend", "requires_grad", "grad", "_op", "_ctx", "_parents")
    __array_priority__ = 1000  # numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data, backend: Backend, requires_grad: bool = False):
        self.data = backend.check(data)
        self.backend = backend
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._op = None
        self._ctx = None
        self._parents = ()
        if self.requires_grad and not backend.is_float(self.data):
            raise TypeError(f"requires_grad: got dtype {self.data.dtype}, wanted a floating dtype")

    # ---- what it is -----------------------------------------------------------------
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    xp = property(lambda self: self.backend.xp)
    is_leaf = property(lambda self: self._op is None)

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.numpy()!r}, backend={self.backend.name!r}{grad})"

    def numpy(self):
        """A NumPy copy of the data on the host."""
        return self.backend.to_host(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number (a device sync on a GPU)."""
        if self.size != 1:
            raise ValueError(f"item(): got a tensor of shape {self.shape}, wanted one element")
        return self.numpy().reshape(()).item()

    # ---- ops as methods and operators (each defined in minigan.ops) ------------------
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pow__(self, exponent): return _ops.pow(self, exponent)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __getitem__(self, index): return _ops.getitem(self, index)

    def sum(self, axis=None, keepdims=False): return _ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _ops.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return _ops.max(self, axis, keepdims)
    def reshape(self, *shape): return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, axes=None): return _ops.transpose(self, axes)
    T = property(lambda self: _ops.transpose(self))
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def tanh(self): return _ops.tanh(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def relu(self): return _ops.relu(self)
    def leaky_relu(self, slope=0.2): return _ops.leaky_relu(self, slope)
    def softplus(self): return _ops.softplus(self)
    def log_sigmoid(self): return _ops.log_sigmoid(self)

    # ---- autograd -------------------------------------------------------------------
    def detach(self) -> "Tensor":
        """The same data, cut from the graph: no gradient flows back through it."""
        return Tensor(self.data, self.backend)

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and not self.backend.is_float(self.data):
            raise TypeError(f"requires_grad: got dtype {self.data.dtype}, wanted a floating dtype")
        self.requires_grad = bool(flag)
        return self

    def to(self, backend) -> "Tensor":
        """A leaf copy of this tensor on another backend (through the host)."""
        backend = get_backend(backend)
        data = backend.asarray(self.numpy())
        return Tensor(data, backend, requires_grad=self.requires_grad)

    def backward(self, grad=None, retain_graph=None, inputs=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (minigan/backprop.py walks the graph).

        ``grad`` is dL/d(self): omitted for a one-element tensor (taken as 1), required
        otherwise. ``inputs``: only these leaves get a gradient (e.g. the parameters one
        optimizer moves); the work for the others is skipped. The graph is freed
        afterwards unless ``retain_graph=True``. ``create_graph=True`` records the pass
        itself, so each ``.grad`` is a Tensor that can be differentiated again (and the
        graph is kept unless ``retain_graph=False``).
        """
        _backprop.backward(self, grad, retain_graph=retain_graph, inputs=inputs, create_graph=create_graph)


def topological_order(root: Tensor) -> list:
    """Tensors that lead to ``root``, each listed after all of its parents.

    An iterative depth-first search in post-order: a node is appended once all its parents
    are. A stack of (node, parents_done) pairs replaces recursion, so a chain of 10,000 ops
    does not hit Python's recursion limit.
    """
    # BEGIN SOLUTION A1.8
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order
    # END SOLUTION


def apply(op, *inputs: Tensor, **settings) -> Tensor:
    """Run ``op.forward`` on the inputs' arrays and, when gradients are wanted, record the node."""
    requires_grad = False
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op.__name__}: got a {type(t).__name__} input, wanted a Tensor (make one with minigan.tensor)")
        if t.backend is not inputs[0].backend:
            raise ValueError(
                f"{op.__name__}: got tensors on backends {inputs[0].backend.name!r} and {t.backend.name!r}, "
                "wanted one backend; move one with .to(...)"
            )
        requires_grad = requires_grad or t.requires_grad
    backend = inputs[0].backend
    ctx = Context(backend)
    data = op.forward(ctx, *[t.data for t in inputs], **settings)
    out = Tensor(data, backend)
    if requires_grad and _GRAD_ENABLED:
        # an input that requires grad is a float, so is the output: no dtype check needed
        out.requires_grad = True
        out._op, out._ctx, out._parents = op, ctx, inputs
    return out


def tensor(data, requires_grad: bool = False, backend=None, dtype=None) -> Tensor:
    """Make a leaf tensor from a number, a (nested) list, a NumPy array or a backend array.

    backend   a name or Backend; by default the backend of ``data`` if it is a backend
              array, else numpy.
    dtype     a name ("float32", "float64", ...) or a dtype; by default floats become the
              backend's default float (float32), arrays keep their dtype.
    """
    if isinstance(data, Tensor):
        data = data.data
    check_data(data)
    if backend is None:
        try:
            backend = backend_of(data)
        except TypeError:
            backend = get_backend("numpy")
    else:
        backend = get_backend(backend)
    if isinstance(dtype, str):
        dtype = backend.dtype(dtype)
    if dtype is None and not hasattr(data, "dtype"):
        if isinstance(data, bool) or (isinstance(data, (list, tuple)) and _all_ints(data)) or isinstance(data, int):
            dtype = None
        else:
            dtype = backend.default_float
    if not isinstance(data, backend.array_type) and hasattr(data, "dtype") and type(data).__module__.split(".")[0] != "numpy":
        raise TypeError(
            f"data: got a {type(data).__module__}.{type(data).__name__} for backend {backend.name!r}, "
            "wanted a NumPy array or this backend's array; move it with backend.to_host first"
        )
    return Tensor(backend.asarray(data, dtype=dtype), backend, requires_grad=requires_grad)


def _all_ints(values) -> bool:
    if len(values) == 0:  # an empty list holds no ints: it becomes the default float
        return False
    for v in values:
        if isinstance(v, (list, tuple)):
            if not _all_ints(v):
                return False
        elif not isinstance(v, int) or isinstance(v, bool):
            return False
    return True


from minigan import backprop as _backprop  # noqa: E402  (both build on Tensor; imported last on purpose)
from minigan import ops as _ops  # noqa: E402
