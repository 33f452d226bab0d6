"""to_torch and from_torch: the same network as a minigan Module and as a torch.nn.Module.

    minigan                         PyTorch
    nn.Linear(n_in, n_out)          torch.nn.Linear(n_in, n_out)   weight transposed
    nn.ReLU()                       torch.nn.ReLU()
    nn.LeakyReLU(slope)             torch.nn.LeakyReLU(negative_slope=slope)
    nn.Tanh(), nn.Sigmoid()         torch.nn.Tanh(), torch.nn.Sigmoid()
    nn.Dropout(p)                   torch.nn.Dropout(p)            masks from each one's own generator
    nn.Sequential, nn.MLP           torch.nn.Sequential            layer i stays layer i

Every array is copied (neither side shares memory with the other), bit for bit: a round
trip minigan -> PyTorch -> minigan gives back exactly the same numbers. The training /
evaluation mode is carried too. Any other layer (a Maxout, a convolution, a module of your
own) raises ``UnsupportedLayer`` naming where it sits, e.g. ``module.layers[0]``.
"""
from __future__ import annotations

from minigan import nn
from minigan.backend import get_backend

SUPPORTED = "Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout and Sequential (so also MLP)"


class UnsupportedLayer(TypeError):
    """A layer that has no counterpart on the other side (its name says where it sits)."""


def require_torch():
    """The torch module, or ModuleNotFoundError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ModuleNotFoundError(
            'minigan.interop: got no PyTorch (import torch failed), wanted it installed: '
            'pip install -e ".[torch]" (the CPU build; see docs/next_steps.md)'
        ) from None
    return torch


# ---- minigan -> PyTorch ------------------------------------------------------------------------
def to_torch(module):
    """The torch.nn.Module computing what the minigan ``module`` computes, weights copied.

    A Sequential (an MLP too) becomes a ``torch.nn.Sequential`` of the converted layers, a
    Linear a ``torch.nn.Linear``, an activation its torch counterpart. The tensors keep the
    parameters' dtype (float32 stays float32) and live on the CPU: call ``.to("cuda")`` on
    the result to move it.
    """
    torch = require_torch()
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: got {type(module).__name__}, wanted a minigan nn.Module")
    return _to_torch(torch, module, "module")


def _to_torch(torch, module, where: str):
    # exact classes only: a subclass may compute something else in its forward
    if type(module) in (nn.Sequential, nn.MLP):
        layers = [_to_torch(torch, layer, f"{where}.layers[{i}]") for i, layer in enumerate(module.layers)]
        result = torch.nn.Sequential(*layers)
    elif type(module) is nn.Linear:
        result = _linear_to_torch(torch, module)
    elif type(module) is nn.ReLU:
        result = torch.nn.ReLU()
    elif type(module) is nn.LeakyReLU:
        result = torch.nn.LeakyReLU(negative_slope=module.slope)
    elif type(module) is nn.Tanh:
        result = torch.nn.Tanh()
    elif type(module) is nn.Sigmoid:
        result = torch.nn.Sigmoid()
    elif type(module) is nn.Dropout:
        result = torch.nn.Dropout(p=module.p)
    else:
        hint = " (PyTorch has no Maxout layer: write it as Linear, reshape and amax)" if isinstance(
            module, nn.Maxout) else ""
        raise UnsupportedLayer(
            f"{where}: got a {type(module).__name__}, which minigan.interop cannot map to PyTorch; "
            f"it maps {SUPPORTED}{hint}"
        )
    return result.train(module.training)


def _linear_to_torch(torch, layer):
    weight = layer.weight.numpy()                  # (n_in, n_out) on the host
    bias = layer.bias.numpy()                      # (n_out,)
    # skip_init: no random initial weights (they would be overwritten, and drawing them
    # would move PyTorch's global random generator, which is the user's, not ours)
    result = torch.nn.utils.skip_init(torch.nn.Linear, layer.n_in, layer.n_out,
                                      dtype=torch.from_numpy(weight).dtype)
    with torch.no_grad():
        result.weight.copy_(torch.from_numpy(weight.T.copy()))   # (n_out, n_in): torch's layout
        result.bias.copy_(torch.from_numpy(bias.copy()))
    return result


# ---- PyTorch -> minigan ------------------------------------------------------------------------
def from_torch(torch_module, backend=None, rng=None):
    """The minigan Module computing what ``torch_module`` computes, weights copied.

    A ``torch.nn.Sequential`` becomes an ``nn.Sequential`` (parameters ``layers.<i>.*``),
    a ``torch.nn.Linear`` an ``nn.Linear``, an activation its minigan counterpart. Only
    these exact classes are mapped: a subclass may compute something else in its forward.
    backend  where the arrays go ("numpy" by default, "cupy", ...)
    rng      the generator for Dropout masks (``backend.random(seed)``; seed 0 when None)
    """
    torch = require_torch()
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(f"torch_module: got {type(torch_module).__name__}, wanted a torch.nn.Module")
    return _from_torch(torch, torch_module, "torch_module", get_backend(backend), rng)


def _from_torch(torch, module, where: str, backend, rng):
    kind = type(module)
    if kind is torch.nn.Sequential:
        layers = [_from_torch(torch, layer, f"{where}[{i}]", backend, rng) for i, layer in enumerate(module)]
        result = nn.Sequential(*layers, backend=backend)
    elif kind is torch.nn.Linear:
        result = _linear_from_torch(torch, module, where, backend)
    elif kind is torch.nn.ReLU:
        result = nn.ReLU(backend=backend)
    elif kind is torch.nn.LeakyReLU:
        if not 0 <= module.negative_slope < 1:
            raise UnsupportedLayer(f"{where}: got LeakyReLU(negative_slope={module.negative_slope}), "
                                   "wanted a slope in [0, 1) (minigan's LeakyReLU)")
        result = nn.LeakyReLU(module.negative_slope, backend=backend)
    elif kind is torch.nn.Tanh:
        result = nn.Tanh(backend=backend)
    elif kind is torch.nn.Sigmoid:
        result = nn.Sigmoid(backend=backend)
    elif kind is torch.nn.Dropout:
        result = nn.Dropout(module.p, rng, backend=backend)
    else:
        raise UnsupportedLayer(
            f"{where}: got a torch.nn.{kind.__name__}, which minigan.interop cannot map to minigan; "
            f"it maps {SUPPORTED}"
        )
    return result.train(module.training)


def _linear_from_torch(torch, layer, where: str, backend):
    if layer.bias is None:
        raise UnsupportedLayer(f"{where}: got a Linear with bias=False, wanted one with a bias "
                               "(minigan's Linear always has one)")
    if layer.weight.dtype not in (torch.float16, torch.float32, torch.float64):
        raise UnsupportedLayer(f"{where}: got weights of dtype {layer.weight.dtype}, "
                               "wanted float16, float32 or float64 (NumPy has no other float)")
    weight = layer.weight.detach().cpu().numpy()   # (n_out, n_in)
    bias = layer.bias.detach().cpu().numpy()       # (n_out,)
    n_out, n_in = weight.shape
    result = nn.Linear(n_in, n_out, backend=backend, dtype=str(weight.dtype))
    result.load_state_dict({"weight": weight.T.copy(), "bias": bias})   # (n_in, n_out): minigan's layout
    return result
