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
