"""Time full Algorithm 1 iterations: minigan against a hand-written NumPy step and PyTorch.

    python benchmarks/train_step.py                  # both configs, table
    python benchmarks/train_step.py --json           # one JSON object with every figure
    python benchmarks/train_step.py --backend cupy   # minigan (and torch, if it has CUDA) on the GPU
    python benchmarks/train_step.py --busy           # the same with one core taken by a busy loop
    python benchmarks/train_step.py --profile        # where minigan's step spends its time (cProfile)

Every other training loop, busy against quiet: benchmarks/busy.py.

One iteration = k = 1 discriminator step then one generator step, Adam (lr 2e-4, betas
(0.5, 0.999)), non-saturating generator loss, float32, fresh minibatches of data and noise.
Configs (benchmarks/reference_numpy.py): "toy" (2-D ring, G 2-128-128-2 ReLU, D 2-128-128-1
LeakyReLU(0.2), m 256) and "image" (784-D random images in [-1, 1], noise 100,
G 100-256-512-784 LeakyReLU + tanh, D 784-512-256-1 LeakyReLU, m 128). "dcgan" (not in the
default list: ``--configs dcgan``) is a 32x32x3 DCGAN with m 64 and variants of its own,
minigan, torch and "floor", the matrix products alone (benchmarks/dcgan.py).

Variants: "minigan" is minigan's trainer as a user gets it, its BLAS thread policy
(minigan/threads.py) choosing the threads; "no-policy" is the same trainer with the policy
off (the BLAS library's own threads); "reference", "torch" and "torch-frozen" (the strongest
PyTorch step: D's parameters frozen in G's step) run with their libraries'
defaults. All run in this one process and interleaved (for each repeat: every config, and
in it each variant, one block of ``iters`` iterations each, in an order shuffled afresh
for each repeat from a fixed seed), so a burst of load from elsewhere hits them all alike; each block sets its own thread count and gives it back.
The policy's first probe (12 or more steps per thread count, at least 0.1 s each) runs during the warm-up, as a start-up cost; its later
probes are timed.
``--busy`` starts a busy-loop process on one core first and ends it, by its pid, after. Reported: the median over repeats of iterations per
second, and the ratios of those medians. The machine is shared: quote ratios from one run,
and read the load averages printed with them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import minigan
from minigan import data, gan, nn, optim, threads
from benchmarks import dcgan
from benchmarks.reference_numpy import CONFIGS, Config, GANStep, random_images

CONFIGS = {**CONFIGS, "dcgan": dcgan.DCGAN}   # dcgan: its own variants, minigan / torch / floor (benchmarks/dcgan.py)
DEFAULT_ITERS = {"toy": 100, "image": 10, "dcgan": 2}  # iterations per timed block


# ---- the minigan variant ---------------------------------------------------------------------
class MiniganStep:
    """minigan's own trainer: ``gan.GAN(...).train_step()`` is one Algorithm 1 iteration,
    the loop body ``GAN.train`` runs (its per-step record included: losses, mean D(x),
    mean D(G(z)) and |grad G|, left on the device)."""

    def __init__(self, config: Config, backend="numpy", seed: int = 0):
        self.config, self.backend = config, minigan.get_backend(backend)
        rng = self.backend.random(seed)
        G = nn.MLP(list(config.g_sizes), config.g_activation, config.g_output, rng=rng, backend=self.backend)
        D = nn.MLP(list(config.d_sizes), config.d_activation, rng=rng, backend=self.backend)
        opt_G = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_D = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        p_z = data.normal_noise(config.noise_dim)
        if config.data == "ring":
            p_data = data.ring()
        else:
            images = random_images(config.d_sizes[0])
            p_data = data.ImageDataset(images, np.zeros(len(images), np.int64), (28, 28), name="random_images")
        self.model = gan.GAN(G, D, p_data, p_z, opt_G, opt_D, k=1, m=config.m, loss="non_saturating", rng=rng)
        self.record = None

    def step(self):
        self.record = self.model.train_step()

    def sync(self):
        if self.record is not None:
            float(self.record.g_loss)  # reading a number waits for the device (free on the CPU)


class PolicyStep(MiniganStep):
    """MiniganStep under the thread policy, as ``GAN.train`` runs it: each block is a piece of
    one training run (on_train_begin, the steps, on_train_end), so the policy keeps its
    choice between blocks and gives the threads back after each."""

    def __init__(self, config: Config, backend="numpy", seed: int = 0):
        super().__init__(config, backend, seed)
        self.policy = threads.ThreadPolicy("auto")

    def begin_block(self):
        self.policy.on_train_begin(self.model, 0)

    def step(self):
        super().step()
        self.policy.on_step(self.model, self.record)

    def end_block(self):
        self.policy.on_train_end(self.model, True)

    def settled(self) -> bool:
        """Has the policy made its first choice (or decided to leave the threads alone)?"""
        return bool(self.policy.choices) or self.policy.reason is not None


class ReferenceStep(GANStep):
    def sync(self):
        pass


def build_variant(name: str, config: Config, backend: str = "numpy", seed: int = 0):
    """One variant ("minigan", "no-policy", "reference", "torch", "torch-frozen"), ready to ``step()``."""
    if config.name == "dcgan":
        return dcgan.build_variant(name, backend, seed)
    if name == "minigan":
        return PolicyStep(config, backend, seed)
    if name == "no-policy":
        return MiniganStep(config, backend, seed)
    if name == "reference":
        return ReferenceStep(config, seed)
    if name in ("torch", "torch-frozen"):   # torch-frozen: D's parameters frozen in G's step (torch_step.py)
        from benchmarks.torch_step import TorchGANStep
        import torch

        device = "cuda" if backend == "cupy" and torch.cuda.is_available() else "cpu"
        return TorchGANStep(config, device, seed, freeze_d=name == "torch-frozen")
    raise ValueError(f"variant: got {name!r}, wanted 'minigan', 'no-policy', 'reference', 'torch' or 'torch-frozen'")


def build_variants(config: Config, backend: str, use_torch: bool, seed: int = 0) -> dict:
    if config.name == "dcgan":
        return dcgan.build_variants(backend, use_torch, seed)
    names = ["minigan", "no-policy", "reference"] + (["torch", "torch-frozen"] if use_torch else [])
    return {name: build_variant(name, config, backend, seed) for name in names}


# ---- timing -----------------------------------------------------------------------------------
def time_block(variant, iters: int):
    """(iterations per second, minor page faults per iteration) over ``iters`` iterations."""
    getattr(variant, "begin_block", lambda: None)()
    variant.sync()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    for _ in range(iters):
        variant.step()
    variant.sync()
    seconds = time.perf_counter() - start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    getattr(variant, "end_block", lambda: None)()
    return iters / seconds, faults / iters


def run(config_names, backend="numpy", repeats=7, iters=None, warmup=3, use_torch=None, progress=None,
        threads=None):
    """Time every variant of every config, interleaved; return a dict of every figure.

    threads: BLAS threads (threadpoolctl) and torch's intra-op threads; None leaves the
    libraries' defaults (one per core).
    """
    if use_torch is None:
        use_torch = torch_available()
    if threads is not None:
        limit_threads(threads, use_torch)
    iters = {name: (iters or DEFAULT_ITERS[name]) for name in config_names}
    load_before = os.getloadavg()
    variants = {name: build_variants(CONFIGS[name], backend, use_torch) for name in config_names}
    for per_config in variants.values():
        for variant in per_config.values():
            getattr(variant, "begin_block", lambda: None)()
            for _ in range(warmup):
                variant.step()
            while not getattr(variant, "settled", lambda: True)():  # the thread policy's first probe:
                variant.step()                                       # a start-up cost, like the warm-up
            variant.sync()
            getattr(variant, "end_block", lambda: None)()
    speeds = {c: {v: [] for v in variants[c]} for c in config_names}
    faults = {c: {v: [] for v in variants[c]} for c in config_names}
    for r in range(repeats):
        for c in config_names:
            names = list(variants[c])
            random.Random(r).shuffle(names)  # a new order each repeat: no variant always follows the same
            for v in names:                  # one (torch's idle threads keep spinning for a while after it)
                variant = variants[c][v]
                speed, fault = time_block(variant, iters[c])
                speeds[c][v].append(speed)
                faults[c][v].append(fault)
        if progress:
            progress(f"repeat {r + 1}/{repeats} done, load {os.getloadavg()[0]:.2f}")
    results = {}
    for c in config_names:
        median = {v: statistics.median(s) for v, s in speeds[c].items()}
        pairs = [("minigan", "reference"), ("minigan", "no-policy"), ("minigan", "torch"), ("minigan", "torch-frozen"),
                 ("reference", "torch"), ("reference", "torch-frozen"), ("minigan", "floor"), ("torch", "floor")]
        ratios = {f"{a}/{b}": median[a] / median[b] for a, b in pairs if a in median and b in median}
        results[c] = {
            "iters_per_block": iters[c],
            "median_iters_per_s": median,
            "ms_per_iter": {v: 1000.0 / s for v, s in median.items()},
            "ratios": ratios,
            "all_iters_per_s": speeds[c],
            "minor_page_faults_per_iter": {v: statistics.median(f) for v, f in faults[c].items()},
            "policy_choices": getattr(getattr(variants[c]["minigan"], "policy", None), "choices", []),
        }
    return {
        "settings": {"backend": backend, "repeats": repeats, "warmup": warmup, "threads": threads,
                     "torch_device": _torch_device(variants)},
        "machine": machine_info(load_before),
        "configs": results,
    }


def limit_threads(threads: int, use_torch: bool) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)  # for the rest of this process
    if use_torch:
        import torch

        torch.set_num_threads(threads)


def _torch_device(variants):
    for per_config in variants.values():
        if "torch" in per_config:
            return per_config["torch"].device.type
    return None


def start_busy_loop(core: int = 0) -> subprocess.Popen:
    """A process of our own that spins on one core until it is ended: the busy laptop."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(busy.pid, {core})
    except (AttributeError, OSError):  # no affinity on this system: it spins wherever it is put
        pass
    return busy


