"""minigan.interop: carry a network and its optimizer across to PyTorch, and back.

    from minigan import interop
    G_torch = interop.to_torch(G)                        # torch.nn.Sequential, weights copied
    opt_torch = interop.to_torch_optimizer(opt_G, G_torch.parameters())  # Adam's m, v and step too
    G_back = interop.from_torch(G_torch)                 # a minigan nn.Sequential again

Nothing about the math changes on the way: the same layers compute the same functions with
the same numbers. Two things are spelled differently:

- **Weight layout.** minigan's ``Linear`` keeps ``weight`` as (n_in, n_out) and computes
  y = x @ W + b, rows being examples as in the math. ``torch.nn.Linear`` keeps ``weight`` as
  (n_out, n_in) and computes y = x @ W^T + b. Converting transposes every weight (and
  every per-weight optimizer buffer); biases are copied as they are.
- **Names.** minigan's ``layers.2.weight`` is PyTorch's ``2.weight``: the same position in
  the Sequential, without the attribute name.

- layers.py      to_torch, from_torch: Linear, the activations, Dropout, Conv2d, ConvTranspose2d,
                 BatchNorm1d/2d, Flatten, Unflatten, Sequential
- optimizers.py  to_torch_optimizer: Adam (step, moments) and SGD (momentum buffers)

PyTorch is imported inside the functions, when one is called: ``import minigan`` (and
``import minigan.interop``) never needs it. Install it with ``pip install -e ".[torch]"``;
docs/next_steps.md says how to get the CPU build elsewhere.
"""
from minigan.interop.layers import UnsupportedLayer, from_torch, require_torch, to_torch
from minigan.interop.optimizers import to_torch_optimizer

__all__ = ["UnsupportedLayer", "from_torch", "require_torch", "to_torch", "to_torch_optimizer"]
