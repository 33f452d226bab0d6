"""The lab's worker: one thread that owns the GAN, trains it, and builds the frames.

The page's clicks arrive as commands (``Lab.post``: a thread-safe queue); the worker runs
them between pieces of training, so the GAN is only ever touched by this one thread and no
lock is needed. Training is the unchanged Algorithm 1: ``GAN.train`` (hence
``GAN.train_step``) in short pieces while playing, ``GAN.discriminator_step`` and
``GAN.generator_step`` for the slow-motion buttons.

    lab = Lab(LabSettings(), publish=print_or_send, out="minigan-lab-runs")
    lab.start()                          # the thread
    lab.post({"cmd": "play"})
    ...
    lab.stop()

``publish(message)`` gets each message for the page as a dict ("frame", "settings",
"state", "saved", "error"); it is called from the worker thread, and from the server's
thread for the answer to a click (``acknowledge``). A frame is built at most
``FPS`` times a second, and only once the server says it has sent the last one
(``frame_wanted``): a slow page gets fewer frames, never a queue of old ones, and
training goes on meanwhile.

What each command does, and the answer the server's thread gives every click at once
(``acknowledge``: it never waits on training), are in commands.py.
"""
from __future__ import annotations

import contextlib
import math
import queue
import threading
import time

import numpy as np
from minigan import gan, losses, threads
from minigan.gan import callbacks

from minigan.runs import folders
from minigan.lab import snippet
from minigan.lab.commands import Commands
from minigan.lab.frames import FrameBuilder
from minigan.lab.history import ChartHistory
from minigan.lab.recording import Recorder, ThinnedSnapshots, finite, mean_sigmoid
from minigan.lab.settings import DATASETS, OPTIMIZERS, NOISES, LabSettings

FPS = 30                   # frames a second at most
PIECE_SECONDS = 0.01       # training runs in pieces this long, so a click waits at most about this
COVERAGE_SECONDS = 0.5     # modes covered is measured this often while playing (2,500 samples of G)
SLOW_SECONDS = 0.8         # slow motion: each sub-step (sample, a D update, the G update) shown this long


