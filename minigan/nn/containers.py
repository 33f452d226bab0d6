"""Sequential and MLP: a generator or a discriminator in one line.

    G = nn.MLP([2, 128, 128, 2], "relu")             # noise z (m, 2) -> sample (m, 2)
    D = nn.MLP([2, 128, 128, 1], "leaky_relu")       # sample (m, 2) -> logit (m, 1)

The discriminator ends without a sigmoid: it outputs the logit a(x), D(x) = sigmoid(a(x)),
and the losses work on logits (stable for any magnitude; see minigan/losses.py).
"""
from __future__ import annotations

import numbers

from minigan.nn.layers import Dropout, LeakyReLU, Linear, ReLU, Sigmoid, Tanh, check_size, generator
from minigan.backend import get_backend
from minigan.nn.module import Module

ACTIVATION_NAMES = ("relu", "leaky_relu", "tanh", "sigmoid")


def activation(spec, argument: str = "activation"):
    """A Module for ``spec``: a name ("relu", "leaky_relu" (slope 0.2), "tanh", "sigmoid"),
    a Module (used as it is) or None (no activation)."""
    if spec is None or isinstance(spec, Module):
        return spec
    if spec == "relu":
        return ReLU()
    if spec == "leaky_relu":
        return LeakyReLU(0.2)
    if spec == "tanh":
        return Tanh()
    if spec == "sigmoid":
        return Sigmoid()
    raise ValueError(f"{argument}: got {spec!r}, wanted one of {', '.join(ACTIVATION_NAMES)}, a Module or None")


class Sequential(Module):
    """y = f_n(... f_2(f_1(x))): the modules applied in order; their parameters are
    named ``layers.<i>.<name>``."""

    def __init__(self, *modules, backend=None):
        super().__init__(backend)
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"modules[{i}]: got {type(m).__name__}, wanted a Module")
        self.layers = list(modules)
        if self.layers and backend is None:
            self.backend = self.layers[0].backend

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of ``sizes`` with ``activation`` between them.

    sizes       [n_in, hidden..., n_out], e.g. [2, 128, 128, 1]
    activation  after every hidden Linear: "relu", "leaky_relu", "tanh", "sigmoid", a
                Module, or None
    output      after the last Linear: same choices; None (the default) leaves it linear,
                which is what a discriminator producing logits wants
    dropout     drop probability after every hidden activation (0 = no Dropout layers)
    rng         one generator draws every layer's weights in turn (and the dropout masks)

    Layer i of ``layers`` alternates Linear, activation[, Dropout], ..., Linear[, output].
    """

    def __init__(self, sizes, activation="relu", output=None, *, init="glorot", rng=None,
                 backend=None, dtype=None, dropout=0.0):
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            raise ValueError(f"sizes: got {sizes!r}, wanted a list of at least two layer widths")
        sizes = [check_size(f"sizes[{i}]", n) for i, n in enumerate(sizes)]
        if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) or not 0 <= dropout < 1:
            raise ValueError(f"dropout: got {dropout!r}, wanted a drop probability in [0, 1)")
        backend = get_backend(backend)
        rng = generator(backend, rng)
        hidden = _activation_on(activation, "activation", backend)
        last = _activation_on(output, "output", backend)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, init=init, rng=rng, backend=backend, dtype=dtype))
            is_last = i == len(sizes) - 2
            act = last if is_last else hidden
            if act is not None:
                layers.append(act)
            if not is_last and dropout > 0:
                layers.append(Dropout(dropout, rng, backend=backend))
        super().__init__(*layers, backend=backend)
        self.sizes = sizes
        drop = f", dropout={dropout}" if dropout else ""
        self.description = f"MLP({sizes}, activation={activation!r}, output={output!r}{drop})"

    def __repr__(self):
        return self.description


def _activation_on(spec, argument, backend):
    made = activation(spec, argument)
    return None if made is None else made.to(backend)  # activations hold no arrays: this only labels them
