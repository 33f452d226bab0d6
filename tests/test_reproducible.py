"""What is bit-identical: the same run twice on one machine, with one BLAS thread count and kernel.

docs/performance.md and docs/backends.md say it: a seeded run repeats bit for bit on the
same machine with the same thread count and the same BLAS kernel, and not across them (a
matrix product splits and orders its sums by the kernel and the thread count, and a GAN's
dynamics amplify a last-bit difference within steps). Each run here is a fresh Python
process, as a student's second run would be.
"""
import json
import os
import subprocess
import sys

import pytest

RUN = """
import json, sys
from minigan import gan
from minigan.gan import callbacks
model = gan.build(gan.recipe("ring", steps=40, m=64, g_hidden=(32, 32), d_hidden=(32, 32), seed=SEED, threads=None))
history = callbacks.History()
model.train(40, callbacks=[history])
columns = history.as_columns()
print(json.dumps({name: [float(v).hex() for v in columns[name]] for name in ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm")}))
"""


def run_in_a_fresh_process(threads: int, seed: int = 3) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    result = subprocess.run([sys.executable, "-c", RUN.replace("SEED", str(seed))], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("threads", [1, 2])
def test_two_runs_with_the_same_thread_count_have_the_same_history_bit_for_bit(threads):
    first, second = run_in_a_fresh_process(threads), run_in_a_fresh_process(threads)
    for name in first:
        assert first[name] == second[name], f"{name} differs between two runs with {threads} BLAS thread(s)"
    assert len(first["d_loss"]) == 40


def test_the_comparison_tells_two_different_runs_apart():
    """Planted: another seed. The same comparison must see the difference."""
    first, other = run_in_a_fresh_process(1, seed=3), run_in_a_fresh_process(1, seed=4)
    assert any(first[name] != other[name] for name in first)
