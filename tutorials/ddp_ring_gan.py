"""Tutorial 14's DistributedDataParallel script: the ring GAN's PyTorch loop over processes.

    python tutorials/ddp_ring_gan.py --processes 2 --steps 20 --out ddp.npz

Each process holds a whole copy of G and D and computes the losses of its own share of
every minibatch (m / processes examples). ``DistributedDataParallel`` (DDP) averages the
gradients of all the processes inside ``backward()``, so every copy then takes the same
optimizer step: the step one process would take on the whole minibatch, because the mean
of the shares' mean losses is the mean loss of the whole minibatch. Here the processes
talk through the ``gloo`` backend (CPUs; ``nccl`` is the one for GPUs) and meet through a
file, so nothing listens on a network port. On a cluster the same loop runs under
``torchrun``, with one process per GPU.

To compare with one process at the same total minibatch, every process draws the whole
minibatch from the same seeded generator and keeps its slice; a real data-parallel run
would give each process its own data instead (``torch.utils.data.DistributedSampler``).
The networks start as minigan's ring G and D (float64), converted with minigan.interop.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

try:
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel as DDP
except ImportError:
    sys.exit('ddp_ring_gan.py: got no PyTorch, wanted it installed: pip install -e ".[torch]" (docs/next_steps.md)')

from minigan import data, get_backend, interop, nn

SEED, NOISE_DIM, LR, BETAS = 0, 2, 1.5e-3, (0.5, 0.999)   # the ring recipe's settings


def ring_networks(seed=SEED):
    """minigan's ring G and D in float64, as gan.build makes them (one generator draws both)."""
    rng = get_backend("numpy").random(seed)
    G = nn.MLP([NOISE_DIM, 128, 128, 2], "relu", rng=rng, dtype="float64")
    D = nn.MLP([2, 128, 128, 1], "leaky_relu", rng=rng, dtype="float64")
    return interop.to_torch(G), interop.to_torch(D)


def minibatch(distribution, m, rng, share):
    """The whole minibatch from the shared generator, this process's slice, as float64."""
    return torch.from_numpy(distribution.sample(m, rng)[share].astype(np.float64))


def bce(logits, target):
    """Binary cross-entropy on logits against a constant label (1 = real, 0 = fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(target)))


def train(rank, processes, steps, m, rendezvous, out):
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=processes)
    torch.set_num_threads(1)                       # one core per process
    G, D = ring_networks()
    G, D = DDP(G), DDP(D)                          # the only change to the single-process loop
    opt_G = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_D = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    p_data, p_z = data.ring(), data.normal_noise(NOISE_DIM)
    rng = get_backend("numpy").random(SEED)       # the same draws in every process
    share = slice(rank * m // processes, (rank + 1) * m // processes)
    d_losses = []
    for _ in range(steps):
        # the discriminator's step (k = 1): ascend V by descending -V
        x = minibatch(p_data, m, rng, share)                     # (m / processes, 2)
        z = minibatch(p_z, m, rng, share)
        with torch.no_grad():
            fake = G(z)                                          # no gradient to G (detach)
        loss_D = bce(D(x), 1) + bce(D(fake), 0)
        opt_D.zero_grad()
        loss_D.backward()                                        # DDP averages D's gradients here
        opt_D.step()
        # the generator's step, non-saturating: descend -log D(G(z))
        z = minibatch(p_z, m, rng, share)
        loss_G = bce(D(G(z)), 1)
        opt_G.zero_grad()
        loss_G.backward()                                        # ... and G's here
        opt_G.step()
        total = loss_D.detach().clone()
        dist.all_reduce(total)                                   # the sum of the shares' losses
        d_losses.append(float(total) / processes)                # = the whole minibatch's loss
    if rank == 0:
        arrays = {"G." + n: p.detach().numpy() for n, p in G.module.named_parameters()}
        arrays.update({"D." + n: p.detach().numpy() for n, p in D.module.named_parameters()})
        np.savez(out, d_losses=np.array(d_losses), **arrays)
    dist.destroy_process_group()


def main(argv=None):
    parser = argparse.ArgumentParser(description="The ring GAN trained with DistributedDataParallel on CPUs.")
    parser.add_argument("--processes", type=int, default=2, help="how many processes (default 2)")
    parser.add_argument("--steps", type=int, default=20, help="training iterations (default 20)")
    parser.add_argument("--m", type=int, default=256, help="the total minibatch size (default 256)")
    parser.add_argument("--out", default="ddp_ring_gan.npz", help="where rank 0 writes the parameters")
    args = parser.parse_args(argv)
    for name in ("processes", "steps", "m"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}: got {getattr(args, name)}, wanted a positive integer")
    if args.m % args.processes:
        parser.error(f"--m: got {args.m}, wanted a multiple of --processes {args.processes} (equal shares)")
    with tempfile.TemporaryDirectory() as folder:
        rendezvous = os.path.join(folder, "rendezvous")          # where the processes find each other
        torch.multiprocessing.spawn(train, args=(args.processes, args.steps, args.m, rendezvous, args.out),
                                    nprocs=args.processes)
    print(f"{args.processes} processes trained {args.steps} steps at m = {args.m}; parameters in {args.out}")


if __name__ == "__main__":
    sys.exit(main())
