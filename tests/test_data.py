"""minigan.data: every distribution samples the right shape and dtype on every backend, the
same seed gives the same numbers everywhere, and each one has the statistics it promises.
The file loaders are tested on small files written here."""
import gzip
import math
import struct
import sys

import numpy as np
import pytest
from strategies import BACKENDS

from minigan import data, get_backend

# name -> (factory, dim): one table drives the shared tests.
DISTRIBUTIONS = {
    "normal_noise": (lambda: data.normal_noise(3), 3),
    "uniform_noise": (lambda: data.uniform_noise(5), 5),
    "gaussian_1d": (lambda: data.gaussian_1d(), 1),
    "ring": (lambda: data.ring(), 2),
    "grid": (lambda: data.grid(), 2),
    "digits": (lambda: data.digits(), 64),
}


def host(array, backend_name):
    return get_backend(backend_name).to_host(array)


# ---- the common contract ---------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_sample_is_a_float32_backend_array_of_shape_m_by_dim(backend, name):
    factory, dim = DISTRIBUTIONS[name]
    dist = factory()
    b = get_backend(backend)
    x = dist.sample(7, b.random(0))
    assert isinstance(x, b.array_type)
    assert x.dtype == b.xp.float32
    assert tuple(x.shape) == (7, dim) and dist.dim == dim
    assert isinstance(dist.name, str) and dist.name and repr(dist).startswith(name + "(")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_same_seed_same_data_on_every_backend_and_a_fresh_minibatch_per_call(backend, name):
    dist = DISTRIBUTIONS[name][0]()
    reference = dist.sample(64, get_backend("numpy").random(3))
    rng = get_backend(backend).random(3)
    first, second = host(dist.sample(64, rng), backend), host(dist.sample(64, rng), backend)
    np.testing.assert_array_equal(first, reference)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_sample_checks_m_and_rng(name):
    dist = DISTRIBUTIONS[name][0]()
    rng = get_backend("numpy").random(0)
    for bad_m in (0, -3, 2.5, True, "8"):
        with pytest.raises(ValueError, match="^m: got"):
            dist.sample(bad_m, rng)
    with pytest.raises(TypeError, match="^rng: got a Generator"):
        dist.sample(4, np.random.default_rng(0))


@pytest.mark.parametrize("make, message", [
    (lambda: data.normal_noise(0), "^dim: got 0"),
    (lambda: data.uniform_noise(2.0), "^dim: got 2.0"),
    (lambda: data.gaussian_1d(mean=float("nan")), "^mean: got nan"),
    (lambda: data.gaussian_1d(std=0.0), "^std: got 0.0"),
    (lambda: data.ring(modes=0), "^modes: got 0"),
    (lambda: data.ring(radius=-1.0), "^radius: got -1.0"),
    (lambda: data.ring(std=float("inf")), "^std: got inf"),
    (lambda: data.grid(side=True), "^side: got True"),
    (lambda: data.grid(spacing=0), "^spacing: got 0"),
    (lambda: data.grid(std=-0.1), "^std: got -0.1"),
    (lambda: data.GaussianMixture(np.zeros(3), 0.1), r"^centres: got shape \(3,\)"),
])
def test_constructors_reject_bad_arguments_in_one_line(make, message):
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert "\n" not in str(error.value)


# ---- each distribution's statistics --------------------------------------------------------

def test_noise_priors_have_mean_0_and_variance_1():
    rng = get_backend("numpy").random(1)
    z = data.normal_noise(4).sample(20_000, rng)
    u = data.uniform_noise(4).sample(20_000, rng)
    for sample in (z, u):
        np.testing.assert_allclose(sample.mean(axis=0), 0.0, atol=0.03)
        np.testing.assert_allclose(sample.var(axis=0), 1.0, atol=0.04)
    assert u.min() >= -math.sqrt(3) and u.max() <= math.sqrt(3)
    assert u.min() < -1.7 and u.max() > 1.7               # it fills the interval


