"""A4: an experiment on the ring. Which generator loss, and how many discriminator steps?

Goodfellow et al. (2014) note that the generator's minimax loss log(1 - D(G(z))) saturates:
"early in learning, when G is poor, D can reject samples with high confidence", and the
gradient reaching G, proportional to D(G(z)), vanishes. Their fix is the non-saturating
loss -log D(G(z)), whose gradient is proportional to 1 - D(G(z)). Algorithm 1 also has a
knob k, the discriminator steps per generator step: a larger k makes D stronger, which is
exactly when the minimax loss saturates.

This experiment trains four short GANs on the ring of 8 Gaussians, one per (loss, k), all
from one seed, and measures each:

- ``modes_covered``          of the 8 ring modes, how many the generator's samples reach
- ``high_quality_fraction``  the fraction of samples within 3 std of a mode
- ``early_d_fake``           mean D(G(z)) over the first iterations (how fooled D is)
- ``early_g_grad_norm``      mean norm of the gradient reaching G over those iterations

Run it (about half a minute on a laptop) and read the findings:

    python -m minigan.assignments.experiments [--seed 0]

The two functions below are the assignment: ``run_ring`` (A4.1) trains and measures one
GAN, ``compare`` (A4.2) runs the grid and states what it shows. The grader runs them with
its own seed and checks the measurements against its own runs.
"""
from __future__ import annotations

import argparse

import numpy as np

from minigan import gan

from minigan.gan import callbacks

from minigan.judging import metrics

FORMS = ("non_saturating", "minimax")
K_VALUES = (1, 5)     # one discriminator step per generator step, and five
STEPS = 200           # iterations of Algorithm 1 per run: short, so the grid runs in seconds
EARLY = 100           # "early in training": the first EARLY iterations


def ring_config(form: str, k: int, steps: int = STEPS, seed: int = 0) -> gan.GANConfig:
    """The experiment's settings: the ring recipe, smaller and faster (Adam, lr 3e-3, m = 64)."""
    return gan.recipe("ring", loss=form, k=k, steps=steps, seed=seed, g_hidden=(32, 32), d_hidden=(32, 32),
                      m=64, lr=3e-3)


def run_ring(form: str = "non_saturating", k: int = 1, steps: int = STEPS, seed: int = 0,
             early: int = EARLY) -> dict:
    """Train one GAN on the ring with ``ring_config(form, k, steps, seed)`` and measure it.

    Build it with ``gan.build``, train it for ``steps`` iterations with a
    ``callbacks.History()`` and the config's ``gan.schedules``, then return a dict:

        "form", "k", "steps", "seed"   the arguments
        "modes_covered"                metrics.mode_coverage of metrics.N_SAMPLES samples from
        "high_quality_fraction"        model.generate(metrics.N_SAMPLES, seed=seed), against the
                                       ring's centres and std (model.p_data)
        "early_d_fake"                 mean of the history's "d_fake" over the first ``early``
                                       iterations (a Python float)
        "early_g_grad_norm"            mean of its "g_grad_norm" over the same iterations
    """
    # BEGIN SOLUTION A4.1
    config = ring_config(form, k, steps, seed)
    model = gan.build(config)
    history = callbacks.History()
    model.train(steps, callbacks=[history, *gan.schedules(config, model)])
    samples = model.generate(metrics.N_SAMPLES, seed=seed)
    coverage = metrics.mode_coverage(samples, model.p_data.centres, model.p_data.std)
    return {
        "form": form, "k": k, "steps": steps, "seed": seed,
        "modes_covered": coverage.modes_covered,
        "high_quality_fraction": coverage.high_quality_fraction,
        "early_d_fake": float(np.mean(history["d_fake"][:early])),
        "early_g_grad_norm": float(np.mean(history["g_grad_norm"][:early])),
    }
    # END SOLUTION


def compare(steps: int = STEPS, seed: int = 0) -> dict:
    """Run ``run_ring`` for every form in FORMS and every k in K_VALUES; say what it shows.

    Returns {"runs": [the four run_ring dicts], "findings": {...}} with three booleans,
    where k1, k5 = K_VALUES and "ns", "mm" are the non-saturating and minimax runs:

        "minimax_gradient_weaker"     with k5, mm's early_g_grad_norm < ns's
        "more_d_steps_lower_d_fake"   for each form, early_d_fake with k5 < with k1
        "non_saturating_covers_more"  with k5, ns's modes_covered >= mm's
    """
    # BEGIN SOLUTION A4.2
    runs = [run_ring(form, k, steps, seed) for form in FORMS for k in K_VALUES]
    by = {(run["form"], run["k"]): run for run in runs}
    k1, k5 = K_VALUES
    ns, mm = FORMS
    findings = {
        "minimax_gradient_weaker": by[mm, k5]["early_g_grad_norm"] < by[ns, k5]["early_g_grad_norm"],
        "more_d_steps_lower_d_fake": all(by[form, k5]["early_d_fake"] < by[form, k1]["early_d_fake"]
                                         for form in FORMS),
        "non_saturating_covers_more": by[ns, k5]["modes_covered"] >= by[mm, k5]["modes_covered"],
    }
    return {"runs": runs, "findings": findings}
    # END SOLUTION


def report(result: dict) -> str:
    """The runs as a table, then the findings."""
    lines = [f"{'loss':<15} {'k':>2} {'modes':>6} {'high q.':>8} {'early D(G(z))':>14} {'early |grad G|':>15}"]
    for run in result["runs"]:
        lines.append(f"{run['form']:<15} {run['k']:>2} {run['modes_covered']:>4}/8 {run['high_quality_fraction']:>8.3f}"
                     f" {run['early_d_fake']:>14.3f} {run['early_g_grad_norm']:>15.3f}")
    lines.append("")
    lines.extend(f"{name}: {value}" for name, value in result["findings"].items())
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigan.assignments.experiments",
                                     description="A4: the generator losses and k on the ring")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args(argv)
    print(report(compare(steps=args.steps, seed=args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
