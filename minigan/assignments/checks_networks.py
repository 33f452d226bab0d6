"""Checks for A2 (networks, losses, optimizers), against references the grader computes in NumPy.

- Linear.forward: the output, and the gradients autograd finds through it;
- each loss's closed-form backward: against the formula in float64 (with unequal real and
  fake batch sizes, an upstream gradient other than 1 and large logits), against finite
  differences of the grader's own forward, on batches so large (350,000 logits) that a
  backward by finite differences one logit at a time cannot finish in time, and in float32
  against the suite's bound (missing it costs FLOAT32_SHARE of the points: the hint asks
  for the form without a subtraction from 1);
- SGD and Adam: several steps with known gradients, the parameters and the optimizer's
  buffers after each, with hyperparameters changed between steps as a schedule would.
"""
from __future__ import annotations

import numpy as np

from minigan import losses

from .checks import FLOAT32_SHARE, PartialCredit, as_numbers, expect, expect_close, float32_problem, get, on_backends
from .checks import backends as all_backends
from .checks_autograd import FLOAT32_GRID, judge_large, judge_vjp
from .probes import SEED


def _sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))


# ---- A2.1 ------------------------------------------------------------------------------------------
def check_linear(student) -> str:
    rng = np.random.default_rng(SEED)
    w, b = rng.normal(size=(3, 4)), np.array([0.5, -1.0, 0.25, 2.0])
    x = np.random.default_rng(SEED).normal(size=(5, 3))
    w32, b32, x32 = (a.astype(np.float32).astype(np.float64) for a in (w, b, x))
    for backend in all_backends():
        result = student.run("linear", backend=backend, weight=w, bias=b, x=x)
        expect(get(result, "is_tensor") is True, "Linear.forward returned something that is not a Tensor")
        expect(str(get(result, "dtype")).split(".")[-1] == "float32",
               f"Linear.forward returned dtype {get(result, 'dtype')!r:.40}, "
                                                  "wanted float32 (the layer's)")
        expect_close(f"Linear(3, 4) forward on x of shape (5, 3) on {backend}", get(result, "y"), x32 @ w32 + b32,
                     rtol=1e-5, atol=1e-5)
        expect(get(result, "requires_grad") is True,
               "Linear.forward's output does not require grad: build it from Tensor ops "
               "(x @ self.weight + self.bias) so autograd can reach the weights")
        expect(get(result, "weight_grad") is not None and get(result, "bias_grad") is not None,
               "after backward, weight.grad or bias.grad is None: the output must be computed from both")
        expect_close(f"Linear weight.grad on {backend}", get(result, "weight_grad"), x32.T @ np.ones((5, 4)),
                     rtol=1e-5, atol=1e-5)
        expect_close(f"Linear bias.grad on {backend}", get(result, "bias_grad"), np.full(4, 5.0), rtol=1e-5, atol=1e-5)
    return f"output and gradients right for a (5, 3) batch through Linear(3, 4) {on_backends(all_backends())}"


# ---- A2.2 to A2.4: the losses' closed-form gradients --------------------------------------------------
def _logits(rng, m, column):
    a = rng.normal(0.0, 3.0, size=m)
    a[:2] = [30.0, -30.0]  # confident logits: the gradient must stay finite and right
    return a.reshape(m, 1) if column else a


def _loss_cases():
    """(real logits, fake logits, upstream gradient) for several batch shapes."""
    rng = np.random.default_rng(SEED)
    return [(_logits(rng, 6, False), _logits(rng, 4, False), 1.0),
            (_logits(rng, 5, True), _logits(rng, 7, True), 2.5),
            (_logits(rng, 3, False), _logits(rng, 3, False), -0.5)]


