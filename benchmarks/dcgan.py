"""The "dcgan" config of benchmarks/train_step.py: a 32 x 32 x 3 DCGAN, m = 64, Adam.

    G: z (100) -> 4x4x256 -> 8x8x128 -> 16x16x64 -> 32x32x3     transposed convolutions, kernel 4,
       BatchNorm and ReLU between them, tanh at the end           (the first one stride 1, then 2)
    D: 32x32x3 -> 16x16x64 -> 8x8x128 -> 4x4x256 -> one logit  strided convolutions, kernel 4,
       LeakyReLU(0.2) between them                                 (no BatchNorm: R1 and WGAN-GP work)

No biases (bias=False), as in PyTorch's DCGAN example: BatchNorm's shift does their work.
One iteration = one discriminator step then one generator step (k = 1), non-saturating
loss, Adam (lr 2e-4, betas (0.5, 0.999)), float32, fresh random "images" in [-1, 1].

Three variants, timed interleaved by train_step.py:
- "minigan": minigan's GAN.train_step on nn.Conv2d / nn.ConvTranspose2d / nn.BatchNorm2d;
- "torch":   the same network in PyTorch eager mode, written the way its users write it;
- "floor":   only the matrix products one minigan iteration does (every layer's forward,
             grad_x and grad_w products, as many times as the iteration needs them), on
             preallocated NumPy arrays: what no im2col-based NumPy code can beat.

``python benchmarks/dcgan.py --columns`` prints the memory the im2col columns take, per
layer and in all, beside the peak of NumPy's allocations during one minigan iteration
(tracemalloc): the backward makes each layer's columns again instead of keeping them.
"""
from __future__ import annotations

import argparse
import sys
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import minigan
from minigan import gan, nn, optim

NOISE, M, N_IMAGES = 100, 64, 1024
# (c_in, c_out, kernel, stride, padding, input side) of each layer
G_LAYERS = [(100, 256, 4, 1, 0, 1), (256, 128, 4, 2, 1, 4), (128, 64, 4, 2, 1, 8), (64, 3, 4, 2, 1, 16)]
D_LAYERS = [(3, 64, 4, 2, 1, 32), (64, 128, 4, 2, 1, 16), (128, 256, 4, 2, 1, 8), (256, 1, 4, 1, 0, 4)]


@dataclass(frozen=True)
class DCGANConfig:
    name: str = "dcgan"
    m: int = M
    noise_dim: int = NOISE


DCGAN = DCGANConfig()


def random_images(seed: int = 1234) -> np.ndarray:
    """(N_IMAGES, 3, 32, 32) float32 in [-1, 1]: stands in for a face dataset (timing needs no faces)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(N_IMAGES, 3, 32, 32)).astype(np.float32)


# ---- minigan ----------------------------------------------------------------------------------
def minigan_networks(backend="numpy", seed: int = 0):
    be = minigan.get_backend(backend)
    rng = be.random(seed)
    g = [nn.Unflatten((NOISE, 1, 1), backend=be)]
    for i, (c_in, c_out, k, s, p, _) in enumerate(G_LAYERS):
        g.append(nn.ConvTranspose2d(c_in, c_out, k, s, p, bias=False, init="normal", rng=rng, backend=be))
        g += [nn.BatchNorm2d(c_out, backend=be), nn.ReLU(backend=be)] if i < len(G_LAYERS) - 1 else [nn.Tanh(backend=be)]
    d = []
    for i, (c_in, c_out, k, s, p, _) in enumerate(D_LAYERS):
        d.append(nn.Conv2d(c_in, c_out, k, s, p, bias=False, init="normal", rng=rng, backend=be))
        d += [nn.LeakyReLU(0.2, backend=be)] if i < len(D_LAYERS) - 1 else [nn.Flatten(backend=be)]
    return nn.Sequential(*g, backend=be), nn.Sequential(*d, backend=be)


class Images:
    """p_data: images drawn uniformly with replacement, as (m, 3, 32, 32) arrays on rng's backend."""

    def __init__(self, images: np.ndarray):
        self.images, self.on = images, {}

    def sample(self, m, rng):
        backend = rng.backend
        if backend.name not in self.on:
            self.on[backend.name] = backend.asarray(self.images)
        return backend.xp.take(self.on[backend.name], rng.integers(0, len(self.images), (m,)), axis=0)


