"""The lab's frames: what the page draws, computed with minigan itself.

A frame is a dict of plain numbers (sent to the page as JSON). For 2-D data, with the view
the square [low, high]^2 (``LabSettings.view``):

    heatmap   (cells, cells) D(x) = gan.discriminate(x) at the centre of each cell; row i is
              the i-th cell from the bottom (y), column j the j-th from the left (x)
    manifold  (rows, cols, 2) G on a grid in z-space: the image of the grid's lines under G.
              z is 2-D for noise_dim >= 2 (a slice: the other coordinates 0), a line for 1
    fakes     (n, 2) G(z) on fixed noise (the same z every frame: G moves, not z)
    arrows    (n_arrows, 2) -grad_x of G's loss at the first n_arrows fakes: where each fake
              is pushed to lower G's loss (autograd: x.requires_grad, loss.backward)
    reals     (n, 2) samples of p_data (sent when the data changes)

For 1-D data (a strip) each point has one coordinate: heatmap (cells,), manifold (1, cols, 1),
fakes (n, 1), arrows (n_arrows, 1). ``coverage`` gives modes covered and the high-quality
fraction (minigan.judging.metrics.mode_coverage on metrics.N_SAMPLES samples, as VEEGAN counts them);
``js`` the Jensen-Shannon divergence between p_data and p_g on a grid (2-D data, ``js_divergence``).
"""
from __future__ import annotations

import math

import numpy as np

from minigan import losses

from minigan.judging import metrics
from minigan.autograd import Tensor, no_grad
from minigan.lab.settings import mode_centres

HEAT_CELLS = 32         # the heatmap is HEAT_CELLS x HEAT_CELLS (a strip: HEAT_CELLS columns)
MANIFOLD_LINES = 15     # the z-grid has this many lines each way
N_FAKES = N_REALS = 400
N_ARROWS = 48
JS_CELLS = 24           # the Jensen-Shannon estimate's grid is JS_CELLS x JS_CELLS cells over the view
Z_RANGE = {"normal": 2.0, "uniform": math.sqrt(3.0)}   # the z-grid spans [-r, r]: most of p_z's mass


