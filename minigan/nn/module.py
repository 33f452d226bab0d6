"""Module and Parameter: how a network keeps, names, saves and moves the numbers it learns.

A ``Parameter`` is a Tensor with ``requires_grad=True`` that a ``Module`` owns. A ``Buffer``
is a Tensor it keeps without learning it (BatchNorm's running statistics): saved and moved
with the parameters, never given to an optimizer. A Module finds both by looking at its
own attributes, in the order they were set:

- an attribute that is a Parameter is one of its parameters (``weight``, ``bias``), one
  that is a Buffer one of its buffers (``running_mean``);
- an attribute that is a Module is a child, whose parameters get the prefix ``name.``;
- an attribute that is a list or tuple of Modules gives children ``name.0``, ``name.1``, ...

So ``nn.MLP([2, 128, 1])`` has parameters ``layers.0.weight``, ``layers.0.bias``,
``layers.2.weight``, ``layers.2.bias`` (``layers.1`` is the activation, which learns nothing).
There is no registration step and no ``__setattr__`` magic: assigning the attribute is enough.
"""
from __future__ import annotations

from minigan.autograd import Tensor
from minigan.backend import Backend, backend_of, get_backend


class Parameter(Tensor):
    """A Tensor a Module learns: always ``requires_grad=True``.

    ``Parameter(data, backend=None)``: ``data`` is a backend array (kept as it is, not
    copied), a host NumPy array (copied onto ``backend``) or a Tensor (its data is used).
    """

    __slots__ = ()

    def __init__(self, data, backend: str | Backend | None = None):
        if isinstance(data, Tensor):
            backend = data.backend if backend is None else backend
            data = data.data
        backend = backend_of(data) if backend is None else get_backend(backend)
        super().__init__(backend.asarray(data), backend, requires_grad=True)

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype}, backend={self.backend.name!r})"


class Buffer(Tensor):
    """A Tensor a Module keeps but does not learn (``requires_grad=False``), such as BatchNorm's
    running mean: in ``state_dict()`` and checkpoints, moved by ``to()``, not in ``parameters()``.

    ``Buffer(data, backend=None)`` takes what ``Parameter`` takes. The module replaces its
    ``data`` with a new array to update it (never in place: a saved state stays as it was).
    """

    __slots__ = ()

    def __init__(self, data, backend: str | Backend | None = None):
        if isinstance(data, Tensor):
            backend = data.backend if backend is None else backend
            data = data.data
        backend = backend_of(data) if backend is None else get_backend(backend)
        super().__init__(backend.asarray(data), backend)

    def __repr__(self):
        return f"Buffer(shape={self.shape}, dtype={self.dtype}, backend={self.backend.name!r})"


class Module:
    """A piece of a network: ``forward`` says what it computes; the rest is bookkeeping.

    Subclasses call ``super().__init__(backend)`` first, then set their Parameters and
    child Modules as attributes, and define ``forward``. ``module(x)`` calls ``forward(x)``.
    """

    def __init__(self, backend: str | Backend | None = None):
        self.backend = get_backend(backend)
        self.training = True  # Dropout looks at this: train() / eval() switch it

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs):
        return self.forward(*inputs)

    # ---- what the module holds ----------------------------------------------------------
    def members(self):
        """(name, value) for each Parameter, Buffer and child Module, in attribute order."""
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Buffer, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Buffer, Module)):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> list:
        """[(dotted name, Parameter)], depth first in attribute order; a shared one listed once."""
        return self._named(Parameter, prefix)

    def named_buffers(self, prefix: str = "") -> list:
        """[(dotted name, Buffer)], in the same order as ``named_parameters()``."""
        return self._named(Buffer, prefix)

    def _named(self, kind, prefix: str) -> list:
        result, seen = [], set()
        for name, value in self.members():
            if isinstance(value, Module):
                pairs = value._named(kind, name + ".")
            else:
                pairs = [(name, value)] if isinstance(value, kind) else []
            for child_name, p in pairs:
                if id(p) not in seen:
                    seen.add(id(p))
                    result.append((prefix + child_name, p))
        return result

    def parameters(self) -> list:
        """Every Parameter, in the stable order of ``named_parameters()`` (optimizers rely on it)."""
        return [p for _, p in self.named_parameters()]

    def modules(self) -> list:
        """This module and every module below it, each once."""
        result, seen = [self], {id(self)}
        for _, value in self.members():
            if isinstance(value, Module):
                for m in value.modules():
                    if id(m) not in seen:
                        seen.add(id(m))
                        result.append(m)
        return result

    # ---- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (Dropout drops); ``train(False)`` is ``eval()``. Returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (Dropout is the identity). Returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``); backward() starts afresh."""
        for p in self.parameters():
            p.grad = None

    # ---- saving and loading -------------------------------------------------------------
    def state_dict(self) -> dict:
        """{dotted name: NumPy array on the host} for every parameter and buffer, in attribute
        order (PyTorch's order too): a copy that later training does not change."""
        return {name: p.numpy().copy() for name, p in self._named((Parameter, Buffer), "")}

    def load_state_dict(self, state: dict) -> None:
        """Copy the arrays of ``state`` (as from ``state_dict()``) into the parameters and buffers.

        Every name must be present with the parameter's shape; nothing is changed unless
        all of them are. Values are cast to each parameter's dtype and backend.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state: got {type(state).__name__}, wanted a dict name -> array from state_dict()")
        own = dict(self.named_parameters() + self.named_buffers())
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        if missing or unexpected:
            raise ValueError(
                f"state: missing parameters {missing}, unexpected keys {unexpected}; "
                f"wanted exactly {list(own)}"
            )
        for name, p in own.items():
            value = state[name]
            if not hasattr(value, "shape") or not hasattr(value, "copy"):
                raise TypeError(f"state[{name!r}]: got {type(value).__name__}, wanted an array")
            if tuple(value.shape) != p.shape:
                raise ValueError(f"state[{name!r}]: got shape {tuple(value.shape)}, wanted {p.shape}")
        for name, p in own.items():
            # copy: later in-place optimizer steps must not write into the caller's arrays
            p.data = p.backend.asarray(state[name].copy(), dtype=p.dtype)
            p.grad = None

    # ---- moving between backends --------------------------------------------------------
    def to(self, backend: str | Backend) -> "Module":
        """Move every parameter and buffer to ``backend`` (through the host), in place. Returns self.

        The Parameter objects stay the same (only their data moves), so build optimizers
        after moving: their state lives on the backend they were made on.
        """
        backend = get_backend(backend)
        for _, value in self.members():
            if isinstance(value, (Parameter, Buffer)) and value.backend is not backend:
                value.data = backend.asarray(value.numpy())  # keeps the dtype (float32 stays float32)
                value.backend = backend
                value.grad = None
            elif isinstance(value, Module):
                value.to(backend)
        self.backend = backend
        return self

    def __repr__(self):
        children = [
            f"  ({name}): " + repr(value).replace("\n", "\n  ")  # nested modules indented
            for name, value in self.members()
            if isinstance(value, Module)
        ]
        if not children:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"
