"""The same Algorithm 1 iteration in PyTorch eager mode: an optional comparison.

Imported only when PyTorch is installed (``pip install torch``; it is never a dependency
of minigan). Written the way a PyTorch user writes it: nn.Sequential, torch.optim.Adam with
its defaults, ``zero_grad`` / ``backward`` / ``step``, noise from torch's own generator.
On "cuda" the timer calls ``sync()`` before reading the clock.

``freeze_d=True`` is the strongest CPU step we know to write in PyTorch: D's parameters have
``requires_grad`` off during the generator's step, so its backward skips D's weight
gradients (what minigan's ``backward(inputs=opt_G.params)`` skips too, and what the
hand-written step never computes). train_step.py runs it as the variant "torch-frozen".
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.reference_numpy import Config, random_images, ring_centres, RING_STD, SLOPE


def _mlp(sizes, activation, output):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU() if activation == "relu" else nn.LeakyReLU(SLOPE))
        elif output == "tanh":
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class TorchGANStep:
    def __init__(self, config: Config, device: str = "cpu", seed: int = 0, freeze_d: bool = False):
        torch.manual_seed(seed)
        self.freeze_d = freeze_d
        self.config, self.device = config, torch.device(device)
        self.G = _mlp(config.g_sizes, config.g_activation, config.g_output).to(self.device)
        self.D = _mlp(config.d_sizes, config.d_activation, None).to(self.device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.centres = torch.tensor(ring_centres(), dtype=torch.float32, device=self.device)
        self.images = None
        if config.data == "images":
            self.images = torch.from_numpy(random_images(config.d_sizes[0])).to(self.device)

    def sample_z(self, m):
        return torch.randn(m, self.config.noise_dim, device=self.device)

    def sample_x(self, m):
        if self.images is not None:
            return self.images[torch.randint(0, self.images.shape[0], (m,), device=self.device)]
        which = torch.randint(0, self.centres.shape[0], (m,), device=self.device)
        return self.centres[which] + RING_STD * torch.randn(m, 2, device=self.device)

    def step(self):
        m = self.config.m
        # discriminator: descend -V = mean softplus(-a_real) + mean softplus(a_fake)
        x, z = self.sample_x(m), self.sample_z(m)
        self.opt_D.zero_grad(set_to_none=True)
        loss_D = F.softplus(-self.D(x)).mean() + F.softplus(self.D(self.G(z).detach())).mean()
        loss_D.backward()
        self.opt_D.step()
        # generator, non-saturating: descend mean softplus(-a_fake) = -mean log D(G(z))
        self.opt_G.zero_grad(set_to_none=True)
        if self.freeze_d:
            self.D.requires_grad_(False)   # D held fixed: no weight gradients for it in this backward
        loss_G = F.softplus(-self.D(self.G(self.sample_z(m)))).mean()
        loss_G.backward()
        if self.freeze_d:
            self.D.requires_grad_(True)
        self.opt_G.step()

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
