"""Every training loop on a busy machine: iterations per second with one core taken, against quiet.

    python benchmarks/busy.py                       # all loops, 3 repeats
    python benchmarks/busy.py --loops conditional,lab --repeats 5 --json

A student's laptop is rarely idle. When a program holds one of two cores, a matrix product
that OpenBLAS splits over two threads ends only when both halves do, and the half waiting
for the taken core stalls every product (docs/performance.md, "A busy machine"). minigan's
thread policy (minigan/threads.py) measures one thread against all of them wherever a loop
trains; this script checks that each loop keeps its speed when a core is taken.

Loops (each one iteration of the loop as the package or tutorial runs it):

- ``tutorial06``: tutorial 06's own loop: D = MLP 1-32-32-1 trained by Adam on m = 256
  samples of p_data and p_g, D evaluated on the 4,001-point grid every 20th iteration;
- ``semi_supervised``: ``SemiSupervisedGAN.train_step`` with its recipe (digits, D 64-256-256-10);
- ``conditional``: ``ConditionalGAN.train_step`` with its recipe (digits, G and D 256-256);
- ``lab``: the lab's worker training the ring (default settings) in pieces of 10 iterations
  (``Lab.train``) under its ``threads.policy(1)``, frames left out; also its iterations per
  CPU second, the figure docs/lab.md quotes.

Variants: ``policy`` runs the loop under a thread policy, as the package now does (one
policy object per loop and condition, kept across blocks: one long run, whose first probe
runs in the warm-up); ``no-policy`` runs it bare, the BLAS library's own threads (all
cores), as every loop but GAN.train ran before. The lab fixed one thread before and after.

Busy and quiet blocks interleave: for each repeat, in an order shuffled from a fixed seed,
one condition and then the other, each running a block of every loop and variant; for a busy
block a busy-loop process of our own is started on core 0 first and ended, by its pid, after.
Reported: the median over repeats of iterations per second, and busy/quiet = the quiet
speed over the busy one (1.0: no slower when busy; the target is 1.3 or less). The load
average is printed with them: on a shared machine "quiet" is only as quiet as the others let it be.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import minigan
from minigan import data, losses, nn, optim, threads
from benchmarks.train_step import blas_info, start_busy_loop

BLOCK_SECONDS = 0.8  # a block runs whole iterations for about this long (its first one sets the count)


# ---- the loops: each an object with step() (one iteration) -------------------------------------
class Tutorial06:
    """Tutorial 06's loop, as written there (fast-mode settings: m 256, lr 1e-2)."""

    def __init__(self, seed: int = 0):
        backend = minigan.get_backend("numpy")
        self.rng = backend.random(seed)
        self.p_data, self.p_g = data.gaussian_1d(4.0, 0.5), data.gaussian_1d(3.0, 1.0)
        self.D = nn.MLP([1, 32, 32, 1], "leaky_relu", rng=self.rng)
        self.opt = optim.Adam(self.D.parameters(), lr=1e-2, betas=(0.5, 0.999))
        self.grid = minigan.tensor(np.linspace(-4.0, 10.0, 4001)[:, None], dtype="float32")   # (4001, 1)
        self.step_count = 0

    def step(self):
        if self.step_count % 20 == 0:          # the tutorial looks at D on its grid 20 times a run
            with minigan.no_grad():
                self.D(self.grid).numpy()
        x = minigan.tensor(self.p_data.sample(256, self.rng))
        fake = minigan.tensor(self.p_g.sample(256, self.rng))
        loss_D = losses.discriminator_loss(self.D(x), self.D(fake))
        self.opt.zero_grad()
        loss_D.backward()
        self.opt.step()
        self.step_count += 1


