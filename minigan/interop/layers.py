"""to_torch and from_torch: the same network as a minigan Module and as a torch.nn.Module.

    minigan                         PyTorch
    nn.Linear(n_in, n_out)          torch.nn.Linear(n_in, n_out)   weight transposed
    nn.ReLU()                       torch.nn.ReLU()
    nn.LeakyReLU(slope)             torch.nn.LeakyReLU(negative_slope=slope)
    nn.Tanh(), nn.Sigmoid()         torch.nn.Tanh(), torch.nn.Sigmoid()
    nn.Dropout(p)                   torch.nn.Dropout(p)            masks from each one's own generator
    nn.Conv2d, nn.ConvTranspose2d   torch.nn.Conv2d, ConvTranspose2d  the same weight layout
    nn.BatchNorm1d, nn.BatchNorm2d  torch.nn.BatchNorm1d, 2d       running statistics copied too
    nn.Flatten(), nn.Unflatten(s)   torch.nn.Flatten(), Unflatten(1, s)
    nn.Sequential, nn.MLP           torch.nn.Sequential            layer i stays layer i

Every array is copied (neither side shares memory with the other), bit for bit: a round
trip minigan -> PyTorch -> minigan gives back exactly the same numbers. The training /
evaluation mode is carried too. Any other layer (a Maxout, a module of your own, a
convolution with dilation or groups) raises ``UnsupportedLayer`` naming where it sits,
e.g. ``module.layers[0]``.
"""
from __future__ import annotations

from minigan import nn
from minigan.backend import get_backend

SUPPORTED = ("Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, Conv2d, ConvTranspose2d, BatchNorm1d/2d, "
             "Flatten, Unflatten and Sequential (so also MLP)")


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
    elif type(module) in (nn.Conv2d, nn.ConvTranspose2d):
        result = _conv_to_torch(torch, module)
    elif type(module) in (nn.BatchNorm1d, nn.BatchNorm2d):
        result = _batchnorm_to_torch(torch, module)
    elif type(module) is nn.Flatten:
        result = torch.nn.Flatten()
    elif type(module) is nn.Unflatten:
        result = torch.nn.Unflatten(1, module.shape)
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


def _copy_into(torch, target, source) -> None:
    """Copy a host array into a torch tensor, bit for bit (no gradient recorded)."""
    with torch.no_grad():
        target.copy_(torch.from_numpy(source.copy()))


def _conv_to_torch(torch, layer):
    kind = torch.nn.Conv2d if type(layer) is nn.Conv2d else torch.nn.ConvTranspose2d
    settings = {"stride": layer.stride, "padding": layer.padding, "bias": layer.bias is not None}
    if kind is torch.nn.ConvTranspose2d:
        settings["output_padding"] = layer.output_padding
    weight = layer.weight.numpy()                  # the same layout on both sides
    result = torch.nn.utils.skip_init(kind, layer.c_in, layer.c_out, layer.kernel_size,
                                      dtype=torch.from_numpy(weight).dtype, **settings)
    _copy_into(torch, result.weight, weight)
    if layer.bias is not None:
        _copy_into(torch, result.bias, layer.bias.numpy())
    return result


def _batchnorm_to_torch(torch, layer):
    kind = torch.nn.BatchNorm2d if type(layer) is nn.BatchNorm2d else torch.nn.BatchNorm1d
    weight = layer.weight.numpy()
    result = kind(layer.num_features, eps=layer.eps, momentum=layer.momentum, dtype=torch.from_numpy(weight).dtype)
    for name in ("weight", "bias", "running_mean", "running_var"):
        _copy_into(torch, getattr(result, name), getattr(layer, name).numpy())
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
    elif kind in (torch.nn.Conv2d, torch.nn.ConvTranspose2d):
        result = _conv_from_torch(torch, module, where, backend)
    elif kind in (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d):
        result = _batchnorm_from_torch(torch, module, where, backend)
    elif kind is torch.nn.Flatten and (module.start_dim, module.end_dim) == (1, -1):
        result = nn.Flatten(backend=backend)
    elif kind is torch.nn.Unflatten and module.dim == 1:
        result = nn.Unflatten(tuple(module.unflattened_size), backend=backend)
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


def _float_dtype(torch, tensor, where: str) -> str:
    if tensor.dtype not in (torch.float16, torch.float32, torch.float64):
        raise UnsupportedLayer(f"{where}: got weights of dtype {tensor.dtype}, "
                               "wanted float16, float32 or float64 (NumPy has no other float)")
    return str(tensor.dtype).removeprefix("torch.")


def _conv_from_torch(torch, layer, where: str, backend):
    name = type(layer).__name__
    if isinstance(layer.padding, str) or layer.dilation != (1, 1) or layer.groups != 1 or layer.padding_mode != "zeros":
        raise UnsupportedLayer(f"{where}: got a {name} with padding={layer.padding!r}, dilation={layer.dilation}, "
                               f"groups={layer.groups}, padding_mode={layer.padding_mode!r}; wanted numeric padding, "
                               "dilation 1, groups 1 and zero padding (what minigan's convolutions do)")
    dtype = _float_dtype(torch, layer.weight, where)
    c_in, c_out = layer.in_channels, layer.out_channels
    settings = {"stride": layer.stride, "padding": layer.padding, "bias": layer.bias is not None}
    transposed = type(layer) is torch.nn.ConvTranspose2d
    if transposed:
        settings["output_padding"] = layer.output_padding
    made = (nn.ConvTranspose2d if transposed else nn.Conv2d)(
        c_in, c_out, layer.kernel_size, backend=backend, dtype=dtype, **settings)
    state = {"weight": layer.weight.detach().cpu().numpy()}
    if layer.bias is not None:
        state["bias"] = layer.bias.detach().cpu().numpy()
    made.load_state_dict(state)
    return made


def _batchnorm_from_torch(torch, layer, where: str, backend):
    name = type(layer).__name__
    if not layer.affine or not layer.track_running_stats or layer.momentum is None:
        raise UnsupportedLayer(f"{where}: got a {name} with affine={layer.affine}, track_running_stats="
                               f"{layer.track_running_stats}, momentum={layer.momentum}; wanted affine, tracked "
                               "running statistics and a number for momentum (minigan's BatchNorm)")
    dtype = _float_dtype(torch, layer.weight, where)
    made = (nn.BatchNorm2d if type(layer) is torch.nn.BatchNorm2d else nn.BatchNorm1d)(
        layer.num_features, eps=layer.eps, momentum=layer.momentum, backend=backend, dtype=dtype)
    made.load_state_dict({name: getattr(layer, name).detach().cpu().numpy()
                          for name in ("weight", "bias", "running_mean", "running_var")})
    return made
