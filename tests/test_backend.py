"""Backends: choosing one, the GPU hint without CuPy, seeded randomness, host copies, add_at."""
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import numpy.testing as npt
import pytest
from strategies import BACKENDS

import minigan
from minigan import backend as backend_module


def test_numpy_and_strict_backends():
    numpy_backend = minigan.get_backend("numpy")
    assert numpy_backend.name == "numpy" and numpy_backend.xp is np and numpy_backend.array_type is np.ndarray
    assert numpy_backend.default_float == np.float32
    strict = minigan.get_backend("strict")
    assert strict.name == "strict" and strict.xp.__name__ == "array_api_strict"
    assert isinstance(strict.xp.asarray([1.0]), strict.array_type)
    assert strict.default_float == strict.xp.float32
    assert minigan.get_backend("strict") is strict  # made once, then shared
    assert minigan.get_backend(strict) is strict and minigan.get_backend(None) is numpy_backend


def no_cupy(monkeypatch):
    """Make `import cupy` fail, as on a machine without CuPy (works on a GPU machine too)."""
    monkeypatch.setitem(sys.modules, "cupy", None)  # None in sys.modules: ImportError on import
    monkeypatch.delitem(backend_module._CACHE, "cupy", raising=False)


def fake_cupy(monkeypatch, get_device_count):
    """Make `import cupy` give a CuPy whose CUDA runtime reports ``get_device_count()``."""
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    module = types.ModuleType("cupy")
    module.cuda = types.SimpleNamespace(runtime=runtime)
    monkeypatch.setitem(sys.modules, "cupy", module)
    monkeypatch.delitem(backend_module._CACHE, "cupy", raising=False)


def test_auto_is_cupy_with_a_gpu_else_numpy():
    assert minigan.get_backend("auto").name == ("cupy" if minigan.gpu_available() else "numpy")


def test_auto_without_cupy_is_numpy(monkeypatch):
    no_cupy(monkeypatch)
    assert not minigan.gpu_available()
    assert minigan.get_backend("auto").name == "numpy"


def test_cupy_without_cupy_says_how_to_install_it(monkeypatch):
    no_cupy(monkeypatch)
    with pytest.raises(minigan.BackendUnavailable, match=r'pip install -e "\.\[gpu\]"') as error:
        minigan.get_backend("cupy")
    assert not isinstance(error.value, ImportError)
    assert "numpy" in str(error.value)  # the other way out


def test_every_install_hint_is_a_readme_command():
    """Each `pip install ...` that minigan's messages and docstrings show is spelled as in the README."""
    repo = Path(__file__).resolve().parent.parent
    readme = (repo / "README.md").read_text(encoding="utf-8")
    hints = {hint.strip() for path in (repo / "minigan").rglob("*.py")
             for hint in re.findall(r"`(pip install [^`]+)`", path.read_text(encoding="utf-8"))}
    assert 'pip install -e ".[gpu]"' in hints  # the search finds the hints at all
    assert sorted(hint for hint in hints if hint not in readme) == []


def broken_driver():
    raise RuntimeError("CUDA driver version is insufficient")


@pytest.mark.parametrize("get_device_count", [broken_driver, lambda: 0], ids=["broken-driver", "no-device"])
def test_cupy_without_a_device_says_to_use_numpy(monkeypatch, get_device_count):
    fake_cupy(monkeypatch, get_device_count)
    assert not minigan.gpu_available()
    with pytest.raises(minigan.BackendUnavailable, match="no CUDA device.*backend='numpy'"):
        minigan.get_backend("cupy")


@pytest.mark.skipif(not minigan.gpu_available(), reason="no CUDA GPU")
def test_cupy_backend_on_a_gpu():
    gpu = minigan.get_backend("cupy")
    a = gpu.asarray(np.arange(3.0))
    assert isinstance(a, gpu.array_type)
    npt.assert_array_equal(gpu.to_host(a), [0.0, 1.0, 2.0])


@pytest.mark.parametrize("name", ["NumPy", "torch", "", 3])
def test_unknown_name_lists_the_valid_ones(name):
    with pytest.raises(ValueError, match="wanted one of numpy, cupy, strict, auto"):
        minigan.get_backend(name)


def test_import_minigan_imports_neither_cupy_nor_matplotlib():
    code = "import sys, minigan; print(sorted(m for m in ('cupy', 'matplotlib') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ---- seeded randomness ---------------------------------------------------------------------------
def draws(random):
    return [
        random.normal((2, 3)), random.uniform((4,), -1.0, 2.0), random.integers(0, 10, (5,)),
        random.bernoulli((6,), 0.3), random.normal((2,), dtype=random.backend.xp.float64),
    ]