class Noise:
    """p_z: N(0, 1) noise vectors (m, 100)."""

    def sample(self, m, rng):
        return rng.normal((m, NOISE))


class MiniganDCGANStep:
    """``gan.GAN(...).train_step()`` on the DCGAN (the BLAS library's own threads, as torch's)."""

    def __init__(self, backend="numpy", seed: int = 0):
        be = minigan.get_backend(backend)
        G, D = minigan_networks(be, seed)
        opt_G = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_D = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.model = gan.GAN(G, D, Images(random_images()), Noise(), opt_G, opt_D, k=1, m=M,
                             loss="non_saturating", rng=be.random(seed))
        self.record = None

    def step(self):
        self.record = self.model.train_step()

    def sync(self):
        if self.record is not None:
            float(self.record.g_loss)


# ---- the matrix products alone ------------------------------------------------------------------
def products(layers, transposed: bool):
    """[(forward, grad_x, grad_w)] per layer, each a pair of shapes (a, b) for a @ b."""
    result = []
    for c_in, c_out, k, s, p, side in layers:
        if transposed:        # rows: input pixels; (M, I) @ (I, O k k)
            rows, out = M * side * side, c_out * k * k
            result.append((((rows, c_in), (c_in, out)), ((rows, out), (out, c_in)), ((c_in, rows), (rows, out))))
        else:                 # rows: output pixels; (M, C k k) @ (C k k, O)
            side_out = (side + 2 * p - k) // s + 1
            rows, width = M * side_out * side_out, c_in * k * k
            result.append((((rows, width), (width, c_out)), ((rows, c_out), (c_out, width)), ((c_out, rows), (rows, width))))
    return result


def iteration_products():
    """Every product of one iteration: G forward twice, its grad_w once and grad_x (not for z)
    once; D forward three times (real and fake, then fake for G's step), grad_w twice, grad_x
    of layers 2-4 three times and of layer 1 once (G's step needs the gradient at G(z))."""
    shapes = []
    for i, (forward, grad_x, grad_w) in enumerate(products(G_LAYERS, transposed=True)):
        shapes += [forward] * 2 + [grad_w] + ([grad_x] if i > 0 else [])
    for i, (forward, grad_x, grad_w) in enumerate(products(D_LAYERS, transposed=False)):
        shapes += [forward] * 3 + [grad_w] * 2 + [grad_x] * (3 if i > 0 else 1)
    return shapes


