"""Checks for A2 (networks, losses, optimizers), against references written here in NumPy.

- Linear.forward: the output, and the gradients autograd finds through it;
- each loss's closed-form backward: against the formula in float64 (with unequal real and
  fake batch sizes, an upstream gradient other than 1 and large logits), and against
  finite differences;
- SGD and Adam: several steps with known gradients, the parameters and the optimizer's
  buffers after each, with hyperparameters changed between steps as a schedule would.
"""
from __future__ import annotations

import numpy as np

from .checks import CheckFailed, expect, expect_close, on_backends
from .checks import backends as all_backends

SEED = 20140610


def _sigmoid(a):
    return 0.5 * (np.tanh(0.5 * a) + 1.0)


# ---- A2.1 ------------------------------------------------------------------------------------------
def check_linear() -> str:
    import minigan
    from minigan import nn

    for backend in all_backends():
        be = minigan.get_backend(backend)
        layer = nn.Linear(3, 4, rng=be.random(SEED), backend=be)
        layer.bias.data = be.asarray(np.array([0.5, -1.0, 0.25, 2.0]), dtype=layer.weight.dtype)
        w, b = layer.weight.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)
        x_host = np.random.default_rng(SEED).normal(size=(5, 3))
        x = minigan.tensor(x_host, backend=be, dtype="float32")  # the layer's dtype
        y = layer(x)
        expect(isinstance(y, minigan.Tensor), f"Linear.forward returned {type(y).__name__}, wanted a Tensor")
        expect(y.dtype == layer.weight.dtype, f"Linear.forward returned dtype {y.dtype}, wanted {layer.weight.dtype}")
        expect_close(f"Linear(3, 4) forward on x of shape (5, 3) on {backend}", y,
                     x_host.astype(np.float32) @ w + b, rtol=1e-5, atol=1e-5)
        expect(y.requires_grad, "Linear.forward's output does not require grad: build it from Tensor ops "
                                "(x @ self.weight + self.bias) so autograd can reach the weights")
        y.backward(minigan.tensor(np.ones((5, 4)), backend=be, dtype="float32"))
        expect(layer.weight.grad is not None and layer.bias.grad is not None,
               "after backward, weight.grad or bias.grad is None: the output must be computed from both")
        expect_close(f"Linear weight.grad on {backend}", layer.weight.grad,
                     x_host.astype(np.float32).T @ np.ones((5, 4)), rtol=1e-5, atol=1e-5)
        expect_close(f"Linear bias.grad on {backend}", layer.bias.grad, np.full(4, 5.0), rtol=1e-5, atol=1e-5)
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


def _check_closed_form(name: str, loss_fn, wanted_grads, n_inputs: int) -> str:
    """loss_fn(*tensors) -> scalar loss; wanted_grads(g, *host arrays) -> the closed-form gradients."""
    import minigan

    for backend in all_backends():
        for case, (a_real, a_fake, g) in enumerate(_loss_cases()):
            hosts = (a_real, a_fake)[:n_inputs] if n_inputs == 2 else (a_fake,)
            names = ("real_logits", "fake_logits") if n_inputs == 2 else ("fake_logits",)
            inputs = [minigan.tensor(h, requires_grad=True, backend=backend, dtype="float64") for h in hosts]
            loss = loss_fn(*inputs)
            loss.backward(minigan.tensor(np.asarray(g), backend=backend, dtype="float64"))
            for tensor, wanted, arg in zip(inputs, wanted_grads(g, *hosts), names):
                shapes = " and ".join(str(h.shape) for h in hosts)
                expect(tensor.grad is not None, f"{name} backward gave no gradient for {arg}")
                expect_close(f"{name} backward, d loss / d {arg} (logits of shape {shapes}, "
                             f"upstream gradient {g}) on {backend}", tensor.grad, wanted, rtol=1e-6, atol=1e-12)
        # finite differences, one more time, on moderate logits
        rng = np.random.default_rng(SEED + 1)
        hosts = [rng.normal(size=5), rng.normal(size=3)][:n_inputs] if n_inputs == 2 else [rng.normal(size=4)]
        inputs = [minigan.tensor(h, requires_grad=True, backend=backend, dtype="float64") for h in hosts]
        try:
            minigan.gradcheck(loss_fn, inputs, names=list(names))
        except minigan.GradcheckError as error:
            raise CheckFailed(f"{name} backward on {backend}: {error}") from None
    return f"{name} backward matches the closed form and finite differences {on_backends(all_backends())}"


