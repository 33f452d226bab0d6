"""minigan.judging.plot: every figure is a real, non-blank PNG; the GIF animates; writes are atomic."""
import math

import numpy as np
import pytest
from matplotlib import image as mpimg
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from minigan.judging import plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_real_png(path):
    """A PNG file whose pixels are not all one colour (a picture, not a blank canvas)."""
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    pixels = mpimg.imread(path)                                  # (h, w, 3 or 4) floats in [0, 1]
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(np.var(pixels[..., :3])) > 1e-3
    colours = np.unique(np.round(pixels[..., :3].reshape(-1, 3) * 255), axis=0)
    assert len(colours) > 20                                      # lines, text, points: many colours


def history(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return [{"step": i + 1, "d_loss": 1.3 + 0.1 * rng.normal(), "g_loss": 0.7 + 0.1 * rng.normal(),
             "value": -1.3 + 0.1 * rng.normal(), "d_real": 0.6 + 0.05 * rng.normal(),
             "d_fake": 0.4 + 0.05 * rng.normal(), "g_grad_norm": 0.5 + abs(rng.normal())} for i in range(n)]


def ring_points(n, seed=0, noise=0.02):
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * rng.integers(0, 8, n) / 8
    return np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=1) + noise * rng.normal(size=(n, 2))


def near_ring(points):
    """A made-up D(x): high near the circle of radius 2."""
    return 1.0 / (1.0 + np.exp(5.0 * (np.linalg.norm(points, axis=1) - 2.0) ** 2 - 2.0))