class SemiSupervised:
    def __init__(self, seed: int = 0):
        from minigan.data.splits import digits_split, labelled_indices
        from minigan.variants import semi_supervised as ss

        settings, backend = ss.RECIPE, minigan.get_backend("numpy")
        split = digits_split()
        chosen = labelled_indices(split.train.labels, 10, seed)
        unlabelled = np.setdiff1d(np.arange(len(split.train)), chosen)
        rng = backend.random(seed)
        G = nn.MLP([settings["noise_dim"], *settings["g_hidden"], 64], "relu", "tanh", rng=rng)
        D = ss.Classifier([64, *settings["d_hidden"], 10], input_noise=0.0, dropout=0.0, rng=rng, backend=backend)
        self.model = ss.SemiSupervisedGAN(G, D, data.normal_noise(settings["noise_dim"]), split.train.images[chosen],
                                          split.train.labels[chosen], split.train.images[unlabelled],
                                          ss.make_optimizer(G.parameters(), settings["lr"]),
                                          ss.make_optimizer(D.parameters(), settings["lr"]), m=settings["m"], rng=rng)

    def step(self):
        self.model.train_step()


class Conditional:
    def __init__(self, seed: int = 0):
        from minigan.data.splits import digits_split
        from minigan.variants.conditional import ConditionalGAN

        split = digits_split()
        self.model = ConditionalGAN(split.train.images, split.train.labels, seed=seed)

    def step(self):
        self.model.train_step()


class LabWorker:
    """The lab's worker training in pieces (Lab.train), as its thread does between frames."""

    PIECE = 10

    def __init__(self, seed: int = 0):
        from minigan.lab.settings import LabSettings
        from minigan.lab.worker import Lab

        self.folder = tempfile.mkdtemp(prefix="minigan-busy-lab-")
        self.lab = Lab(LabSettings(), publish=lambda message: None, out=self.folder)

    def step(self):
        self.lab.train(self.PIECE)


LOOPS = {"tutorial06": Tutorial06, "semi_supervised": SemiSupervised, "conditional": Conditional, "lab": LabWorker}
ITERATIONS_PER_STEP = {"lab": LabWorker.PIECE}  # the lab's step() is a piece of 10 iterations


# ---- timing -----------------------------------------------------------------------------------
class Runner:
    """One loop in one variant and condition: its own model, and (policy) its own policy,
    entered around every block, as a run trained in pieces enters GAN.train's."""

    def __init__(self, loop: str, variant: str):
        self.loop, self.variant = loop, variant
        self.model = LOOPS[loop]()
        if loop == "lab":
            self.policy = threads.policy(1)  # the lab's own: one thread for the whole worker (Lab.run)
        else:
            self.policy = threads.policy("auto" if variant == "policy" else None)
        self.per_block = None

    def block(self, seconds: float = BLOCK_SECONDS):
        """(iterations per second, iterations per CPU second) over about ``seconds``."""
        with self.policy:
            if self.per_block is None:   # the first block: warm up, let the policy probe, size the blocks
                start = time.perf_counter()
                count = 0
                while time.perf_counter() - start < seconds or (self.policy.reason is None and not self.policy.choices
                                                                and self.loop != "lab" and count < 200):
                    self.model.step()
                    count += 1
                self.per_block = max(3, round(count * seconds / (time.perf_counter() - start)))
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(self.per_block):
                self.model.step()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        iterations = self.per_block * ITERATIONS_PER_STEP.get(self.loop, 1)
        return iterations / wall, iterations / cpu


