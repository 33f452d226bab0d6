"""The table of functions ``python -m minigan.demo.selfcheck`` checks gradients of, on any backend.

Each case is a function of a few small tensors and how to draw them. The self-check draws
float64 inputs from a seeded generator (on the host, copied to the backend) and compares
every hand-derived VJP with finite differences there (minigan.gradcheck). It covers each
primitive op, each fused loss, and a Linear layer and a small MLP built from them: if these
pass on a GPU, every gradient training uses is right there too.

Input kinds keep finite differences away from points where a function is not smooth:
"any" uniform on [-2, 2]; "positive" on [0.5, 2] (log, division, square roots);
"kinkless" |x| in [0.2, 2] with a random sign (relu, leaky_relu, max stay off their kinks).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from minigan import losses, ops


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable        # tensors -> a Tensor
    shapes: tuple       # one shape per input
    kinds: tuple = ()   # one kind per input ("any" when left out)

    def kind(self, i: int) -> str:
        return self.kinds[i] if i < len(self.kinds) else "any"


CASES = [
    # arithmetic (binary ops broadcast: their backward must sum back)
    Case("add", lambda a, b: a + b, ((3, 4), (4,))),
    Case("sub", lambda a, b: a - b, ((3, 4), (3, 1))),
    Case("mul", lambda a, b: a * b, ((2, 3), (2, 3))),
    Case("div", lambda a, b: a / b, ((2, 3), (3,)), ("any", "positive")),
    Case("neg", lambda x: -x, ((3,),)),
    Case("pow", lambda x: x**3, ((2, 3),)),
    Case("sqrt", lambda x: x**0.5, ((4,),), ("positive",)),
    Case("matmul", lambda a, b: a @ b, ((3, 4), (4, 2))),
    # reductions and shapes
    Case("sum", lambda x: ops.sum(x, axis=0), ((3, 4),)),
    Case("mean", lambda x: ops.mean(x, axis=1, keepdims=True), ((3, 4),)),
    Case("max", lambda x: ops.max(x, axis=1), ((3, 4),), ("kinkless",)),
    Case("reshape", lambda x: ops.reshape(x, (4, 3)), ((2, 6),)),
    Case("transpose", lambda x: ops.transpose(x), ((2, 3),)),
    Case("concat", lambda a, b: ops.concat([a, b], axis=1), ((2, 3), (2, 1))),
    Case("slice", lambda x: x[1:, :2], ((3, 4),)),
    Case("take", lambda x: x[[0, 2, 2]], ((3, 2),)),
    # elementwise functions
    Case("exp", ops.exp, ((2, 3),)),
    Case("log", ops.log, ((2, 3),), ("positive",)),
    Case("tanh", ops.tanh, ((2, 3),)),
    Case("sigmoid", ops.sigmoid, ((2, 3),)),
    Case("relu", ops.relu, ((2, 3),), ("kinkless",)),
    Case("leaky_relu", lambda x: ops.leaky_relu(x, 0.2), ((2, 3),), ("kinkless",)),
    Case("softplus", ops.softplus, ((2, 3),)),
    Case("log_sigmoid", ops.log_sigmoid, ((2, 3),)),
    # the GAN losses, on logits
    Case("discriminator_loss", losses.discriminator_loss, ((5, 1), (4, 1))),
    Case("value_function", losses.value_function, ((5,), (4,))),
    Case("generator_loss_ns", lambda a: losses.generator_loss(a, "non_saturating"), ((5, 1),)),
    Case("generator_loss_minimax", lambda a: losses.generator_loss(a, "minimax"), ((5, 1),)),
    Case("bce_with_logits", lambda a: losses.bce_with_logits(a, 0.9), ((3, 2),)),
    # layers built from the ops: y = x @ W + b, and a two-layer generator-shaped MLP
    Case("linear", lambda x, w, b: x @ w + b, ((4, 3), (3, 2), (2,))),
    Case("mlp", lambda x, w1, w2: ops.tanh(ops.leaky_relu(x @ w1, 0.2) @ w2), ((4, 3), (3, 5), (5, 2))),
]


def draw(rng, shape, kind: str):
    """A float64 backend array of ``shape`` drawn from ``rng`` (a backend.random generator)."""
    if kind == "positive":
        return rng.uniform(shape, 0.5, 2.0, dtype=rng.backend.dtype("float64"))
    if kind == "kinkless":
        size = rng.uniform(shape, 0.2, 2.0, dtype=rng.backend.dtype("float64"))
        sign = 2.0 * rng.bernoulli(shape, 0.5, dtype=rng.backend.dtype("float64")) - 1.0
        return size * sign
    if kind == "any":
        return rng.uniform(shape, -2.0, 2.0, dtype=rng.backend.dtype("float64"))
    raise ValueError(f"kind: got {kind!r}, wanted 'any', 'positive' or 'kinkless'")