def hosts(arrays, backend):
    return [backend.to_host(a) for a in arrays]


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_draws(backend):
    be = minigan.get_backend(backend)
    first, second = hosts(draws(be.random(7)), be), hosts(draws(be.random(7)), be)
    for a, b in zip(first, second):
        npt.assert_array_equal(a, b)
    assert not np.array_equal(first[0], hosts(draws(be.random(8)), be)[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_draws_live_on_the_backend_with_its_default_float(backend):
    be = minigan.get_backend(backend)
    normal, uniform, integers, bernoulli, normal64 = draws(be.random(0))
    assert all(isinstance(a, be.array_type) for a in (normal, uniform, integers, bernoulli, normal64))
    assert normal.dtype == uniform.dtype == bernoulli.dtype == be.default_float
    assert normal64.dtype == be.xp.float64 and be.xp.isdtype(integers.dtype, "integral")
    host_uniform, host_integers = be.to_host(uniform), be.to_host(integers)
    assert np.all((host_uniform >= -1.0) & (host_uniform < 2.0)) and np.all((host_integers >= 0) & (host_integers < 10))
    assert set(np.unique(be.to_host(bernoulli))) <= {0.0, 1.0}


@pytest.mark.parametrize("backend", BACKENDS)
def test_state_and_set_state_round_trip(backend):
    be = minigan.get_backend(backend)
    random = be.random(3)
    random.normal((3,))
    state = json.loads(json.dumps(random.state()))  # JSON-safe, as checkpoints store it
    expected = hosts(draws(random), be)
    random.normal((10,))  # move on, then go back
    random.set_state(state)
    for a, b in zip(hosts(draws(random), be), expected):
        npt.assert_array_equal(a, b)
    resumed = be.random(999)  # a generator of another seed resumes the same stream
    resumed.set_state(state)
    npt.assert_array_equal(be.to_host(resumed.normal((2, 3))), expected[0])


def test_same_numbers_on_numpy_and_strict():
    numpy_backend, strict = minigan.get_backend("numpy"), minigan.get_backend("strict")
    for a, b in zip(hosts(draws(numpy_backend.random(11)), numpy_backend), hosts(draws(strict.random(11)), strict)):
        npt.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_a_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="seed"):
        minigan.get_backend("numpy").random(seed)


# ---- host copies and the checks ---------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_asarray_and_to_host_round_trip(backend):
    be = minigan.get_backend(backend)
    host = np.arange(6.0).reshape(2, 3)
    on_backend = be.asarray(host)
    assert isinstance(on_backend, be.array_type) and on_backend.dtype == be.xp.float64
    back = be.to_host(on_backend)
    assert isinstance(back, np.ndarray)
    npt.assert_array_equal(back, host)
    assert be.asarray(host, dtype=be.xp.float32).dtype == be.xp.float32
    assert be.asarray(on_backend, dtype=be.xp.float32).dtype == be.xp.float32
    assert be.asarray(on_backend) is on_backend  # already there: no copy
    npt.assert_array_equal(be.to_host(be.asarray([1, 2])), [1, 2])


@pytest.mark.parametrize("backend", BACKENDS)
def test_check_accepts_own_arrays_only(backend):
    be = minigan.get_backend(backend)
    own = be.asarray([1.0])
    assert be.check(own) is own
    foreign = minigan.get_backend("strict" if backend == "numpy" else "numpy").asarray([1.0])
    with pytest.raises(TypeError, match="leaked in"):
        be.check(foreign)
    with pytest.raises(TypeError, match="leaked in"):
        be.check([1.0])


def test_numpy_scalars_become_0d_arrays():
    numpy_backend = minigan.get_backend("numpy")
    checked = numpy_backend.check(np.float32(2.0))
    assert isinstance(checked, np.ndarray) and checked.shape == () and checked.dtype == np.float32


@pytest.mark.parametrize("backend", BACKENDS)
def test_add_at_adds_up_duplicate_indices(backend):
    be = minigan.get_backend(backend)
    array = be.asarray(np.zeros((4, 2)))
    index = be.asarray(np.array([0, 2, 0, 0]))
    values = be.asarray(np.arange(8.0).reshape(4, 2))
    out = be.add_at(array, index, values)
    assert isinstance(out, be.array_type)
    npt.assert_array_equal(be.to_host(out), [[0 + 4 + 6, 1 + 5 + 7], [0, 0], [2, 3], [0, 0]])
    npt.assert_array_equal(be.to_host(array), np.zeros((4, 2)))  # a copy: the input is untouched


@pytest.mark.parametrize("backend", BACKENDS)
def test_dtype_by_name(backend):
    be = minigan.get_backend(backend)
    assert be.dtype("float64") == be.xp.float64
    with pytest.raises(ValueError, match="dtype: got 'float99'"):
        be.dtype("float99")


def test_backend_of_finds_the_backend_of_an_array():
    assert backend_module.backend_of(np.ones(2)).name == "numpy"
    assert backend_module.backend_of(minigan.get_backend("strict").asarray([1.0])).name == "strict"
    with pytest.raises(TypeError, match="wanted a numpy, cupy or array-api-strict array"):
        backend_module.backend_of([1.0])
