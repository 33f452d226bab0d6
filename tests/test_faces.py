"""minigan.data.faces (minigan/data/cartoon.py): cartoon faces with known factors, a deterministic function of the seed."""
import os

import numpy as np
import pytest

from minigan import data, get_backend
from minigan.data import cartoon as F


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))


def nuisances(n):
    return np.zeros((n, 2)), np.full(n, 0.83), np.zeros(n)       # centred, mid-sized, upright


def test_the_set_is_a_function_of_its_seed():
    a, b = data.faces(n=40, seed=3, cache=False), data.faces(n=40, seed=3, cache=False)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    c = data.faces(n=40, seed=4, cache=False)
    assert not np.array_equal(a.images, c.images)


def test_rows_labels_and_value_range():
    faces = data.faces(n=300, size=16, seed=0, cache=False)
    assert faces.images.shape == (300, 3 * 16 * 16) and faces.image_shape == (3, 16, 16)
    assert faces.images.dtype == np.float32 and faces.images.min() >= -1.0 and faces.images.max() <= 1.0
    assert faces.images.min() < -0.7 and faces.images.max() > 0.8           # dark ink and a light background
    for name, values in F.FACTORS.items():
        assert set(np.unique(faces.factors[name])) == set(range(len(values)))
    assert np.array_equal(faces.labels, F.combination(faces.factors))
    assert faces.dim == 768 and "faces(n=300, size=16, seed=0)" in repr(faces)


def test_the_combination_is_one_number_per_factor_triple():
    grid = np.stack(np.meshgrid(*[np.arange(len(v)) for v in F.FACTORS.values()], indexing="ij"), -1).reshape(-1, 3)
    labels = F.combination(dict(zip(F.FACTORS, grid.T)))
    assert sorted(labels) == list(range(100))
    assert len(F.COLOURS) >= 5 and len(F.EYES) >= 4 and len(F.MOUTHS) >= 5


def test_every_combination_appears_in_two_thousand_faces():
    assert len(np.unique(data.faces(n=2000, size=16, seed=1, cache=False).labels)) == 100


@pytest.mark.parametrize("factor, changed_rows, untouched_rows", [("eyes", slice(0, 16), slice(17, 32)),
                                                                  ("mouth", slice(16, 32), slice(0, 15))])
def test_each_factor_draws_where_it_belongs(factor, changed_rows, untouched_rows):
    """Eyes change only the upper half of the face, mouths only the lower half (a row's margin)."""
    n = max(len(F.EYES), len(F.MOUTHS))
    styles = np.arange(n) % len(F.FACTORS[factor])
    fixed = np.zeros(n, dtype=np.int64)
    kwargs = {"colour": fixed, "eyes": fixed, "mouth": fixed, factor: styles}
    images = F.draw(kwargs["colour"], kwargs["eyes"], kwargs["mouth"], *nuisances(n), size=32)
    differs = np.abs(images - images[:1]).max(axis=(0, 1)) > 0.05          # (32, 32): where styles disagree
    assert differs[changed_rows].any() and not differs[untouched_rows].any()
    for i in range(1, len(F.FACTORS[factor])):                            # every style is its own picture
        assert np.abs(images[i] - images[0]).max() > 0.5


def test_colour_changes_the_skin_not_the_background():
    colours = np.arange(len(F.COLOURS))
    zeros = np.zeros(len(colours), dtype=np.int64)
    images = F.draw(colours, zeros, zeros, *nuisances(len(colours)), size=32)
    centre_left = images[:, :, 16, 6]                                      # a pixel of cheek
    assert len({tuple(np.round(p, 2)) for p in centre_left}) == len(F.COLOURS)
    corner = images[:, :, 0, 0]
    assert np.allclose(corner, F.BACKGROUND, atol=1e-6)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="size: got 20, wanted one of 16, 32, 64"):
        data.faces(n=10, size=20)
    with pytest.raises(ValueError, match="n: got 0"):
        data.faces(n=0)
    with pytest.raises(ValueError, match="seed: got -1"):
        data.faces(n=10, seed=-1)


def test_the_cache_is_written_once_and_read_back(tmp_path):
    first = data.faces(n=30, size=16, seed=2)
    path = F.cache_file(30, 16, 2)
    assert os.path.isfile(path)
    stamp = os.stat(path).st_mtime_ns
    second = data.faces(n=30, size=16, seed=2)
    assert os.stat(path).st_mtime_ns == stamp and np.array_equal(first.images, second.images)


@pytest.mark.parametrize("damage", [b"not a zip file", None])
def test_a_damaged_or_foreign_cache_file_is_drawn_again(damage):
    path = F.cache_file(30, 16, 2)
    os.makedirs(os.path.dirname(path))
    if damage is None:          # a file of the right name holding another set's shape
        np.savez(path, images=np.zeros((5, 3, 16, 16), np.uint8), **{k: np.zeros(5, np.int64) for k in F.FACTORS})
    else:
        with open(path, "wb") as file:
            file.write(damage)
    faces = data.faces(n=30, size=16, seed=2)
    assert np.array_equal(faces.images, data.faces(n=30, size=16, seed=2, cache=False).images)
    assert F._read_cache(path, 30, 16) is not None        # rewritten, whole


def test_an_unwritable_cache_folder_means_no_cache(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MINIGAN_CACHE", str(blocker / "below-a-file"))
    assert len(data.faces(n=10, size=16)) == 10


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_sampling_gives_minibatches_on_the_backend(backend):
    be = get_backend(backend)
    faces = data.faces(n=50, size=16, cache=False)
    batch = faces.sample(8, be.random(0))
    assert isinstance(batch, be.array_type) and tuple(batch.shape) == (8, 768)
