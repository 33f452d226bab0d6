"""Shared hypothesis strategies and the backend table every test runs on."""
import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan

# Parametrize on backend names (hypothesis refuses function-scoped fixtures under @given).
BACKENDS = [
    "numpy",
    "strict",
    pytest.param("cupy", marks=pytest.mark.skipif(not minigan.gpu_available(), reason="no CUDA GPU")),
]


def shapes(min_dims=1, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape, low=-3.0, high=3.0):
    """float64 arrays with moderate values (finite differences need smooth neighbourhoods)."""
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False, allow_infinity=False))


def away_from_zero(shape, low=0.2, high=3.0):
    """float64 arrays with |x| in [low, high], either sign (for divisors and kinks at 0)."""
    magnitude = st.floats(low, high, allow_nan=False, allow_infinity=False)
    elements = st.tuples(st.sampled_from([-1.0, 1.0]), magnitude).map(lambda pair: pair[0] * pair[1])
    return hnp.arrays(np.float64, shape, elements=elements)


def distinct(shape, low=-3.0, high=3.0):
    """float64 arrays whose elements differ pairwise by at least 0.01 (no ties, e.g. for max).

    Finite differences move one element by eps = 1e-6, far less than the gap, so the
    arg-max never changes inside a gradient check.
    """
    grid = st.integers(int(low * 100), int(high * 100))
    return hnp.arrays(np.int64, shape, elements=grid, unique=True).map(lambda a: a / 100.0)


def broadcast_pair(min_dims=0, max_dims=3, max_side=4):
    """Two shapes that broadcast together, e.g. (3, 1, 4) and (2, 4)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda result: result.input_shapes)


def float32_logits(shape=None, low=-88.0, high=88.0):
    """float32 arrays over [low, high] (float32's whole exp range by default), any sign and size,
    for accuracy tests against a float64 reference. Hypothesis favours the edges: 0, tiny and
    subnormal numbers, the bounds."""
    elements = st.floats(low, high, width=32, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.float32, shapes(max_side=8) if shape is None else shape, elements=elements)
