"""Resuming a run: which settings may change, and what the learning-rate schedule does then.

``python -m minigan.demo --resume FILE`` continues the run saved in FILE. With no other
option it continues exactly: the run goes on as if it had never stopped, bit for bit.
These options may change the run from the checkpoint's step on; each change is printed in
one line and the new config is added to the checkpoint's list of configs:

    --steps N     the step to reach. The lr decay and SGD's momentum ramp keep the end
                  (the horizon) they had, so past it the lr stays at its final value:
                  asking for more steps never raises the lr.
    --lr LR       a new learning rate from the checkpoint's step on, decayed (as the
                  recipe says) from there to --steps: the remedy for a run that diverged.
    --k, --loss   the discriminator steps per generator step, the loss pair
    --penalty, --gamma, --clip   a penalty on D's input gradient, its weight, weight clipping
    --optimizer   a new optimizer starts with an empty state (no momentum, no moments)

The dataset, the network shapes, the batch size and the seed make the run what it is;
asking to change them is refused (start a new run instead).
"""
from __future__ import annotations

from dataclasses import dataclass

from minigan.gan.config import GANConfig

# command-line option -> GANConfig field
CHANGEABLE = {"steps": "steps", "lr": "lr", "k": "k", "loss": "loss", "optimizer": "optimizer",
              "penalty": "penalty", "gamma": "gamma", "clip": "clip"}
FIXED = {"dataset": "dataset", "batch_size": "m", "seed": "seed"}


class ResumeRefused(ValueError):
    """An option asks for a change a resumed run cannot make."""


@dataclass(frozen=True)
class Plan:
    """How a resume changes the run: config fields to change, and what to tell the user."""

    changes: dict
    lines: tuple


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def plan(saved: dict, step: int, options: dict) -> Plan:
    """The changes ``options`` ({option: value or None}) ask of the run saved at ``step``
    with config ``saved`` (a dict). Raises ResumeRefused, in one line, for what cannot be."""
    config = GANConfig.from_dict(saved)
    current = config.to_dict()
    for option, field in FIXED.items():
        given = options.get(option)
        if given is not None and given != current[field]:
            raise ResumeRefused(f"{_option(option)} {given}: the checkpoint's run has {field}={current[field]!r}, "
                                f"which a resumed run cannot change; leave {_option(option)} out, or start a "
                                f"new run without --resume")
    asked = {field: options[option] for option, field in CHANGEABLE.items() if options.get(option) is not None}
    changed = {field: value for field, value in asked.items() if value != current[field]}
    steps = changed.get("steps", config.steps)
    if steps < step:
        raise ResumeRefused(f"--steps {steps}: the checkpoint is already at step {step}; pass --steps {step} "
                            f"or more (the step to reach)")
    if not changed:
        return Plan({}, ())
    # pin the horizons: the schedules keep the end they had, whatever --steps says now
    changes = {**changed, "lr_until": config.lr_end, "momentum_until": config.momentum_end}
    if "lr" in changed and steps > step:
        changes.update(lr_since=step, lr_until=steps)     # a new decay, from here to the end
    words = ", ".join(f"{field} {current[field]!r} -> {value!r}" for field, value in changed.items())
    lines = [f"resuming at step {step} with {words} (kept in the checkpoint's list of configs)"]
    lines.append(_lr_line(config, step, steps, changed))
    return Plan(changes, tuple(line for line in lines if line))


def _lr_line(config: GANConfig, step: int, steps: int, changed: dict) -> str:
    """One line on what the lr does from here, or "" if there is nothing to say."""
    decays = config.lr_decay_to != 1.0
    if "lr" in changed:
        lr = changed["lr"]
        if not decays or steps == step:
            return f"lr: {lr:g} from step {step} on (the new --lr)"
        return (f"lr: a new schedule from the new --lr, {lr:g} at step {step}, decaying linearly to "
                f"{lr * config.lr_decay_to:g} at step {steps}")
    final = config.lr * config.lr_decay_to
    if decays and "steps" in changed and steps > config.lr_end:
        return (f"lr: --steps {steps} is past the lr schedule's end (step {config.lr_end}), so from step "
                f"{max(step, config.lr_end)} on the lr stays at its final value {final:g}; "
                f"pass --lr to start a new schedule")
    if decays and "steps" in changed and steps < config.lr_end:
        fraction = (steps - config.lr_since) / (config.lr_end - config.lr_since)
        return (f"lr: the lr schedule keeps its end at step {config.lr_end}, so the run stops at lr "
                f"{config.lr + (final - config.lr) * fraction:g}, not at its final value {final:g}")
    return ""
