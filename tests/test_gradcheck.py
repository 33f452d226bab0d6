"""gradcheck itself: it passes right gradients and catches planted wrong ones."""
import re

import numpy as np
import pytest
from strategies import BACKENDS

import minigan
from minigan import GradcheckError, gradcheck, ops
from minigan.autograd import Op, apply


class WrongSin(Op):
    """y = sin(x), with a planted bug: VJP grad_x = -grad_y * cos(x) (the right one has +)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved
        return -grad_y * ctx.xp.cos(x)


class WrongMul(Op):
    """y = a * b, with a planted bug in grad_b only: it returns grad_y * b instead of grad_y * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved
        return grad_y * b, grad_y * b


class NanGrad(Op):
    """y = 2x, with a backward that returns NaN (as a 0/0 in a VJP would)."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y * ctx.xp.nan


class LogSaysOne(Op):
    """y = log(x), with a backward that says grad_x = grad_y even where log is undefined."""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y


def leaf(values, backend, requires_grad=True, dtype="float64"):
    return minigan.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad, backend=backend, dtype=dtype)


def parse(message):
    """The numbers in 'NAME: gradient mismatch at index I: analytic A, numeric N (...)'."""
    found = re.search(r"^(.+): gradient mismatch at index (.+): analytic (\S+), numeric (\S+) \(", message)
    assert found, message
    name, index, analytic, numeric = found.groups()
    return name, index, float(analytic.rstrip(",")), float(numeric)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_correct_op_passes(backend):
    x = leaf([[0.3, -1.2, 2.0], [0.7, 1.1, -0.4]], backend)
    w = leaf([[0.5], [-1.5], [2.5]], backend)
    assert gradcheck(lambda x, w: ops.tanh(x @ w).sum(), [x, w]) is True
    assert gradcheck(lambda x, w: ops.tanh(x @ w), [x, w], directions=3) is True
    constant = leaf([1.0, 2.0], backend, requires_grad=False)  # skipped: no gradient asked for
    assert gradcheck(lambda a, b: a * b, [leaf([3.0, 4.0], backend), constant]) is True


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_wrong_backward_is_caught_at_its_worst_index(backend):
    # cos(pi/2) = 0, so the flipped sign only matters where x = 0.3, at index (1, 2)
    values = np.full((2, 3), np.pi / 2)
    values[1, 2] = 0.3
    x = leaf(values, backend)
    with pytest.raises(GradcheckError) as error:
        gradcheck(lambda x: apply(WrongSin, x), [x], names=["x"])
    name, index, analytic, numeric = parse(str(error.value))
    assert name == "x" and index == "(1, 2)"
    assert analytic != 0 and analytic == pytest.approx(-numeric, rel=1e-4)  # the flipped sign


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_error_names_the_wrong_input(backend):
    a, b = leaf([1.0, 2.0, 3.0], backend), leaf([-0.5, 0.25, 4.0], backend)
    with pytest.raises(GradcheckError, match=r"^inputs\[1\]: gradient mismatch"):
        gradcheck(lambda a, b: apply(WrongMul, a, b), [a, b])  # grad_a is right, grad_b wrong
    with pytest.raises(GradcheckError, match=r"^b: gradient mismatch"):
        gradcheck(lambda a, b: apply(WrongMul, a, b), [a, b], names=["a", "b"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_directions_catch_it_too(backend):
    x = leaf(np.linspace(-1.0, 1.0, 12).reshape(3, 4), backend)
    with pytest.raises(GradcheckError, match=r"^inputs\[0\]: gradient mismatch at index direction \d"):
        gradcheck(lambda x: apply(WrongSin, x), [x], directions=2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nan_gradient_is_caught(backend):
    with pytest.raises(GradcheckError, match="analytic nan"):
        gradcheck(lambda x: apply(NanGrad, x), [leaf([1.0, 2.0], backend)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nan_numeric_gradient_is_caught(backend):
    # at x = 0, log(0 - eps) is NaN, so the numeric gradient is NaN: a check that compares
    # a finite analytic value with NaN proves nothing and must not pass quietly
    x = leaf([1.0, 0.0], backend)
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(GradcheckError, match="numeric nan"):
        gradcheck(lambda x: apply(LogSaysOne, x), [x])


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_input_raises(backend):
    x = leaf([1.0, 2.0], backend, dtype="float32")
    with pytest.raises(TypeError, match=r"inputs\[0\]: got dtype .*float32.*, wanted float64"):
        gradcheck(ops.exp, [x])


def test_bad_arguments_raise():
    x = leaf([1.0], "numpy")
    with pytest.raises(TypeError, match="inputs"):
        gradcheck(ops.exp, [])
    with pytest.raises(TypeError, match="inputs"):
        gradcheck(ops.exp, [np.ones(1)])
    with pytest.raises(ValueError, match="eps"):
        gradcheck(ops.exp, [x], eps=0.0)
    with pytest.raises(ValueError, match="atol"):
        gradcheck(ops.exp, [x], atol=-1.0)
    with pytest.raises(ValueError, match="directions"):
        gradcheck(ops.exp, [x], directions=0)