def normal_density(x, mean=4.0, std=0.5):
    return np.exp(-0.5 * ((np.asarray(x) - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def test_losses_figure(tmp_path):
    path = plot.plot_losses(history(), tmp_path / "losses.png")
    assert_real_png(path)


def test_losses_figure_accepts_columns(tmp_path):
    records = history(50)
    columns = {name: [r[name] for r in records] for name in records[0]}
    assert_real_png(plot.plot_losses(columns, tmp_path / "losses.png"))


def test_discriminator_figure_with_and_without_grad_norm(tmp_path):
    assert_real_png(plot.plot_discriminator(history(), tmp_path / "d.png"))
    short = [{k: v for k, v in r.items() if k != "g_grad_norm"} for r in history(20)]
    assert_real_png(plot.plot_discriminator(short, tmp_path / "d2.png"))


def test_samples_2d_figure(tmp_path):
    real, fake = ring_points(1000, 0), ring_points(1000, 1, noise=0.1)
    centres = ring_points(8, 2, noise=0.0)
    assert_real_png(plot.plot_samples_2d(real, fake, tmp_path / "s.png", discriminator=near_ring, centres=centres))
    assert_real_png(plot.plot_samples_2d(real, fake, tmp_path / "s2.png"))


def test_samples_1d_figure(tmp_path):
    rng = np.random.default_rng(0)
    real, fake = rng.normal(4.0, 0.5, 1000), rng.normal(3.5, 0.8, (1000, 1))
    d = lambda x: 1.0 / (1.0 + np.exp(-(x[:, 0] - 4.0)))  # noqa: E731
    assert_real_png(plot.plot_samples_1d(real, fake, tmp_path / "g.png", density=normal_density, discriminator=d))


def test_digits_figure(tmp_path):
    rng = np.random.default_rng(0)
    fake, real = np.tanh(rng.normal(size=(100, 64))), np.tanh(rng.normal(size=(100, 64)))
    assert_real_png(plot.plot_digits(fake, tmp_path / "digits.png", real=real, title="test"))


@pytest.mark.parametrize("dim", [1, 2, 64])
def test_training_gif_has_one_frame_per_snapshot(tmp_path, dim):
    rng = np.random.default_rng(dim)
    if dim == 2:
        real = ring_points(500)
        snapshots = [(s, ring_points(300, s, noise=1.0 / (s + 1))) for s in range(5)]
    elif dim == 1:
        real = rng.normal(4.0, 0.5, (500, 1))
        snapshots = [(s, rng.normal(s, 1.0, (300, 1))) for s in range(5)]
    else:
        real = None
        snapshots = [(s, np.tanh(rng.normal(size=(64, 64)) * s)) for s in range(5)]
    path = plot.save_training_gif(snapshots, tmp_path / "training.gif", real=real, density=None)
    with open(path, "rb") as f:
        assert f.read(6) == b"GIF89a"
    with Image.open(path) as gif:
        assert gif.n_frames == 5
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB"), dtype=np.float64))
    assert all(float(np.var(frame)) > 1.0 for frame in frames)      # not blank
    assert any(np.abs(frames[0] - frame).sum() > 0 for frame in frames[1:])   # it moves
    assert [p.name for p in tmp_path.iterdir()] == ["training.gif"]  # no temporary file left


def test_kde_integrates_to_one_and_peaks_at_the_mean():
    samples = np.random.default_rng(0).normal(1.0, 0.5, 4000)
    xs = np.linspace(-3.0, 5.0, 2001)
    p = plot.gaussian_kde_1d(samples, xs)
    assert np.trapezoid(p, xs) == pytest.approx(1.0, abs=1e-3)
    # a sum of Gaussians centred on the samples: its mean is the samples' mean
    assert np.trapezoid(xs * p, xs) == pytest.approx(samples.mean(), abs=1e-3)
    assert np.max(p) == pytest.approx(normal_density(1.0, 1.0, 0.5), rel=0.1)


def test_image_grid_places_each_image_in_its_cell():
    images = np.stack([np.full(64, i, dtype=float) for i in range(5)])   # image i is all i
    grid = plot.image_grid(images, columns=3, pad=1)
    assert grid.shape == (2 * 9 + 1, 3 * 9 + 1)
    assert np.all(grid[1:9, 1:9] == 0) and np.all(grid[1:9, 10:18] == 1) and np.all(grid[10:18, 10:18] == 4)
    assert np.isnan(grid[10:18, 19:27]).all()                       # the empty sixth cell
    assert np.isnan(grid[0]).all()                                  # padding


def test_a_failed_drawing_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "samples.png"
    path.write_bytes(b"the previous figure")

    def broken(points):
        raise RuntimeError("D exploded")

    with pytest.raises(RuntimeError, match="D exploded"):
        plot.plot_samples_2d(ring_points(100), ring_points(100, 1), path, discriminator=broken)
    assert path.read_bytes() == b"the previous figure"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.png"]


def test_a_figure_replaces_the_old_one(tmp_path):
    path = tmp_path / "losses.png"
    path.write_bytes(b"old")
    plot.plot_losses(history(30), path)
    assert_real_png(path)


@pytest.mark.parametrize("call, message", [
    (lambda p: plot.plot_losses([{"step": 1}], p / "l.png"), "history: has no field 'd_loss'"),
    (lambda p: plot.plot_losses([], p / "l.png"), "history"),
    (lambda p: plot.plot_losses(history(5), p / "l.jpg"), "path: .*wanted a file name ending in .png"),
    (lambda p: plot.plot_samples_2d(np.zeros((5, 3)), np.zeros((5, 2)), p / "s.png"), r"real: got shape \(5, 3\)"),
    (lambda p: plot.plot_samples_2d(np.zeros((5, 2)), np.zeros((0, 2)), p / "s.png"), "fake: got shape"),
    (lambda p: plot.plot_digits(np.zeros((4, 63)), p / "d.png"), r"fake: got shape \(4, 63\)"),
    (lambda p: plot.save_training_gif([], p / "t.gif"), "snapshots: got an empty list"),
    (lambda p: plot.save_training_gif([(0, np.zeros((4, 2)))], p / "t.gif"), "real: got None"),
    (lambda p: plot.save_training_gif([(0, np.zeros((4, 2))), (1, np.zeros((4, 1)))], p / "t.gif",
                                      real=np.zeros((4, 2))), "snapshots: samples have dimension"),
    (lambda p: plot.save_training_gif([(0, np.zeros((4, 64)))], p / "t.gif", fps=0), "fps: got 0"),
])
def test_bad_inputs_name_the_argument(tmp_path, call, message):
    with pytest.raises(ValueError, match=message):
        call(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_device_arrays_are_refused_with_a_hint(tmp_path):
    with pytest.raises(TypeError, match="wanted a NumPy array"):
        plot.plot_samples_2d([[0.0, 0.0]], np.zeros((3, 2)), tmp_path / "s.png")


# ---- figures a student can read at a glance ---------------------------------------------------
def drawn_figure(monkeypatch, draw):
    """Run ``draw`` with save_figure replaced, and return the Figure it would have saved."""
    figures = []
    monkeypatch.setattr(plot, "save_figure", lambda fig, path, dpi=100: figures.append(fig) or str(path))
    draw()
    (fig,) = figures
    FigureCanvasAgg(fig).draw()  # lay it out, as saving would
    return fig


def boxes_overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


FIGURES = {
    "losses": lambda p: plot.plot_losses(history(), p),
    "discriminator": lambda p: plot.plot_discriminator(history(), p),
    "samples_2d": lambda p: plot.plot_samples_2d(ring_points(500, 0), ring_points(500, 1, noise=0.1), p,
                                                 discriminator=near_ring, centres=ring_points(8, 2, noise=0.0),
                                                 title="ring, step 3000: the title of a run"),
    "samples_1d": lambda p: plot.plot_samples_1d(np.random.default_rng(0).normal(4.0, 0.5, 500),
                                                 np.random.default_rng(1).normal(3.5, 0.8, 500), p,
                                                 density=normal_density,
                                                 discriminator=lambda x: 1.0 / (1.0 + np.exp(-(x[:, 0] - 4.0)))),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_plot_has_axis_labels_a_legend_beside_the_data_and_titles_that_fit(monkeypatch, tmp_path, name):
    fig = drawn_figure(monkeypatch, lambda: FIGURES[name](tmp_path / f"{name}.png"))
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    plots = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    for ax in plots:
        assert ax.get_ylabel(), f"{name}: an axes without a y label"
        legend = ax.get_legend()
        assert legend is not None, f"{name}: an axes without a legend"
        box = legend.get_window_extent(renderer)
        for other in plots:  # beside the axes, so it can cover no line or point
            assert not boxes_overlap(box, other.get_window_extent(renderer)), f"{name}: the legend covers an axes"
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
        title = ax.title.get_window_extent(renderer)
        if ax.get_title():
            assert page.x0 <= title.x0 and title.x1 <= page.x1 and title.y1 <= page.y1, f"{name}: a clipped title"
    assert plots[-1].get_xlabel(), f"{name}: no x label"


def test_generated_points_are_drawn_above_the_real_ones_and_modes_are_thin_outlines(monkeypatch, tmp_path):
    fig = drawn_figure(monkeypatch, lambda: FIGURES["samples_2d"](tmp_path / "s.png"))
    ax = fig.axes[0]
    layers = {c.get_label(): c for c in ax.collections if c.get_label()}
    real, fake, modes = layers["real x ~ p_data"], layers["generated G(z)"], layers["mode centres"]
    assert real.get_zorder() < fake.get_zorder() < modes.get_zorder()   # G's samples are what we look at
    assert fake.get_alpha() < 0.6                                      # see-through: a crowd reads as dense
    assert real.get_sizes()[0] < fake.get_sizes()[0]                    # the data: small points beneath
    assert len(modes.get_facecolors()) == 0 and modes.get_linewidths()[0] <= 1.0   # thin, unfilled
    assert ax.get_xlabel() and ax.get_ylabel()


def test_mode_circles_of_a_radius_are_outlines_of_that_radius(monkeypatch, tmp_path):
    centres = ring_points(8, 2, noise=0.0)
    fig = drawn_figure(monkeypatch, lambda: plot.plot_samples_2d(ring_points(300), ring_points(300, 1), tmp_path / "s.png",
                                                                 centres=centres, radius=0.06))
    circles = fig.axes[0].patches
    assert len(circles) == 8 and all(c.get_radius() == 0.06 and not c.get_fill() for c in circles)
    assert all(c.get_zorder() > 3 for c in circles)


# ---- figures that fit the loss form ---------------------------------------------------------------
FORMS = ("non_saturating", "minimax", "lsgan", "wgan", "hinge")


def legend_labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def horizontal_lines(ax):
    """{y: label} of the axhline lines on ``ax`` (a Line2D whose x runs over the axes, 0 to 1)."""
    return {float(line.get_ydata()[0]): line.get_label() for line in ax.lines
            if list(line.get_xdata()) == [0, 1] and line.get_ydata()[0] == line.get_ydata()[1]}


def critic_history(n=100, seed=0):
    """Records as a wgan critic reports them: raw scores, far outside [0, 1]."""
    rng = np.random.default_rng(seed)
    return [{"step": i + 1, "d_loss": -3.0 + rng.normal(), "g_loss": 2.0 + rng.normal(), "value": 3.0 + rng.normal(),
             "d_real": 5.0 + rng.normal(), "d_fake": -2.0 + rng.normal(), "g_grad_norm": 1.0} for i in range(n)]


@pytest.mark.parametrize("loss", FORMS)
def test_the_loss_figure_names_the_curves_as_the_form_does_and_draws_only_its_own_equilibrium(loss):
    fig = plot.losses_figure(history(50), loss)
    top, bottom = fig.axes
    labels = legend_labels(top) + legend_labels(bottom)
    lines = {**horizontal_lines(top), **{("bottom", y): label for y, label in horizontal_lines(bottom).items()}}
    expected_g = {"non_saturating": "-log D(G(z))", "minimax": "log(1 - D(G(z)))", "lsgan": "1/2 (D(G(z)) - 1)^2",
                  "wgan": "-mean D(G(z))", "hinge": "-mean D(G(z))"}[loss]
    assert any(expected_g in label for label in legend_labels(top)), (loss, labels)
    if loss in ("non_saturating", "minimax"):
        assert lines == {math.log(4): "log 4: D loss at equilibrium", ("bottom", -math.log(4)): "-log 4 (equilibrium)"}
        assert bottom.get_ylabel() == "V(D, G)"
        return
    assert not any("log 4" in label for label in labels), f"{loss}: -log 4 belongs to the 2014 forms only"
    assert math.log(4) not in lines and ("bottom", -math.log(4)) not in lines
    expected = {"lsgan": {0.25, ("bottom", -0.25)}, "wgan": {("bottom", 0.0)}, "hinge": {2.0, ("bottom", -2.0)}}[loss]
    assert set(lines) == expected, (loss, lines)
    assert {"wgan": "critic loss", "lsgan": "1/2 (D(x) - 1)^2", "hinge": "relu(1 - D(x))"}[loss] in legend_labels(top)[0]


@pytest.mark.parametrize("loss", FORMS)
def test_the_mean_d_panel_has_the_half_line_only_where_half_is_the_equilibrium(loss):
    records = history(50) if loss in ("non_saturating", "minimax", "lsgan") else critic_history()
    top = plot.discriminator_figure(records, loss).axes[0]
    lines = horizontal_lines(top)
    if loss in ("wgan", "hinge"):
        assert lines == {}, f"{loss}: a critic's score has no 1/2"
        assert legend_labels(top) == ["mean critic score, real data", "mean critic score, generated"]
        assert top.get_ylim()[1] > 5.0                        # the scores are drawn as they are, not cut to [0, 1]
        assert top.get_title() == "What the critic says"
    elif loss == "lsgan":
        assert lines == {0.5: "D = 1/2: equilibrium for a = 0, b = 1"}
    else:
        assert lines == {0.5: "1/2: D cannot tell them apart"} and top.get_ylim() == (-0.02, 1.02)


def critic(points):
    """A made-up critic score: positive near the circle of radius 2, negative elsewhere."""
    return 3.0 - 4.0 * (np.linalg.norm(points, axis=1) - 2.0) ** 2


@pytest.mark.parametrize("loss", FORMS)
def test_the_heatmap_is_a_probability_or_a_score_centred_where_the_form_centres_it(loss):
    d = near_ring if loss in ("non_saturating", "minimax") else critic
    fig = plot.samples_2d_figure(ring_points(300), ring_points(300, 1), discriminator=d, loss=loss)
    bar = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"][0]
    contour = [c for c in fig.axes[0].collections if hasattr(c, "levels")][0]
    assert contour.get_cmap().name == "RdBu_r"                        # diverging: white at the centre
    levels = np.asarray(contour.levels)
    if loss in ("non_saturating", "minimax"):
        assert bar.get_ylabel() == "D(x): probability x is real"
        assert levels[0] == 0.0 and levels[-1] == 1.0
        return
    centre = 0.5 if loss == "lsgan" else 0.0
    assert bar.get_ylabel() == ("D(x): least-squares score (real 1, fake 0)" if loss == "lsgan" else "critic score D(x)")
    assert "probability" not in bar.get_ylabel()
    assert contour.norm.vcenter == centre                              # white at the centre: D's indifference
    assert contour.norm(centre) == pytest.approx(0.5)
    assert levels[0] < centre < levels[-1] and len(levels) == 11


def test_a_critic_whose_scores_are_all_negative_still_gets_eleven_shades():
    """A critic's level is arbitrary (any constant can be added): all scores below 0 must
    still show their shape, in blues, not two flat bands."""
    fig = plot.samples_2d_figure(ring_points(300), ring_points(300, 1), discriminator=lambda x: critic(x) - 30.0,
                                 loss="wgan")
    contour = [c for c in fig.axes[0].collections if hasattr(c, "levels")][0]
    assert len(contour.levels) == 11 and contour.levels[-1] < 0 and contour.norm.vcenter == 0.0
    assert all(contour.norm(level) < 0.5 for level in contour.levels)   # all on the blue side


def test_a_1d_critic_gets_an_axis_of_its_own(tmp_path, monkeypatch):
    fig = drawn_figure(monkeypatch, lambda: plot.plot_samples_1d(
        np.random.default_rng(0).normal(4.0, 0.5, 300), np.random.default_rng(1).normal(3.5, 0.8, 300),
        tmp_path / "g.png", discriminator=lambda x: 10.0 * (x[:, 0] - 4.0), loss="wgan"))
    density, score = fig.axes
    assert score.get_ylabel() == "critic score D(x)" and score.get_ylim()[0] < -5.0
    assert "critic score D(x)" in legend_labels(density)


def test_an_unknown_form_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="loss: got 'wasserstein', wanted one of non_saturating, minimax"):
        plot.plot_losses(history(5), tmp_path / "l.png", loss="wasserstein")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("loss", FORMS)
def test_the_history_reports_d_in_the_forms_own_units(loss):
    """d_real and d_fake, what the mean panel draws: a probability for the 2014 forms, the raw
    score for lsgan, wgan and hinge (the mean of D's output on the minibatch)."""
    from minigan import gan
    from minigan.autograd import Tensor, no_grad
    from minigan.judging import results

    model = gan.build(gan.recipe("ring", loss=loss, g_hidden=(8,), d_hidden=(8,), m=16, steps=3, seed=1))
    model.train(3)
    points = ring_points(50, 3)
    with no_grad():
        raw = model.D(Tensor(model.backend.asarray(points, dtype=model.backend.default_float), model.backend)).numpy()
    shown = results.d_output(model)(points)
    if loss in ("non_saturating", "minimax"):
        np.testing.assert_allclose(shown, 1.0 / (1.0 + np.exp(-raw.ravel())), rtol=1e-5)
    else:
        np.testing.assert_array_equal(shown, raw.ravel())
    record = model.train_step().to_floats()
    if loss in ("wgan", "hinge"):     # the critic's loss is the gap of the two means it reports
        gap = record["d_fake"] - record["d_real"]
        if loss == "wgan":
            assert record["d_loss"] == pytest.approx(gap, rel=1e-4, abs=1e-6)
