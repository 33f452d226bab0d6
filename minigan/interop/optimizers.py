"""to_torch_optimizer: continue a minigan run in PyTorch with the optimizer's memory intact.

An optimizer is more than its learning rate: Adam keeps two running means per parameter
and the step count t that unbiases them, SGD with momentum keeps a velocity. A run
continued with a fresh optimizer would take different steps (Adam's first steps are about
lr in size whatever the gradient), so the state is carried over:

    minigan                                   torch.optim
    Adam: step_count t                        state[p]["step"] = t
          m (running mean of g)               state[p]["exp_avg"]      (transposed for weights)
          v (running mean of g**2)            state[p]["exp_avg_sq"]   (transposed for weights)
    SGD:  velocity v, in parameter units:     state[p]["momentum_buffer"] = b, in gradient units:
            v <- momentum v - lr g;  p += v     b <- momentum b + g;  p -= lr b
          so b = -v / lr                      (the same steps while lr stays what it is now)

Both Adams update p <- p - lr m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1^t)
and v_hat = v / (1 - beta2^t), eps added after the square root: the same rule, so the
same numbers up to rounding (tests/test_interop.py checks 5 + 5 steps against 10).
Two differences to know: minigan counts t once per step() for all parameters, PyTorch per
parameter (a parameter without a gradient in some step falls behind there); and PyTorch's
momentum buffer is in gradient units, so a later change of lr rescales past momentum in
PyTorch but not in minigan.
"""
from __future__ import annotations

from minigan import optim
from minigan.interop.layers import require_torch


def to_torch_optimizer(opt, torch_params):
    """A torch.optim.Adam or SGD over ``torch_params`` with ``opt``'s hyperparameters and state.

    opt           a minigan optim.Adam or optim.SGD
    torch_params  the converted parameters in the order of ``opt.params``, e.g.
                  ``to_torch(G).parameters()`` for ``optim.Adam(G.parameters())``; each
                  shaped like its minigan parameter (a 2-D weight transposed)
    """
    torch = require_torch()
    if not isinstance(opt, (optim.Adam, optim.SGD)):
        raise TypeError(f"opt: got {type(opt).__name__}, wanted a minigan optim.Adam or optim.SGD")
    params = list(torch_params)
    if len(params) != len(opt.params):
        raise ValueError(f"torch_params: got {len(params)} parameters, wanted {len(opt.params)} "
                         "(one for each of opt.params, in the same order)")
    for i, (p, ours) in enumerate(zip(params, opt.params)):
        if not isinstance(p, torch.Tensor) or not p.requires_grad:
            raise TypeError(f"torch_params[{i}]: got {type(p).__name__}, wanted a torch tensor with requires_grad=True")
        if tuple(p.shape) != torch_shape(ours.shape):
            raise ValueError(f"torch_params[{i}]: got shape {tuple(p.shape)}, wanted {torch_shape(ours.shape)} "
                             f"(opt.params[{i}] has shape {ours.shape}; weights are transposed)")

    def carried(array, p):  # a minigan buffer as a torch tensor in p's layout, dtype and device
        host = opt.backend.to_host(array)
        host = host.T.copy() if host.ndim == 2 else host.copy()
        return torch.from_numpy(host).to(dtype=p.dtype, device=p.device)

    t = opt.step_count
    if isinstance(opt, optim.Adam):
        result = torch.optim.Adam(params, lr=opt.lr, betas=tuple(opt.betas), eps=opt.eps)
        if t > 0:
            for i, p in enumerate(params):
                result.state[p] = {
                    "step": torch.tensor(float(t)),   # PyTorch keeps t as a float tensor
                    "exp_avg": carried(opt.buffers["m"][i], p),
                    "exp_avg_sq": carried(opt.buffers["v"][i], p),
                }
        return result
    # Nesterov needs a momentum in PyTorch; with momentum 0 both are plain gradient descent
    nesterov = opt.nesterov and opt.momentum > 0
    result = torch.optim.SGD(params, lr=opt.lr, momentum=opt.momentum, nesterov=nesterov)
    if t > 0 and opt.momentum > 0:
        for i, p in enumerate(params):
            result.state[p] = {"momentum_buffer": carried(-opt.buffers["velocity"][i] / opt.lr, p)}
    return result


def torch_shape(shape) -> tuple:
    """The shape PyTorch gives a minigan parameter: a 2-D weight (n_in, n_out) is (n_out, n_in)."""
    return tuple(shape)[::-1] if len(shape) == 2 else tuple(shape)