def test_gaussian_1d_samples_and_density_agree():
    dist = data.gaussian_1d(mean=4.0, std=0.5)
    x = dist.sample(20_000, get_backend("numpy").random(2))
    assert abs(x.mean() - 4.0) < 0.01 and abs(x.std() - 0.5) < 0.01
    lo, hi = dist.interval()
    grid = np.linspace(lo, hi, 2001)
    f = dist.density(grid)
    assert f.dtype == np.float64 and f.shape == grid.shape
    assert abs(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(grid)) - 1.0) < 1e-6   # integrates to 1
    assert dist.density(4.0) == pytest.approx(1.0 / (0.5 * math.sqrt(2 * math.pi)))
    assert dist.density(4.5) == pytest.approx(dist.density(4.0) * math.exp(-0.5))


def test_ring_centres_are_evenly_spaced_and_never_repeated():
    dist = data.ring(modes=8, radius=2.0, std=0.02)
    c = dist.centres
    assert c.shape == (8, 2) and dist.std == 0.02 and dist.modes == 8
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 2.0)
    np.testing.assert_allclose(np.arctan2(c[:, 1], c[:, 0]) % (2 * np.pi), 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    gaps = np.linalg.norm(c[:, None] - c[None], axis=2) + np.eye(8) * 99
    assert gaps.min() == pytest.approx(2 * 2.0 * math.sin(math.pi / 8))   # neighbours, not a repeat


def test_grid_centres_are_the_25_points_of_minus4_to_4_in_steps_of_2():
    dist = data.grid()
    wanted = {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(row) for row in dist.centres.tolist()} == wanted and dist.centres.shape == (25, 2)
    assert dist.std == 0.05


@pytest.mark.parametrize("make", [data.ring, data.grid])
def test_mixture_samples_use_every_mode_with_the_right_spread(make):
    dist = make()
    x = dist.sample(5000, get_backend("numpy").random(4)).astype(np.float64)
    distances = np.linalg.norm(x[:, None, :] - dist.centres[None], axis=2)   # (m, modes)
    nearest = distances.argmin(axis=1)
    offsets = x - dist.centres[nearest]
    assert np.bincount(nearest, minlength=dist.modes).min() > 0.5 * 5000 / dist.modes
    np.testing.assert_allclose(offsets.std(axis=0), dist.std, rtol=0.05)
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.1 * dist.std)


# ---- digits -------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_digits_rows_are_drawn_with_replacement_from_the_seeded_generator(backend):
    digits = data.digits()
    assert len(digits) == 1797 and digits.images.shape == (1797, 64) and digits.image_shape == (8, 8)
    assert digits.images.min() == -1.0 and digits.images.max() == 1.0
    assert sorted(set(digits.labels.tolist())) == list(range(10))
    x = host(digits.sample(300, get_backend(backend).random(5)), backend)
    rows = np.random.default_rng(5).integers(0, 1797, 300)    # the draw the contract promises
    np.testing.assert_array_equal(x, digits.images[rows])


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[datasets\]"'):
        data.digits()


# ---- MNIST from files the test writes ---------------------------------------------------------

def write_idx(path, array, compress=False):
    array = np.asarray(array, dtype=np.uint8)
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.tobytes()
    if compress:
        raw = gzip.compress(raw)
    path.write_bytes(raw)
    return path


@pytest.fixture
def pixels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255                  # both ends of the range appear
    return images, np.array([3, 1, 4, 1, 5], dtype=np.uint8)


def check_mnist(dist, images, labels):
    assert dist.name == "mnist" and dist.dim == 784 and dist.image_shape == (28, 28) and len(dist) == 5
    np.testing.assert_allclose(dist.images, images.reshape(5, 784) / 127.5 - 1.0, atol=1e-6)
    assert dist.images.min() == -1.0 and dist.images.max() == 1.0
    np.testing.assert_array_equal(dist.labels, labels)