def _check_closed_form(student, name: str, wanted_grads, n_inputs: int) -> str:
    """wanted_grads(g, *host arrays) -> the closed-form gradients of losses.<name>."""
    names = ("real_logits", "fake_logits") if n_inputs == 2 else ("fake_logits",)
    for backend in all_backends():
        for a_real, a_fake, g in _loss_cases():
            hosts = [a_real, a_fake] if n_inputs == 2 else [a_fake]
            result = student.run("vjp", module="losses", op=name, backend=backend, inputs=hosts, grad_y=np.asarray(g))
            shapes = " and ".join(str(h.shape) for h in hosts)
            for i, (wanted, arg) in enumerate(zip(wanted_grads(g, *hosts), names)):
                got = get(result, "grads", i)
                expect(got is not None, f"{name} backward gave no gradient for {arg}")
                expect_close(f"{name} backward, d loss / d {arg} (logits of shape {shapes}, "
                             f"upstream gradient {g}) on {backend}", as_numbers(arg, got), wanted,
                             rtol=1e-6, atol=1e-12)
        # finite differences of the grader's forward, one more time, on moderate logits
        rng = np.random.default_rng(SEED + 1)
        hosts = [rng.normal(size=5), rng.normal(size=3)][:n_inputs] if n_inputs == 2 else [rng.normal(size=4)]
        judge_vjp(student, f"{name} backward", losses, name, hosts, backend, v=np.asarray(1.0))
    rng = np.random.default_rng(SEED + 2)
    hosts = [rng.normal(0.0, 4.0, size=LARGE_BATCHES[0]), rng.normal(0.0, 4.0, size=LARGE_BATCHES[1])][:n_inputs]
    if n_inputs == 1:
        hosts = [rng.normal(0.0, 4.0, size=sum(LARGE_BATCHES))]
    judge_large(student, f"{name} backward on batches of {' and '.join(str(h.size) for h in hosts)} logits",
                losses, name, hosts, np.asarray(1.7), list(wanted_grads(1.7, *hosts)))
    grid = [FLOAT32_GRID] * n_inputs   # the suite's float32 test: every logit in [-88, 88]
    for backend in all_backends():
        result = student.run("vjp", module="losses", op=name, backend=backend, inputs=grid, grad_y=np.asarray(1.0),
                             dtype="float32")
        for i, (wanted, arg) in enumerate(zip(wanted_grads(1.0, *grid), names)):
            problem = float32_problem(f"{name} backward, d loss / d {arg} in float32 on {backend}",
                                      get(result, "grads", i), wanted)
            if problem:
                raise PartialCredit(f"right in float64, but not float32-exact: {problem}; as the hint asks, can "
                                    "it be written with one _sigmoid call and no subtraction from 1? "
                                    "(tests/test_losses.py checks the same bound)", FLOAT32_SHARE)
    return (f"{name} backward matches the closed form and finite differences, on batches of "
            f"{sum(LARGE_BATCHES)} logits, and float32-exact {on_backends(all_backends())}")


LARGE_BATCHES = (200_000, 150_000)   # real and fake logits: a forward per logit would take an hour


def check_discriminator_loss(student) -> str:
    return _check_closed_form(
        student, "DiscriminatorLoss",
        lambda g, a_r, a_f: (-g * _sigmoid(-a_r) / a_r.size, g * _sigmoid(a_f) / a_f.size), 2)   # sigmoid(a) - 1


def check_minimax_loss(student) -> str:
    return _check_closed_form(
        student, "MinimaxGeneratorLoss", lambda g, a_f: (-g * _sigmoid(a_f) / a_f.size,), 1)


def check_non_saturating_loss(student) -> str:
    return _check_closed_form(
        student, "NonSaturatingGeneratorLoss", lambda g, a_f: (-g * _sigmoid(-a_f) / a_f.size,), 1)   # sigmoid(a) - 1, exact in float64 too


# ---- A2.5 and A2.6: optimizers ------------------------------------------------------------------------
def _starts_and_gradients(steps):
    rng = np.random.default_rng(SEED)
    starts = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    rng = np.random.default_rng(SEED + 2)
    return starts, [[rng.normal(size=(3, 2)), rng.normal(size=(2,))] for _ in range(steps)]