def check_discriminator_loss() -> str:
    from minigan import losses

    return _check_closed_form(
        "DiscriminatorLoss", losses.discriminator_loss,
        lambda g, a_r, a_f: (g * (_sigmoid(a_r) - 1.0) / a_r.size, g * _sigmoid(a_f) / a_f.size), 2)


def check_minimax_loss() -> str:
    from minigan import losses

    return _check_closed_form(
        "MinimaxGeneratorLoss", lambda a_f: losses.generator_loss(a_f, form="minimax"),
        lambda g, a_f: (-g * _sigmoid(a_f) / a_f.size,), 1)


def check_non_saturating_loss() -> str:
    from minigan import losses

    return _check_closed_form(
        "NonSaturatingGeneratorLoss", lambda a_f: losses.generator_loss(a_f, form="non_saturating"),
        lambda g, a_f: (g * (_sigmoid(a_f) - 1.0) / a_f.size,), 1)


# ---- A2.5 and A2.6: optimizers ------------------------------------------------------------------------
def _run_optimizer(make, backend, schedule, gradients, buffer_names):
    """Run an optimizer from minigan.optim; yield (step, [params], {buffer: [arrays]}) after each step."""
    import minigan

    be = minigan.get_backend(backend)
    rng = np.random.default_rng(SEED)
    starts = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    params = [minigan.tensor(p, requires_grad=True, backend=be) for p in starts]
    opt = make(params)
    for t, (changes, grads) in enumerate(zip(schedule, gradients), start=1):
        for name, value in changes.items():
            setattr(opt, name, value)
        for p, g in zip(params, grads):
            p.grad = be.asarray(g, dtype=p.dtype)
        opt.step()
        buffers = {name: [a for a in opt.buffers[name]] for name in buffer_names}
        yield t, params, buffers


def _gradients(steps):
    rng = np.random.default_rng(SEED + 2)
    return [[rng.normal(size=(3, 2)), rng.normal(size=(2,))] for _ in range(steps)]


def _compare_run(name, run, reference, buffer_names, backend):
    for t, params, buffers in run:
        wanted_params, wanted_buffers = reference[t - 1]
        for i, (p, w) in enumerate(zip(params, wanted_params)):
            expect_close(f"{name}: params[{i}] after step {t} on {backend}", p, w, rtol=1e-4, atol=1e-6)
        for buffer in buffer_names:
            for i, (b, w) in enumerate(zip(buffers[buffer], wanted_buffers[buffer])):
                expect_close(f"{name}: the {buffer!r} buffer of params[{i}] after step {t} on {backend} "
                             f"(update it in place)", b, w, rtol=1e-4, atol=1e-6)


def check_sgd() -> str:
    from minigan import optim

    steps = 4
    grads = _gradients(steps)
    schedule = [{}, {}, {"lr": 0.05}, {"momentum": 0.7}]  # a schedule changes them between steps
    for nesterov in (False, True):
        for backend in all_backends():
            run = _run_optimizer(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5, nesterov=nesterov), backend,
                                 schedule, grads, ["velocity"])
            rng = np.random.default_rng(SEED)
            params = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
            velocity = [np.zeros((3, 2)), np.zeros(2)]
            lr, momentum = 0.1, 0.5
            reference = []
            for changes, g in zip(schedule, grads):
                lr, momentum = changes.get("lr", lr), changes.get("momentum", momentum)
                for i in range(2):
                    velocity[i] = momentum * velocity[i] - lr * g[i]
                    params[i] = params[i] + (momentum * velocity[i] - lr * g[i] if nesterov else velocity[i])
                reference.append(([p.copy() for p in params], {"velocity": [v.copy() for v in velocity]}))
            _compare_run(f"SGD(lr=0.1, momentum=0.5, nesterov={nesterov})", run, reference, ["velocity"], backend)
    return (f"parameters and velocities right over {steps} steps, with and without Nesterov, lr and momentum "
            f"changed mid-run {on_backends(all_backends())}")


def check_adam() -> str:
    from minigan import optim

    steps = 5
    grads = _gradients(steps)
    schedule = [{}, {}, {"lr": 0.005}, {}, {"betas": (0.9, 0.99)}]
    for backend in all_backends():
        run = _run_optimizer(lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.999), eps=1e-8), backend,
                             schedule, grads, ["m", "v"])
        rng = np.random.default_rng(SEED)
        params = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
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
        _compare_run("Adam(lr=0.01, betas=(0.5, 0.999))", run, reference, ["m", "v"], backend)
    return (f"parameters and both moment buffers right over {steps} steps, lr and betas changed mid-run "
            f"{on_backends(all_backends())}")