class FrameBuilder:
    """Computes the pictures of one GAN for one lab setting; ``frame`` puts them together."""

    def __init__(self, model, settings, seed: int = 0):
        self.model, self.settings = model, settings
        backend = model.backend
        self.dim = model.p_data.dim
        self.low, self.high = settings.view()
        self.centres, self.std = mode_centres(settings, model.p_data)
        # noise and data drawn from generators of their own: looking never changes training
        self.z_fakes = model.p_z.sample(N_FAKES, backend.random(seed + 101))             # (N_FAKES, noise_dim)
        self.reals = backend.to_host(model.p_data.sample(N_REALS, backend.random(seed + 102)))  # (N_REALS, dim)
        if settings.dataset == "drawn" and not settings.points:
            self.reals = np.zeros((0, 2))                  # nothing drawn yet (the GAN holds the ring meanwhile)
        self.grid = self.heat_points()                                                  # (cells^dim, dim)
        self.z_grid = self.manifold_noise()                                             # (rows, cols, noise_dim)

    # ---- where things are computed --------------------------------------------------------
    def cell_centres(self) -> np.ndarray:
        """The HEAT_CELLS centres of the cells along one axis of the view."""
        width = (self.high - self.low) / HEAT_CELLS
        return self.low + width * (np.arange(HEAT_CELLS) + 0.5)

    def heat_points(self) -> np.ndarray:
        """The points D is evaluated at: (cells, 1) on a strip; (cells * cells, 2) row by row
        from the bottom, x varying fastest."""
        c = self.cell_centres()
        if self.dim == 1:
            return c[:, None]
        ys, xs = np.meshgrid(c, c, indexing="ij")                  # (cells, cells): [i, j] = (c[j], c[i])
        return np.stack([xs.ravel(), ys.ravel()], axis=1)

    def manifold_noise(self) -> np.ndarray:
        """The z-grid (rows, cols, noise_dim): a 2-D slice of z-space (coordinates 3.. are 0)."""
        noise_dim = self.model.p_z.dim
        r = Z_RANGE[self.model.config.noise]
        ticks = np.linspace(-r, r, MANIFOLD_LINES)
        if noise_dim == 1:
            return ticks.reshape(1, -1, 1)                         # one line of z values
        z = np.zeros((MANIFOLD_LINES, MANIFOLD_LINES, noise_dim))
        z[:, :, 1], z[:, :, 0] = np.meshgrid(ticks, ticks, indexing="ij")   # [i, j] = (ticks[j], ticks[i], 0, ...)
        return z

    # ---- what is computed -----------------------------------------------------------------
    def heatmap(self) -> np.ndarray:
        """D(x) on the grid: (cells,) on a strip, (cells, cells) in 2-D (row 0 at the bottom)."""
        d = self.model.discriminate(self.grid)                     # (cells^dim,)
        return d if self.dim == 1 else d.reshape(HEAT_CELLS, HEAT_CELLS)

    def generate(self, z) -> np.ndarray:
        """G(z) for host or backend noise z (n, noise_dim), as a host array (n, dim)."""
        backend = self.model.backend
        with no_grad():
            x = self.model.G(Tensor(backend.asarray(z, dtype=backend.default_float), backend))
        return x.numpy()

    def manifold(self) -> np.ndarray:
        """G on the z-grid: (rows, cols, dim)."""
        rows, cols, noise_dim = self.z_grid.shape
        return self.generate(self.z_grid.reshape(-1, noise_dim)).reshape(rows, cols, self.dim)

    def fakes(self) -> np.ndarray:
        return self.generate(self.z_fakes)

    def arrows(self, fakes: np.ndarray) -> np.ndarray:
        """-grad_x of G's loss (its form as the GAN trains it) on the first N_ARROWS fakes.

        The loss is the mean over those fakes, as in a generator step on a minibatch of
        them, so each arrow is 1/N_ARROWS of that fake's own -d loss/dx.
        """
        model, backend = self.model, self.model.backend
        x = Tensor(backend.asarray(fakes[:N_ARROWS], dtype=backend.default_float), backend, requires_grad=True)
        loss_G = losses.generator_loss(model.D(x), form=model.loss)   # D's parameters are not updated here
        loss_G.backward(inputs=[x])                                    # d loss / dx only
        return -backend.to_host(x.grad.data if isinstance(x.grad, Tensor) else x.grad)

    def coverage(self) -> metrics.ModeCoverage:
        """Modes covered and the high-quality fraction of metrics.N_SAMPLES samples of G."""
        return metrics.mode_coverage(self.model.generate(metrics.N_SAMPLES, seed=self.settings.seed),
                                     self.centres, self.std)

    def measure(self):
        """(ModeCoverage, JSD estimate or None) of one set of metrics.N_SAMPLES samples of G."""
        samples = self.model.generate(metrics.N_SAMPLES, seed=self.settings.seed)
        return metrics.mode_coverage(samples, self.centres, self.std), self.js_divergence(samples)

    def js_divergence(self, samples) -> float | None:
        """JSD(p_data || p_g) in nats (0 to log 2), estimated on a JS_CELLS x JS_CELLS grid over
        the view plus one cell for everything outside it; None unless the data is 2-D with a
        known density (the ring, the grid, drawn points: mixtures of round Gaussians).

        p_data's mass in a cell is exact: for N(c, s^2 I) it is the product of the normal
        CDF's differences across the cell's edges in x and in y, averaged over the modes.
        p_g's is the share of G's samples in the cell. Counting samples makes even samples of
        p_data itself score a little above 0 (tests/test_lab.py: under 0.01 on the ring and grid).
        """
        p_data = self.model.p_data
        if self.dim != 2 or not len(self.centres) or not hasattr(p_data, "centres"):
            return None
        edges = np.linspace(self.low, self.high, JS_CELLS + 1)                        # (cells + 1,)
        cdf = np.vectorize(lambda t: 0.5 * math.erfc(-t / math.sqrt(2.0)))            # the normal CDF
        centres = np.asarray(p_data.centres, dtype=np.float64)                        # (modes, 2)
        across = np.diff(cdf((edges[None, :, None] - centres[:, None, :]) / p_data.std), axis=1)  # (modes, cells, 2)
        p = np.einsum("mi,mj->ij", across[:, :, 1], across[:, :, 0]) / len(centres)   # (cells y, cells x)
        x = np.asarray(samples, dtype=np.float64)
        q, _, _ = np.histogram2d(x[:, 1], x[:, 0], bins=[edges, edges])                # (cells y, cells x)
        q = q / len(x)
        return metrics.js_divergence(np.append(p.ravel(), max(0.0, 1.0 - p.sum())),
                                     np.append(q.ravel(), max(0.0, 1.0 - q.sum())))

    def overview(self) -> dict:
        """The model overview's numbers: the layer widths of G and D and the noise."""
        config = self.model.config
        return {"noise_dim": config.noise_dim, "noise": config.noise, "dim": self.dim,
                "g_layers": [config.noise_dim, *config.g_hidden, self.dim],
                "d_layers": [self.dim, *config.d_hidden, 1]}

    def frame(self, records: list, phase: str | None, coverage=None, with_reals: bool = False, js=None) -> dict:
        """One frame: the pictures, the newest numbers, and the chart rows since the last frame.

        records   dicts of the steps (or single D/G updates) done since the last frame
        phase     "D", "G", "iteration" (the network just updated in step mode) or None (playing)
        coverage  a ModeCoverage to report (computed less often than frames: it takes 2,500 samples)
        """
        fakes = self.fakes()
        frame = {"type": "frame", "step": self.model.step, "phase": phase, "dim": self.dim,
                 "view": [self.low, self.high], "heatmap": self.heatmap(), "manifold": self.manifold(),
                 "fakes": fakes, "arrows": self.arrows(fakes), "records": records,
                 "lr_d": float(self.model.opt_D.lr), "lr_g": float(self.model.opt_G.lr)}
        if coverage is not None:
            frame["modes"] = [coverage.modes_covered, coverage.modes_total]
            frame["high_quality"] = coverage.high_quality_fraction
        if js is not None:
            frame["js"] = js
        if with_reals:
            frame["reals"] = self.reals
            frame["centres"] = self.centres
            frame["overview"] = self.overview()
        return frame


def to_json_ready(frame: dict, digits: int = 3) -> dict:
    """The frame with every array as nested lists of rounded floats (what json.dumps takes;
    a NaN of a diverged run becomes 0, since JSON has no NaN)."""
    return {key: np.round(np.nan_to_num(np.asarray(value, dtype=np.float64)), digits).tolist() if isinstance(value, np.ndarray)
            else value for key, value in frame.items()}