@pytest.mark.parametrize("split, prefix", [("train", "train"), ("test", "t10k")])
@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_idx_files_plain_or_gzipped(tmp_path, pixels, split, prefix, compress):
    images, labels = pixels
    ext = ".gz" if compress else ""
    write_idx(tmp_path / f"{prefix}-images-idx3-ubyte{ext}", images, compress)
    write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{ext}", labels, compress)
    dist = data.mnist(tmp_path, split=split)
    check_mnist(dist, images, labels)
    x = dist.sample(4, get_backend("strict").random(0))
    assert tuple(x.shape) == (4, 784)


def test_mnist_accepts_the_dotted_idx_names(tmp_path, pixels):
    images, labels = pixels
    write_idx(tmp_path / "train-images.idx3-ubyte", images)
    write_idx(tmp_path / "train-labels.idx1-ubyte", labels)
    check_mnist(data.mnist(str(tmp_path)), images, labels)


@pytest.mark.parametrize("keys", [("x_train", "y_train"), ("images", "labels")])
@pytest.mark.parametrize("flat", [False, True])
def test_mnist_reads_an_npz(tmp_path, pixels, keys, flat):
    images, labels = pixels
    stored = images.reshape(5, 784) if flat else images
    np.savez(tmp_path / "mnist.npz", **{keys[0]: stored, keys[1]: labels.astype(np.int64)})
    check_mnist(data.mnist(tmp_path / "mnist.npz"), images, labels)
    check_mnist(data.mnist(tmp_path), images, labels)          # a mnist.npz inside the directory


def test_a_missing_mnist_says_where_to_put_it_and_what_it_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte") as error:
        data.mnist(tmp_path)
    assert str(tmp_path) in str(error.value) and "train-labels-idx1-ubyte" in str(error.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.mnist(tmp_path / "nowhere")


def test_mnist_refuses_truncated_foreign_and_mismatched_files(tmp_path, pixels):
    images, labels = pixels
    image_file = write_idx(tmp_path / "train-images-idx3-ubyte", images)
    label_file = write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:4])
    with pytest.raises(ValueError, match="5 images but .* 4 labels"):
        data.mnist(tmp_path)
    write_idx(label_file, labels)
    image_file.write_bytes(image_file.read_bytes()[:-10])      # truncated
    with pytest.raises(ValueError, match="truncated"):
        data.mnist(tmp_path)
    image_file.write_bytes(image_file.read_bytes()[:10])        # cut inside the header
    with pytest.raises(ValueError, match="truncated"):
        data.mnist(tmp_path)
    write_idx(image_file, labels)                               # a labels file where the images go
    with pytest.raises(ValueError, match="magic number 0x00000801, wanted 0x00000803"):
        data.mnist(tmp_path)
    image_file.write_bytes(b"PK\x03\x04 not an idx file at all")
    with pytest.raises(ValueError, match="magic number"):
        data.mnist(tmp_path)


def test_mnist_refuses_damaged_gzip_and_npz(tmp_path, pixels):
    images, labels = pixels
    gz = write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    gz.write_bytes(gz.read_bytes()[:100])
    with pytest.raises(ValueError, match="gzip"):
        data.mnist(tmp_path)
    npz = tmp_path / "other.npz"
    np.savez(npz, pixels=images, targets=labels)
    with pytest.raises(ValueError, match="wanted x_train/y_train or images/labels"):
        data.mnist(npz)
    npz.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        data.mnist(npz)
    np.savez(npz, x_train=images.astype(np.float64) * 3, y_train=labels)
    with pytest.raises(ValueError, match="wanted uint8"):
        data.mnist(npz)
    with pytest.raises(ValueError, match="^split: got 'valid'"):
        data.mnist(npz, split="valid")


def test_points_puts_a_gaussian_on_each_point_and_refuses_bad_ones():
    p_data = data.points([[0.0, 1.0], [2.0, -1.0]], std=0.1)
    assert p_data.centres.shape == (2, 2) and p_data.std == 0.1 and p_data.dim == 2
    for bad in ([], [[0.0, 1.0, 2.0]], [[0.0, float("nan")]]):
        with pytest.raises(ValueError, match="centres: got an array of shape"):
            data.points(bad)
    with pytest.raises(ValueError, match="std"):
        data.points([[0.0, 0.0]], std=0.0)
