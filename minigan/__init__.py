"""minigan: an educational GAN framework from scratch, on NumPy and (through CuPy) the GPU.

Reading minigan: the folders in reading order, each built only on those above it
(lines of Python in brackets, kept true by tests/test_layout.py).

  the engine
    backend.py     (290)  where arrays live: NumPy, CuPy, or array-api-strict for the tests
    threads.py     (320)  how many BLAS threads compute them: measured, borrowed, given back
    autograd.py    (310)  Tensor and Op: an array, its .grad, and the op that made it
    backprop.py    (220)  backward() and minigan.grad: the walk, differentiable once more
    ops/          (1190)  every primitive: its forward and hand-derived VJP side by side, convolutions too
    gradcheck.py   (150)  central differences in float64 against those VJPs
  the blocks
    nn/           (1000)  Module, Linear, activations, MLP, Conv2d, BatchNorm, DCGAN, Gumbel-softmax
    losses/        (500)  V(D, G) and its successors, with closed-form gradients
    optim.py       (240)  SGD with momentum, Adam
    data/          (960)  noise priors; 1-D, ring, grid, digits, MNIST, categorical, cartoon faces
  Algorithm 1
    gan/          (1420)  the trainer, its config and recipes, building, callbacks, checkpoints
  built on it
    runs/          (480)  run folders, resuming, interrupts
    variants/      (780)  semi-supervised, conditional (MLP or DCGAN), the Dirac-GAN game
    judging/      (1490)  metrics, the digits and faces judges, figures, a run's results
    interop/       (350)  to and from PyTorch
  programs
    demo/         (1220)  python -m minigan.demo (and python -m minigan.demo.selfcheck)
    lab/          (1400)  python -m minigan.lab: Algorithm 1 live in the browser
    assignments/  (5210)  python -m minigan.assignments: release a student copy, grade it, grade a class

Importing minigan imports NumPy only: CuPy is imported when the cupy backend is asked for,
matplotlib when a figure is drawn.
"""
from minigan.autograd import Tensor, is_grad_enabled, no_grad, tensor
from minigan.backprop import grad
from minigan.backend import Backend, BackendUnavailable, get_backend, gpu_available
from minigan.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigan import data, losses, nn, optim  # noqa: E402  (the building blocks, after the engine)

__version__ = "0.1.0"

__all__ = [
    "Backend", "BackendUnavailable", "GradcheckError", "Tensor", "get_backend", "gpu_available",
    "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "no_grad", "tensor",
    "data", "losses", "nn", "optim",
]
