"""minigan: an educational GAN framework from scratch, on NumPy and (through CuPy) the GPU.

Importing minigan imports NumPy only: CuPy is imported when the cupy backend is asked for,
matplotlib when a figure is drawn.
"""
from minigan.autograd import Tensor, is_grad_enabled, no_grad, tensor
from minigan.backprop import grad
from minigan.backend import Backend, BackendUnavailable, get_backend, gpu_available
from minigan.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigan import data, losses, metrics, nn, optim  # noqa: E402  (the building blocks, after the engine)

__version__ = "0.1.0"

__all__ = [
    "Backend", "BackendUnavailable", "GradcheckError", "Tensor", "get_backend", "gpu_available",
    "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "no_grad", "tensor",
    "data", "losses", "metrics", "nn", "optim",
]