def run(loops, repeats: int = 3, seed: int = 0, progress=None, seconds: float = BLOCK_SECONDS) -> dict:
    variants = {loop: (["policy"] if loop == "lab" else ["policy", "no-policy"]) for loop in loops}
    runners = {(loop, v, c): Runner(loop, v) for loop in loops for v in variants[loop] for c in ("quiet", "busy")}
    speeds = {key: [] for key in runners}
    cpu_speeds = {key: [] for key in runners}
    loads = {"quiet": [], "busy": []}
    load_before = os.getloadavg()
    for r in range(repeats + 1):                 # repeat 0: warm-up blocks, not counted
        order = ["quiet", "busy"]
        random.Random(seed + r).shuffle(order)
        for condition in order:
            busy = start_busy_loop() if condition == "busy" else None
            try:
                if busy is not None:
                    time.sleep(0.2)              # let it take its core
                for key, runner in runners.items():
                    if key[2] != condition:
                        continue
                    speed, cpu_speed = runner.block(seconds)
                    if r > 0:
                        speeds[key].append(speed)
                        cpu_speeds[key].append(cpu_speed)
            finally:
                if busy is not None:
                    busy.kill()                  # by its pid: ours, and only ours
                    busy.wait()
            if r > 0:
                loads[condition].append(os.getloadavg()[0])
        if progress:
            progress(f"repeat {r}/{repeats} done, load {os.getloadavg()[0]:.2f}")
    results = {}
    for loop in loops:
        for v in variants[loop]:
            quiet, busy = (statistics.median(speeds[(loop, v, c)]) for c in ("quiet", "busy"))
            results[f"{loop} ({v})"] = {
                "quiet_iters_per_s": quiet, "busy_iters_per_s": busy, "busy_over_quiet": quiet / busy,
                "quiet_iters_per_cpu_s": statistics.median(cpu_speeds[(loop, v, "quiet")]),
                "busy_iters_per_cpu_s": statistics.median(cpu_speeds[(loop, v, "busy")]),
                "policy_choices": {c: [(step, n) for step, n, _ in runners[(loop, v, c)].policy.choices]
                                   for c in ("quiet", "busy")},
            }
    return {"loops": results, "repeats": repeats, "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
            "load_1min_during": loads, "cpu_count": os.cpu_count(), "blas": blas_info()}


def format_table(result) -> str:
    lines = [f"{result['cpu_count']} cores; load average before {' '.join(f'{x:.2f}' for x in result['loadavg_before'])}, "
             f"after {' '.join(f'{x:.2f}' for x in result['loadavg_after'])}; 1-min load during quiet blocks "
             f"{', '.join(f'{x:.1f}' for x in result['load_1min_during']['quiet'])}, busy blocks "
             f"{', '.join(f'{x:.1f}' for x in result['load_1min_during']['busy'])}"]
    for lib in result["blas"]:
        lines.append("blas: " + ", ".join(f"{k}={v}" for k, v in lib.items() if v is not None))
    lines.append(f"median of {result['repeats']} interleaved repeats; busy = a busy loop of our own on core 0")
    header = f"{'loop (variant)':<30} {'quiet it/s':>10} {'busy it/s':>10} {'busy/quiet':>10} {'quiet it/CPU s':>14} {'busy it/CPU s':>13}"
    lines += ["", header, "-" * len(header)]
    for name, r in result["loops"].items():
        lines.append(f"{name:<30} {r['quiet_iters_per_s']:>10.1f} {r['busy_iters_per_s']:>10.1f} "
                     f"{r['busy_over_quiet']:>10.2f} {r['quiet_iters_per_cpu_s']:>14.1f} {r['busy_iters_per_cpu_s']:>13.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loops", default=",".join(LOOPS), help=f"comma-separated: {', '.join(LOOPS)}")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved busy and quiet blocks per loop")
    parser.add_argument("--seconds", type=float, default=BLOCK_SECONDS, help="about how long each block runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    loops = [name.strip() for name in args.loops.split(",") if name.strip()]
    unknown = [name for name in loops if name not in LOOPS]
    if unknown or not loops:
        parser.error(f"--loops: got {args.loops!r}, wanted a comma-separated list of {', '.join(LOOPS)}")
    if args.repeats < 1 or not args.seconds > 0:
        parser.error(f"--repeats and --seconds: got {args.repeats} and {args.seconds}, wanted positive numbers")
    progress = None if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    result = run(loops, args.repeats, progress=progress, seconds=args.seconds)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