def _compare_run(name, steps, reference, buffer_names, backend):
    expect(isinstance(steps, list) and len(steps) == len(reference),
           f"{name}: the student's process reported {len(steps) if isinstance(steps, list) else 'no'} steps, "
           f"wanted {len(reference)}")
    for t, (step, (wanted_params, wanted_buffers)) in enumerate(zip(steps, reference), start=1):
        for i, w in enumerate(wanted_params):
            expect_close(f"{name}: params[{i}] after step {t} on {backend}", get(step, "params", i), w,
                         rtol=1e-4, atol=1e-6)
        for buffer in buffer_names:
            for i, w in enumerate(wanted_buffers[buffer]):
                expect_close(f"{name}: the {buffer!r} buffer of params[{i}] after step {t} on {backend} "
                             f"(update it in place)", get(step, "buffers", buffer, i), w, rtol=1e-4, atol=1e-6)


def check_sgd(student) -> str:
    steps = 4
    starts, grads = _starts_and_gradients(steps)
    schedule = [{}, {}, {"lr": 0.05}, {"momentum": 0.7}]  # a schedule changes them between steps
    for nesterov in (False, True):
        params, velocity = [p.copy() for p in starts], [np.zeros((3, 2)), np.zeros(2)]
        lr, momentum = 0.1, 0.5
        reference = []
        for changes, g in zip(schedule, grads):
            lr, momentum = changes.get("lr", lr), changes.get("momentum", momentum)
            for i in range(2):
                velocity[i] = momentum * velocity[i] - lr * g[i]
                params[i] = params[i] + (momentum * velocity[i] - lr * g[i] if nesterov else velocity[i])
            reference.append(([p.copy() for p in params], {"velocity": [v.copy() for v in velocity]}))
        for backend in all_backends():
            run = student.run("optimizer", backend=backend, kind="SGD",
                              settings={"lr": 0.1, "momentum": 0.5, "nesterov": nesterov}, starts=starts,
                              schedule=schedule, gradients=grads, buffers=["velocity"])
            _compare_run(f"SGD(lr=0.1, momentum=0.5, nesterov={nesterov})", run, reference, ["velocity"], backend)
    return (f"parameters and velocities right over {steps} steps, with and without Nesterov, lr and momentum "
            f"changed mid-run {on_backends(all_backends())}")


def check_adam(student) -> str:
    steps = 5
    starts, grads = _starts_and_gradients(steps)
    schedule = [{}, {}, {"lr": 0.005}, {}, {"betas": (0.9, 0.99)}]
    params = [p.copy() for p in starts]
    m, v = [np.zeros((3, 2)), np.zeros(2)], [np.zeros((3, 2)), np.zeros(2)]
    lr, (beta1, beta2), eps = 0.01, (0.5, 0.999), 1e-8
    reference = []
    for t, (changes, g) in enumerate(zip(schedule, grads), start=1):
        lr, (beta1, beta2) = changes.get("lr", lr), changes.get("betas", (beta1, beta2))
        for i in range(2):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] ** 2
            m_hat, v_hat = m[i] / (1 - beta1**t), v[i] / (1 - beta2**t)
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        reference.append(([p.copy() for p in params], {"m": [a.copy() for a in m], "v": [a.copy() for a in v]}))
    for backend in all_backends():
        run = student.run("optimizer", backend=backend, kind="Adam",
                          settings={"lr": 0.01, "betas": [0.5, 0.999], "eps": 1e-8}, starts=starts,
                          schedule=schedule, gradients=grads, buffers=["m", "v"])
        _compare_run("Adam(lr=0.01, betas=(0.5, 0.999))", run, reference, ["m", "v"], backend)
    return (f"parameters and both moment buffers right over {steps} steps, lr and betas changed mid-run "
            f"{on_backends(all_backends())}")
