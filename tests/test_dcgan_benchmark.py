"""benchmarks/dcgan.py: its floor is exactly the matrix products one minigan iteration computes.

The "floor" variant times only products, on shapes listed by hand (``iteration_products``);
if minigan's convolutions or trainer changed what they multiply, the floor would stop
being a floor. So one minigan DCGAN iteration is run with NumPy's matmul counted, and the
shapes must be the list's, one for one.
"""
import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/ is not installed with minigan

from benchmarks import dcgan  # noqa: E402


def test_the_floor_is_the_products_of_one_minigan_iteration(monkeypatch):
    step = dcgan.MiniganDCGANStep()
    step.step()                                  # Adam's state made; later steps are all alike
    shapes, matmul = [], np.matmul

    def counted(a, b, *args, **kwargs):
        shapes.append((tuple(a.shape), tuple(b.shape)))
        return matmul(a, b, *args, **kwargs)

    monkeypatch.setattr(np, "matmul", counted)
    step.step()
    monkeypatch.setattr(np, "matmul", matmul)
    assert collections.Counter(shapes) == collections.Counter(dcgan.iteration_products())
    assert len(shapes) == 45                     # 8 layers: forward, grad_x and grad_w products as needed
    assert np.isfinite(float(step.record.g_loss))


def test_the_columns_of_the_largest_layer():
    sizes = dcgan.column_bytes()
    assert max(sizes.values()) == 64 * 8 * 8 * 64 * 16 * 4     # D2: 4,096 windows of 1,024 float32 numbers
    assert sum(sizes.values()) == 56 * 2**20
