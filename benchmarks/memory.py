"""Does training hold on to memory? Peak RSS after 200 and after 2,000 iterations.

    python benchmarks/memory.py                       # minigan, toy config
    python benchmarks/memory.py --config image --variant reference --json

Each length runs in a fresh Python process (so neither inherits the other's heap), which
builds the networks, runs that many Algorithm 1 iterations and reports its peak resident
set size, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. If every step frees its graph and
keeps no history of tensors, the peak is reached early and 2,000 iterations end no more
than 5% above 200. Exit status 1 when they do not.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIMIT = 1.05  # 2,000 iterations may end at most 5% above 200


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def child(config: str, variant: str, iters: int, backend: str) -> dict:
    """Run ``iters`` iterations here and report the peak (the body of each fresh process)."""
    from benchmarks.train_step import CONFIGS, build_variant   # reference_numpy's configs and dcgan

    step = build_variant(variant, CONFIGS[config], backend)
    before = peak_rss_mib()
    for _ in range(iters):
        step.step()
    step.sync()
    return {"iters": iters, "peak_rss_mib": peak_rss_mib(), "peak_rss_before_training_mib": before}


def measure(config="toy", variant="minigan", lengths=(200, 2000), backend="numpy") -> dict:
    runs = []
    for n in lengths:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", "--config", config,
                   "--variant", variant, "--iters", str(n), "--backend", backend]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    ratio = runs[-1]["peak_rss_mib"] / runs[0]["peak_rss_mib"]
    return {"config": config, "variant": variant, "backend": backend, "runs": runs,
            "ratio_last_to_first": ratio, "limit": LIMIT, "ok": ratio <= LIMIT}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="toy", choices=["toy", "image", "dcgan"])
    parser.add_argument("--variant", default="minigan", choices=["minigan", "reference", "torch"])
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
    parser.add_argument("--lengths", default="200,2000", help="comma-separated iteration counts, first is the base")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--iters", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.config, args.variant, args.iters, args.backend)))
        return 0
    lengths = [int(n) for n in args.lengths.split(",")]
    if len(lengths) < 2 or min(lengths) < 1:
        parser.error(f"--lengths: got {args.lengths!r}, wanted at least two positive counts such as 200,2000")
    result = measure(args.config, args.variant, lengths, args.backend)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.variant} ({args.backend}), {args.config} config: peak RSS in a fresh process")
        for run in result["runs"]:
            print(f"  after {run['iters']:>6} iterations: {run['peak_rss_mib']:8.1f} MiB "
                  f"(before training {run['peak_rss_before_training_mib']:.1f} MiB)")
        verdict = "ok" if result["ok"] else "GROWS"
        print(f"  ratio {result['ratio_last_to_first']:.4f} (limit {LIMIT}): {verdict}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