# ---- the machine --------------------------------------------------------------------------------
def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def blas_info() -> list:
    """Which BLAS ran, which kernel, how many threads (threadpoolctl), else NumPy's build info."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return [{"source": "numpy.show_config", "name": blas.get("name"), "version": blas.get("version")}]
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: lib.get(k) for k in keys} | {"library": Path(lib["filepath"]).name} for lib in threadpool_info()]


def machine_info(load_before) -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "minigan": minigan.__version__,
        "blas": blas_info(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "env": {k: os.environ[k] for k in sorted(os.environ)
                if k.startswith(("OPENBLAS", "OMP_", "MKL_", "MALLOC_")) or k == "CUDA_VISIBLE_DEVICES"},
    }
    if torch_available():
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def warnings_for(info) -> list:
    notes = []
    if "OPENBLAS_CORETYPE" in info["env"]:
        notes.append(f"OPENBLAS_CORETYPE={info['env']['OPENBLAS_CORETYPE']} is set: it can halve NumPy's GEMM speed; "
                     "unset it for numbers comparable with other runs")
    busy = info["loadavg_before"][0]  # "after" counts this run's own threads too
    if busy > 0.5 * (info["cpu_count"] or 1):
        notes.append(f"the machine was busy before the run (1-min load {busy:.2f} on {info['cpu_count']} cores): "
                     "absolute speeds are low; the interleaved ratios are what to quote")
    return notes


# ---- output -------------------------------------------------------------------------------------
def format_table(result) -> str:
    lines = []
    info = result["machine"]
    lines.append(f"machine: {info['processor']}, {info['cpu_count']} cores, {info['platform']}")
    lines.append(f"python {info['python']}, numpy {info['numpy']}, minigan {info['minigan']}"
                 + (f", torch {info['torch']} ({info['torch_threads']} threads)" if "torch" in info else ", torch: not installed"))
    for lib in info["blas"]:
        lines.append("blas: " + ", ".join(f"{k}={v}" for k, v in lib.items() if v is not None))
    lines.append("load average (1, 5, 15 min): before " + " ".join(f"{x:.2f}" for x in info["loadavg_before"])
                 + ", after " + " ".join(f"{x:.2f}" for x in info["loadavg_after"]))
    if info["env"]:
        lines.append("environment: " + " ".join(f"{k}={v}" for k, v in info["env"].items()))
    s = result["settings"]
    lines.append(f"minigan backend: {s['backend']}; torch device: {s['torch_device'] or '-'}; "
                 f"median of {s['repeats']} interleaved repeats"
                 + ("; one core busy (a busy loop of our own)" if s.get("busy") else ""))
    lines.append("")
    header = f"{'config':<7} {'variant':<10} {'iters/s':>9} {'ms/iter':>8} {'faults/iter':>11}"
    lines.append(header)
    lines.append("-" * len(header))
    for c, r in result["configs"].items():
        for v, speed in r["median_iters_per_s"].items():
            lines.append(f"{c:<7} {v:<10} {speed:>9.1f} {r['ms_per_iter'][v]:>8.2f} "
                         f"{r['minor_page_faults_per_iter'][v]:>11.1f}")
        lines.append("        " + ", ".join(f"{k} = {x:.2f}" for k, x in r["ratios"].items()))
        if r.get("policy_choices"):
            chosen = [f"{n} at step {step}" for step, n, _ in r["policy_choices"]]
            lines.append(f"        the thread policy chose {', '.join(chosen)}")
    for note in warnings_for(info):
        lines.append("WARNING: " + note)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"], help="minigan's backend")
    parser.add_argument("--configs", default="toy,image", help="comma-separated: toy, image, dcgan")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved timed blocks per variant")
    parser.add_argument("--iters", type=int, default=None,
                        help=f"iterations per block (default {DEFAULT_ITERS})")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations per variant first")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (needs threadpoolctl); default: the libraries' own")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    parser.add_argument("--busy", action="store_true", help="keep one core busy with a busy loop while timing")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--profile", action="store_true",
                        help="instead of timing: where minigan's step spends its time, by cProfile "
                             "(benchmarks/profile_step.py; --iters iterations, default 300 toy, 40 image)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    for n in names:
        if n not in CONFIGS:
            parser.error(f"--configs: got {n!r}, wanted a comma-separated list of {', '.join(CONFIGS)}")
    if args.repeats < 1 or (args.iters is not None and args.iters < 1) or args.warmup < 0 \
            or (args.threads is not None and args.threads < 1):
        parser.error("--repeats, --iters and --threads: wanted positive integers, --warmup: a non-negative one")
    if args.backend == "cupy" and not minigan.gpu_available():
        print("no usable CUDA GPU (or CuPy missing): run with --backend numpy", file=sys.stderr)
        return 2
    if args.profile:
        from benchmarks.profile_step import profile

        if "dcgan" in names:
            parser.error("--profile: got --configs with dcgan, wanted toy and/or image (benchmarks/dcgan.py times dcgan)")
        for n in names:
            profile(n, args.iters or {"image": 40}.get(n, 300))
            print()
        return 0
    progress = None if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    busy = start_busy_loop() if args.busy else None
    try:
        result = run(names, args.backend, args.repeats, args.iters, args.warmup,
                     use_torch=False if args.no_torch else None, progress=progress, threads=args.threads)
    finally:
        if busy is not None:
            busy.kill()  # by its pid: ours, and only ours
            busy.wait()
    result["settings"]["busy"] = busy is not None
    result["warnings"] = warnings_for(result["machine"])
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
