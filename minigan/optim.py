"""Optimizers: how a gradient becomes a change in the parameters.

    opt = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad()             # forget last step's gradients (grad = None)
    loss.backward()             # fill p.grad for every parameter
    opt.step()                  # move each parameter against its gradient

- ``SGD``: gradient descent with (optionally Nesterov) momentum, what the 2014 GAN paper
  used (momentum 0.5 rising to 0.7, the learning rate decayed each step).
- ``Adam`` (Kingma and Ba, 2015): per-parameter step sizes from running averages of the
  gradient and its square; betas (0.5, 0.999) and lr 2e-4 is the DCGAN recipe.

The hyperparameters (``lr``, ``momentum``, ``betas``) are plain attributes: a schedule may
change them between steps and the next ``step()`` uses the new values. Updates are written
in place into each parameter's array (no new array per parameter for the parameter or
the optimizer's buffers; float32 stays float32). ``state_dict()`` is a flat dict of NumPy
arrays, so a checkpoint can store it in one ``.npz`` file and resume exactly.
"""
from __future__ import annotations

import math
import numbers

from minigan import threads
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_backend

_HOST = get_backend("numpy")  # state_dict values are NumPy arrays; this module never imports numpy


def _check_number(name: str, value, low: float, high: float, *, low_open=False, high_open=True) -> float:
    """float(value) if it lies in the interval, else a ValueError naming the argument."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name}: got {value!r}, wanted a number in {left}{low}, {high}{right}")
    return float(value)


class Optimizer:
    """What every optimizer shares: the parameter list, zero_grad and the state dict.

    A subclass names its hyperparameters (``hyperparameters()``: name -> float) and its
    per-parameter buffers (``buffers``: name -> list of arrays, one per parameter).
    """

    def __init__(self, params):
        params = list(params)
        if not params:
            raise ValueError("params: got an empty list, wanted the parameters to optimize")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"params[{i}]: got {type(p).__name__}, wanted a Tensor with requires_grad=True")
            if p.backend is not params[0].backend:
                raise ValueError(f"params[{i}]: got backend {p.backend.name!r}, wanted {params[0].backend.name!r}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("params: got the same parameter twice, wanted each once")
        self.params = params
        self.backend = params[0].backend
        self.step_count = 0  # how many step() calls so far
        self.buffers = {}

    def zeros_like_params(self) -> list:
        xp = self.backend.xp
        return [xp.zeros(p.data.shape, dtype=p.dtype) for p in self.params]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``)."""
        for p in self.params:
            p.grad = None

    def with_grads(self):
        """(parameter, index) for each parameter that has a gradient (others are skipped).

        A gradient left as a Tensor by ``backward(create_graph=True)`` is replaced by its
        array: a step uses the value, never the graph behind it.
        """
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if isinstance(p.grad, Tensor):
                p.grad = p.grad.data
            if p.backend is not self.backend:
                raise ValueError(
                    f"params[{i}]: moved to backend {p.backend.name!r} after the optimizer was made on "
                    f"{self.backend.name!r}; make the optimizer after moving the module"
                )
            yield p, i

    # ---- state ---------------------------------------------------------------------------
    def hyperparameters(self) -> dict:
        raise NotImplementedError

    def set_hyperparameters(self, values: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """A flat {name: NumPy array}: "step", each hyperparameter (0-d arrays) and each
        buffer entry as "<buffer>.<parameter index>"."""
        state = {"step": _HOST.asarray(self.step_count)}
        for name, value in self.hyperparameters().items():
            state[name] = _HOST.asarray(float(value))
        for name, arrays in self.buffers.items():
            for i, array in enumerate(arrays):
                state[f"{name}.{i}"] = self.backend.to_host(array).copy()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()``: every key present, shapes as the parameters'."""
        if not isinstance(state, dict):
            raise TypeError(f"state: got {type(state).__name__}, wanted a dict from state_dict()")
        wanted = ["step", *self.hyperparameters()]
        wanted += [f"{name}.{i}" for name in self.buffers for i in range(len(self.params))]
        missing = [k for k in wanted if k not in state]
        unexpected = [k for k in state if k not in wanted]
        if missing or unexpected:
            raise ValueError(
                f"state: missing keys {missing}, unexpected keys {unexpected} "
                f"(wanted the keys of {type(self).__name__}.state_dict() for {len(self.params)} parameters)"
            )
        for key in wanted:
            value = state[key]
            if not hasattr(value, "shape") or not hasattr(value, "copy"):
                raise TypeError(f"state[{key!r}]: got {type(value).__name__}, wanted an array")
            shape = () if "." not in key else self.params[int(key.rsplit(".", 1)[1])].shape
            if tuple(value.shape) != shape:
                raise ValueError(f"state[{key!r}]: got shape {tuple(value.shape)}, wanted {shape}")
        step = int(state["step"])
        if step < 0:
            raise ValueError(f"state['step']: got {step}, wanted a non-negative integer")
        previous = self.hyperparameters()
        try:
            self.set_hyperparameters({name: float(state[name]) for name in previous})
        except ValueError:
            self.set_hyperparameters(previous)  # leave the optimizer as it was
            raise
        self.step_count = step
        for name, arrays in self.buffers.items():
            for i, p in enumerate(self.params):
                arrays[i] = self.backend.asarray(state[f"{name}.{i}"].copy(), dtype=p.dtype)


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (Polyak's heavy ball, as in the paper's code):

        v <- momentum * v - lr * g
        p <- p + v                                   (nesterov=False)
        p <- p + momentum * v - lr * g               (nesterov=True: look ahead along v)

    The velocity v is in parameter units, so changing ``lr`` changes the size of new
    gradient steps only; momentum=0 is plain gradient descent p <- p - lr * g.
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False):
        super().__init__(params)
        self.lr, self.momentum, self.nesterov = lr, momentum, bool(nesterov)
        self.check()
        self.buffers = {"velocity": self.zeros_like_params()}

    def check(self):
        lr = _check_number("lr", self.lr, 0.0, math.inf, low_open=True)
        return lr, _check_number("momentum", self.momentum, 0.0, 1.0)

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum}

    def set_hyperparameters(self, values: dict) -> None:
        self.lr, self.momentum = values["lr"], values["momentum"]
        self.check()

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        lr, momentum = self.check()  # Python floats: float32 arrays stay float32
        threads.tick(self)  # an iteration starts: the clock of the BLAS thread policy, if one is acting
        self.step_count += 1
        velocities = self.buffers["velocity"]
        with no_grad():
            for p, i in self.with_grads():
                g, v = p.grad, velocities[i]
                # BEGIN SOLUTION A2.5
                v *= momentum        # v <- momentum * v - lr * g, in place
                v -= lr * g
                if self.nesterov:
                    p.data += momentum * v - lr * g
                else:
                    p.data += v
                # END SOLUTION


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015, Algorithm 1), at step t = 1, 2, ...:

        m <- beta1 * m + (1 - beta1) * g              running mean of g
        v <- beta2 * v + (1 - beta2) * g**2           running mean of g**2
        m_hat = m / (1 - beta1**t),  v_hat = v / (1 - beta2**t)   (both start at 0: unbias them)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    Defaults lr 2e-4, betas (0.5, 0.999): the DCGAN recipe (beta1 0.9 oscillated there).
    ``t`` counts calls to step(); a parameter without a gradient is skipped but t advances.
    """

    def __init__(self, params, lr=2e-4, betas=(0.5, 0.999), eps=1e-8):
        super().__init__(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.check()
        self.buffers = {"m": self.zeros_like_params(), "v": self.zeros_like_params()}

    def check(self):
        lr = _check_number("lr", self.lr, 0.0, math.inf, low_open=True)
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas: got {self.betas!r}, wanted a pair (beta1, beta2) in [0, 1)")
        beta1 = _check_number("betas[0]", self.betas[0], 0.0, 1.0)
        beta2 = _check_number("betas[1]", self.betas[1], 0.0, 1.0)
        return lr, beta1, beta2, _check_number("eps", self.eps, 0.0, math.inf, low_open=True)

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "beta1": self.betas[0], "beta2": self.betas[1], "eps": self.eps}

    def set_hyperparameters(self, values: dict) -> None:
        self.lr, self.betas, self.eps = values["lr"], (values["beta1"], values["beta2"]), values["eps"]
        self.check()

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        lr, beta1, beta2, eps = self.check()
        threads.tick(self)  # an iteration starts: the clock of the BLAS thread policy, if one is acting
        self.step_count += 1
        t = self.step_count
        step_size = lr / (1.0 - beta1**t)                    # lr * m_hat / m = lr / (1 - beta1^t)
        v_scale = 1.0 / math.sqrt(1.0 - beta2**t)            # sqrt(v_hat) = sqrt(v) * v_scale
        xp = self.backend.xp
        ms, vs = self.buffers["m"], self.buffers["v"]
        with no_grad():
            for p, i in self.with_grads():
                g, m, v = p.grad, ms[i], vs[i]
                # BEGIN SOLUTION A2.6
                m *= beta1                   # m <- beta1 m + (1 - beta1) g, in place
                m += (1.0 - beta1) * g
                v *= beta2                   # v <- beta2 v + (1 - beta2) g^2, in place
                v += (1.0 - beta2) * (g * g)
                denom = xp.sqrt(v)           # sqrt(v_hat) + eps = v_scale * (sqrt(v) + eps / v_scale):
                denom += eps / v_scale       # v_scale moves into the Python numbers, one pass less
                p.data -= (step_size / v_scale) * m / denom
                # END SOLUTION