class FloorStep:
    """The iteration's matrix products on fixed float32 arrays, and nothing else."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.pairs = [(rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32))
                      for a, b in iteration_products()]

    def step(self):
        for a, b in self.pairs:
            a @ b

    def sync(self):
        pass


# ---- PyTorch ------------------------------------------------------------------------------------
class TorchDCGANStep:
    """The same DCGAN in PyTorch eager mode: nn.Sequential, Adam, zero_grad / backward / step."""

    def __init__(self, device: str = "cpu", seed: int = 0):
        import torch
        import torch.nn.functional as F
        from torch import nn as tnn

        self.torch, self.F = torch, F
        torch.manual_seed(seed)
        self.device = torch.device(device)
        g = [tnn.Unflatten(1, (NOISE, 1, 1))]
        for i, (c_in, c_out, k, s, p, _) in enumerate(G_LAYERS):
            g.append(tnn.ConvTranspose2d(c_in, c_out, k, s, p, bias=False))
            g += [tnn.BatchNorm2d(c_out), tnn.ReLU()] if i < len(G_LAYERS) - 1 else [tnn.Tanh()]
        d = []
        for i, (c_in, c_out, k, s, p, _) in enumerate(D_LAYERS):
            d.append(tnn.Conv2d(c_in, c_out, k, s, p, bias=False))
            d += [tnn.LeakyReLU(0.2)] if i < len(D_LAYERS) - 1 else [tnn.Flatten()]
        self.G, self.D = tnn.Sequential(*g).to(self.device), tnn.Sequential(*d).to(self.device)
        for module in list(self.G.modules()) + list(self.D.modules()):   # DCGAN's N(0, 0.02)
            if isinstance(module, (tnn.Conv2d, tnn.ConvTranspose2d)):
                tnn.init.normal_(module.weight, 0.0, 0.02)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.images = torch.from_numpy(random_images()).to(self.device)

    def step(self):
        torch, F = self.torch, self.F
        x = self.images[torch.randint(0, N_IMAGES, (M,), device=self.device)]
        z = torch.randn(M, NOISE, device=self.device)
        self.opt_D.zero_grad(set_to_none=True)
        loss_D = F.softplus(-self.D(x)).mean() + F.softplus(self.D(self.G(z).detach())).mean()
        loss_D.backward()
        self.opt_D.step()
        self.opt_G.zero_grad(set_to_none=True)
        loss_G = F.softplus(-self.D(self.G(torch.randn(M, NOISE, device=self.device)))).mean()
        loss_G.backward()
        self.opt_G.step()

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()


def build_variant(name: str, backend: str = "numpy", seed: int = 0):
    """One dcgan variant ("minigan", "torch" or "floor"), ready to ``step()`` and ``sync()``."""
    if name == "minigan":
        return MiniganDCGANStep(backend, seed)
    if name == "floor":
        return FloorStep(seed)
    if name == "torch":
        import torch

        return TorchDCGANStep("cuda" if backend == "cupy" and torch.cuda.is_available() else "cpu", seed)
    raise ValueError(f"variant: got {name!r}, wanted 'minigan', 'torch' or 'floor' for the dcgan config")


def build_variants(backend: str, use_torch: bool, seed: int = 0) -> dict:
    names = ["minigan", "floor"] + (["torch"] if use_torch else [])
    return {name: build_variant(name, backend, seed) for name in names}


# ---- the columns' memory --------------------------------------------------------------------------
def column_bytes() -> dict:
    """Bytes of each D layer's im2col columns (float32) and of the whole network's."""
    per_layer = {f"D{i + 1}": 4 * np.prod(forward[0]) for i, (forward, _, _) in
                 enumerate(products(D_LAYERS, transposed=False))}
    per_layer.update({f"G{i + 1}": 4 * np.prod(forward[1]) * forward[0][0] // forward[1][0]
                      for i, (forward, _, _) in enumerate(products(G_LAYERS, transposed=True))})
    return {k: int(v) for k, v in per_layer.items()}


def traced_peak_mib(iterations: int = 2) -> float:
    """The peak of NumPy's allocations (tracemalloc sees them) during minigan iterations, in MiB,
    above what was allocated before them (networks, optimizers, the images)."""
    step = MiniganDCGANStep()
    step.step()                      # Adam's state exists after the first step
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(iterations):
        step.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--columns", action="store_true", help="print the im2col columns' memory and the traced peak")
    args = parser.parse_args(argv)
    if not args.columns:
        parser.error("time the dcgan config with: python benchmarks/train_step.py --configs dcgan")
    sizes = column_bytes()
    for name, size in sizes.items():
        print(f"{name}: columns {size / 2**20:7.2f} MiB")
    print(f"largest layer's columns: {max(sizes.values()) / 2**20:.2f} MiB; all layers': {sum(sizes.values()) / 2**20:.2f} MiB")
    print(f"peak of NumPy's allocations during minigan iterations (tracemalloc): {traced_peak_mib():.2f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