class Lab(Commands):
    """The state of one lab: its settings, its GAN, and the thread that runs it (what each
    command does, and the server's answer to it, are in commands.py)."""

    def __init__(self, settings: LabSettings, publish, out: str):
        self.settings, self.publish, self.out = settings, publish, out
        self.commands = queue.Queue()
        self.frame_wanted = threading.Event()   # set by the server when it can send a frame
        self.frame_wanted.set()
        self.playing = False
        self.slow = False                       # slow motion: one sub-step of an iteration at a time
        self.piece = 1                          # iterations in one GAN.train call while playing (sized by time)
        self.stopping = False
        self.step_seconds = 0.0                 # how long the last D or G update took (the page is told)
        self.update_started = None              # when the update under way began (None: none is)
        self.run_number = 0                     # rebuilds so far: the page starts its charts again on a new one
        self.thread = threading.Thread(target=self.run, name="minigan-lab-worker", daemon=True)
        self.rebuild()

    # ---- the thread --------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping = True
        self.commands.put({"cmd": "noop"})
        if self.thread.is_alive():
            self.thread.join(timeout)

    def post(self, command: dict) -> None:
        """Queue a command from the page (any thread)."""
        self.commands.put(command)

    def run(self) -> None:
        # One BLAS thread for the whole lab: the browser drawing the frames needs the other core
        # (a policy with a number: GAN.train's own policy stands aside inside it).
        with threads.policy(1), np.errstate(over="ignore", invalid="ignore"):
            self.last_frame, self.last_coverage, self.frame_cost = 0.0, 0.0, 0.0
            while not self.stopping:
                try:
                    self.tick()
                except Exception as error:   # the worker outlives any one failure, and the page hears of it
                    self.playing = False
                    self.publish({"type": "error", "message": f"{type(error).__name__}: {error}".splitlines()[0]})

    def tick(self) -> None:
        """Run the commands waiting, train one piece if playing, send a frame if one is due."""
        idle = not self.playing
        if idle and self.dirty and not self.frame_wanted.is_set():
            self.frame_wanted.wait(0.05)             # a frame is due: wait (briefly) for the page to take the last
        self.run_commands(block=idle and not self.dirty)
        if self.playing and self.slow:
            if time.perf_counter() - self.last_substep >= SLOW_SECONDS:
                self.slow_motion()
            else:
                self.commands_or_wait(0.02)
        elif self.playing:
            started = time.perf_counter()
            if self.piece == 1 or self.partial:     # slow iterations (or one a click cut): commands between D steps
                self.iterate()
            else:
                self.train(self.piece)
            took = time.perf_counter() - started     # size the next piece to PIECE_SECONDS
            self.piece = max(1, min(200, round(self.piece * PIECE_SECONDS / max(took, 1e-4))))
            self.dirty = True
        now = time.perf_counter()
        # at most FPS frames a second, and frames at most half the worker's time (a busy machine)
        if self.dirty and self.frame_wanted.is_set() and now - self.last_frame >= max(1.0 / FPS, 2 * self.frame_cost):
            measure = idle or now - self.last_coverage >= COVERAGE_SECONDS
            self.send_frame(measure)
            self.last_frame, self.frame_cost = now, time.perf_counter() - now
            self.last_coverage = now if measure else self.last_coverage

    def run_commands(self, block: bool) -> None:
        """Run every queued command (waiting for one if ``block``)."""
        try:
            command = self.commands.get(timeout=0.25) if block else self.commands.get_nowait()
        except queue.Empty:
            return
        while True:
            try:
                self.run_command(command)
            except (ValueError, TypeError, KeyError) as error:   # a bad command or setting: one line, nothing changed
                self.publish({"type": "error", "message": str(error).strip("'\"")})
            except gan.TrainingDiverged as error:
                self.diverged(error)
            except (OSError, folders.FolderInUse) as error:          # Save run could not write
                self.publish({"type": "error", "message": f"save: {error}"})
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return

    # ---- training ----------------------------------------------------------------------------
    def rebuild(self) -> None:
        """A new run from the settings: G, D and both optimizers made afresh, the history emptied."""
        s = self.settings
        model = gan.build(s.config())                # drawn data: dataset "points", the ring's networks
        model.opt_D.lr = s.lr_d
        self.model = model
        self.frames = FrameBuilder(model, s, seed=s.seed)
        self.history, self.recorder = callbacks.History(), Recorder()
        self.snapshots = ThinnedSnapshots(50, 500, s.seed)
        self.snapshots.take(model)
        self.step_seconds = 0.0                  # the old networks' update time says nothing of these
        self.piece = 1                           # and their iterations are timed afresh
        self.phase = None
        self.partial = None                      # (D updates done, the last one's outputs) of an iteration begun
        self.charts = ChartHistory()
        self.run_number += 1
        self.dirty, self.with_reals, self.with_history = True, True, True
        self.publish(self.settings_message())

    def train(self, steps: int) -> None:
        """``steps`` iterations of Algorithm 1 (GAN.train: k D steps, one G step, each)."""
        try:
            self.model.train(steps, callbacks=[self.history, self.recorder, self.snapshots])
        except gan.TrainingDiverged as error:
            self.diverged(error)
        self.phase = None

    def substep(self) -> str:
        """The next update of the iteration under way: one of its k D steps, or the G step that
        ends it ("D" or "G"). Algorithm 1 as GAN.train_step runs it, cut where the page may
        speak: an iteration at the largest settings takes seconds, a click must not wait for it."""
        model = self.model
        done, last = self.partial or (0, None)
        if done < model.k:
            with self.update_under_way():
                last = model.discriminator_step()    # (loss_D, real logits, fake logits)
            self.partial = (done + 1, last)
            return "D"
        with self.update_under_way():
            loss_G = model.generator_step()
        self.partial = None
        model.step += 1
        loss_D, real, fake = last
        record = model.record(loss_D, loss_G, real, fake)
        values = record.to_floats()
        for name in ("d_loss", "g_loss"):
            if not math.isfinite(values[name]):
                self.diverged(model.diverged(f"{name} is {values[name]} at step {record.step}"))
        for callback in (self.history, self.recorder, self.snapshots):
            callback.on_step(model, record)
        return "G"

    @contextlib.contextmanager
    def update_under_way(self):
        """Times the update inside (a D or G update, or a "one iteration" click): the server's
        thread reads ``update_started`` and ``step_seconds`` to tell a click how long it waits."""
        self.update_started = started = time.perf_counter()
        try:
            yield
        finally:
            self.step_seconds, self.update_started = time.perf_counter() - started, None

    def iterate(self) -> None:
        """Sub-steps until the iteration ends, or a command waits (it runs; the iteration goes on after)."""
        while self.playing and self.substep() == "D":
            if not self.commands.empty():
                return

    def slow_motion(self) -> None:
        """Slow motion: the next sub-step of the iteration, shown on its own (frame phase
        "sample", "D" or "G"): first the minibatch drawn, then each D update, then G's."""
        if self.phase not in ("sample", "D") or self.partial is None and self.phase == "D":
            self.phase = "sample"                    # x ~ p_data and z ~ p_z: what the next updates use
        else:
            self.phase = self.substep()
            if self.phase == "D":                    # the chart shows each D update
                loss_D, real, fake = self.partial[1]
                self.recorder.rows.append(self.d_row(loss_D, real, fake))
        self.last_substep = time.perf_counter()
        self.dirty = True

    def d_row(self, loss_D, real, fake) -> dict:
        return finite({"kind": "D", "step": self.model.step, "d_loss": float(loss_D.data), "value": -float(loss_D.data),
                       "d_real": mean_sigmoid(real), "d_fake": mean_sigmoid(fake)})

    def commands_or_wait(self, seconds: float) -> None:
        """Wait up to ``seconds`` for a command (slow motion's pauses stay responsive)."""
        try:
            command = self.commands.get(timeout=seconds)
        except queue.Empty:
            return
        self.commands.put(command)                   # run in order with the others, at once
        self.run_commands(block=False)

    def single_step(self, name: str) -> None:
        """One D update, one G update, or one whole iteration, for the slow-motion buttons."""
        model = self.model
        if name == "step-iter":
            with self.update_under_way():
                self.train(1)
            self.phase = "iteration"
        elif name == "step-d":
            with self.update_under_way():
                loss_D, real, fake = model.discriminator_step()
            self.recorder.rows.append(self.d_row(loss_D, real, fake))
            self.phase = "D"
        else:
            with self.update_under_way():
                loss_G = model.generator_step()
            self.recorder.rows.append(finite({"kind": "G", "step": model.step, "g_loss": float(loss_G.data)}))
            self.phase = "G"
        self.dirty = True

    def diverged(self, error) -> None:
        self.playing = False
        self.publish({"type": "error", "message": f"training diverged: {error.args[0].split('; last good')[0]}; "
                                                  f"press reset, or lower the learning rates"})

    # ---- what the page gets ------------------------------------------------------------------
    def send_frame(self, measure: bool) -> None:
        coverage, js = self.frames.measure() if measure and len(self.frames.centres) else (None, None)
        rows, self.recorder.rows = self.recorder.rows, []
        frame = self.frames.frame(rows, self.phase if not self.playing or self.slow else None, coverage=coverage,
                                  with_reals=self.with_reals, js=js)
        frame["run"] = self.run_number
        self.charts.add_records(rows)                # the server's copy of the page's charts
        if coverage is not None:
            self.charts.add("modes", self.model.step, coverage.modes_covered / max(coverage.modes_total, 1))
            self.charts.add("hq", self.model.step, coverage.high_quality_fraction)
        if js is not None:
            self.charts.add("js", self.model.step, js)
        if self.with_history:                        # a page that (re)connected: the charts so far
            frame["history"] = self.charts.series
        frame["playing"], frame["slow"] = self.playing, self.slow
        self.dirty, self.with_reals, self.with_history = False, False, False
        self.frame_wanted.clear()
        self.publish(frame)

    def state_message(self) -> dict:
        """Whether the lab plays, in slow motion or not, and how long one update takes now."""
        return {"type": "state", "playing": self.playing, "slow": self.slow, "step": self.model.step,
                "update_seconds": round(self.update_seconds(), 3)}

    def settings_message(self) -> dict:
        return {"type": "settings", "settings": self.settings.to_dict(), "code": snippet.code(self.settings),
                "options": {"dataset": DATASETS, "optimizer": OPTIMIZERS, "noise": NOISES,
                            "loss": list(losses.GENERATOR_FORMS)},
                "run_id": self.model.run_id, "out": self.out}
