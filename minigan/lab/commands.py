"""What each click of the page does: the commands the worker runs, and the answer the server's
thread gives the moment a click arrives. ``Lab`` (worker.py) is a ``Commands``: these methods
use its state (``settings``, ``model``, ``playing``, ``update_started``, ...) and ``publish``.

    run_command(command)   on the worker thread, between updates: play, pause, set, reset, ...
    acknowledge(command)   on the server's thread, at once: pause acts; any other click hears it
                           is queued, and whether it waits for a long update under way

A click must be answered within 200 ms whatever the settings, and at the largest ones (m 4096,
k 20, four 512-wide layers) one D update takes seconds: so the answer never waits on the
worker, and never depends on how far the worker has got (under load it may not yet have run
"play", or may be early in a new run's first update, with no update time known yet).
"""
from __future__ import annotations

import time

from minigan import data, gan, losses, optim
from minigan.lab import saving
from minigan.lab.frames import FrameBuilder
from minigan.lab.settings import LIVE, LabSettings


class Commands:
    """The page's commands, run by the worker, and the server's immediate answer to each."""

    def run_command(self, command: dict) -> None:
        """What each command from the page does."""
        if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
            raise ValueError(f"command: got {command!r:.80}, wanted an object with a 'cmd' string")
        name = command["cmd"]
        # A click may change what an iteration costs (m, k, the networks), so play goes on update
        # by update until an iteration is timed again: 3 iterations, a 10 ms piece at the default
        # settings, are 60 D updates and minutes at m 4096, k 20 and four 512-wide layers.
        self.piece = 1
        if name == "noop":
            return
        if name == "hello":                          # a page (re)connected: everything, from the start
            self.publish(self.settings_message())
            self.dirty, self.with_reals, self.with_history = True, True, True
        elif name == "slow":                         # the slow-motion toggle
            self.slow = bool(command.get("value"))
            self.last_substep = 0.0
            self.publish(self.state_message())
        elif name == "play":
            self.needs_data()
            self.playing = True
            self.publish(self.state_message())       # training starts now (the page's answer came at once)
        elif name == "pause":
            self.playing = False
            self.dirty = True
            self.publish(self.state_message())
        elif name in ("step-d", "step-g", "step-iter"):
            self.needs_data()
            self.playing = False
            self.partial = None                      # the buttons start from a whole iteration
            self.single_step(name)
        elif name == "reset":
            self.playing = False
            self.rebuild()
        elif name == "set":
            self.change(command.get("name"), command.get("value"))
        elif name == "dataset":
            keep = {"seed": self.settings.seed, "backend": self.settings.backend, "points": self.settings.points}
            self.settings = LabSettings.for_dataset(command.get("value"), **keep)
            self.playing = False
            self.rebuild()
        elif name == "save":
            path = saving.save_run(self.model, self.settings, self.history.as_columns(), self.snapshots.frames,
                                   self.out)
            self.publish({"type": "saved", "folder": path})
        else:
            raise ValueError(f"cmd: got {name!r}, wanted one of hello, play, pause, slow, step-d, step-g, "
                             f"step-iter, reset, set, dataset, save")

    def needs_data(self) -> None:
        if self.settings.dataset == "drawn" and not self.settings.points:
            self.playing = False
            raise ValueError("points: got none, wanted some drawn points first (click or drag on the view)")

    def change(self, name, value) -> None:
        """One setting changed: applied to the running GAN (LIVE), or a new run."""
        self.settings = self.settings.changed(name, value)
        if name not in LIVE:
            self.playing = False
            self.rebuild()
            return
        model, s = self.model, self.settings
        if name == "lr_d":
            model.opt_D.lr = s.lr_d
        elif name == "lr_g":
            model.opt_G.lr = s.lr_g
        elif name == "optimizer":                    # a new optimizer starts with an empty state
            model.opt_G, model.opt_D = self.optimizer(model.G, s.lr_g), self.optimizer(model.D, s.lr_d)
        elif name == "noise":
            model.p_z = data.normal_noise(s.noise_dim) if s.noise == "normal" else data.uniform_noise(s.noise_dim)
        elif name == "loss":                         # G's loss, and the D loss that goes with it
            model.loss, model.d_form = s.loss, losses.DISCRIMINATOR_FORM[s.loss]
        else:                                        # k, m: plain attributes of the GAN
            setattr(model, name, getattr(s, name))
        field = {"lr_g": "lr", "lr_d": None}.get(name, name)
        if field is not None:                        # the config in force from this step on, as resume keeps it
            model.config = model.config.replace(**{field: getattr(s, name)})
            entry = {"step": model.step, "config": model.config.to_dict()}
            if model.step == 0:                      # nothing trained yet: this is the run's first config
                model.configs, model.run_id = [entry], gan.run_id(model.config)
            else:                                    # one entry per step: the last change at a step wins
                model.configs = [c for c in model.configs if c["step"] != model.step] + [entry]
        if name == "noise":
            self.frames = FrameBuilder(model, s, seed=s.seed)
            self.with_reals = True
        self.publish(self.settings_message())
        self.dirty = True

    def optimizer(self, module, lr):
        config = self.model.config
        if self.settings.optimizer == "adam":
            return optim.Adam(module.parameters(), lr=lr, betas=config.betas)
        return optim.SGD(module.parameters(), lr=lr, momentum=config.momentum)

    # ---- the answer at once, from the server's thread -------------------------------------------
    def update_seconds(self) -> float:
        """How long one update takes now: the last one, or the one under way if it is longer."""
        started = self.update_started
        return max(self.step_seconds, time.perf_counter() - started if started is not None else 0.0)

    def pause_now(self) -> None:
        """Pause from the server's thread, the moment the click arrives: the worker stops after
        the update under way (at the largest settings one D update takes seconds) and runs the
        "pause" command queued behind this; the page is told at once."""
        self.playing = False
        self.publish(self.state_message())

    def acknowledge(self, command: dict) -> None:
        """From the server's thread, as a command arrives: every click is answered at once.
        Pause acts there and then; any other command is queued for the worker, and the answer
        ("queued") says whether it waits for a long update ("waits", about "update_seconds").
        It says nothing of playing: that is the worker's to say, once it runs the command."""
        name = command.get("cmd")
        if name in ("hello", "noop"):
            return
        if name == "pause":
            self.pause_now()
            return
        self.publish({"type": "state", "step": self.model.step, "queued": str(name)[:20], "waits": self.long_update(),
                      "update_seconds": round(self.update_seconds(), 3)})

    def long_update(self) -> bool:
        """Whether a click waits longer than it may (200 ms) for the worker: an update under way
        has run 0.1 s, or updates take over 0.2 s here and the worker goes on with them."""
        started = self.update_started
        if started is not None and time.perf_counter() - started > 0.1:
            return True
        return self.step_seconds > 0.2 and (self.playing or started is not None)
