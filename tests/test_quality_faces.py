"""benchmarks/quality.py --dataset faces: the table's verdict is the DCGAN's worst seed against issue 29's targets."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/ is not installed with minigan
from benchmarks import quality  # noqa: E402


def run(arch, seed, recognizable, combinations, seconds=100.0):
    return {"arch": arch, "seed": seed, "recognizable_fraction": recognizable, "combinations_covered": combinations,
            "seconds": seconds}


def test_every_dcgan_seed_must_meet_each_target_and_the_mlp_is_only_compared():
    good = [run("dcgan", s, 0.9, 95) for s in range(3)] + [run("mlp", 0, 0.0, 0)]
    summary = quality.summarize_faces(good)
    assert summary["all_met"] and summary["mlp"] == {"min_recognizable": 0.0, "min_combinations": 0, "max_seconds": 100.0}
    for bad, failing in ((run("dcgan", 3, 0.79, 95), "min_recognizable"), (run("dcgan", 3, 0.9, 89), "min_combinations"),
                         (run("dcgan", 3, 0.9, 95, seconds=600.0), "max_seconds")):
        summary = quality.summarize_faces(good + [bad])
        assert not summary["all_met"] and [k for k, ok in summary["met"].items() if not ok] == [failing]
    assert not quality.summarize_faces([run("mlp", 0, 1.0, 100)])["all_met"]        # no DCGAN: nothing met


def test_the_faces_options_parse():
    args = quality.parse_args(["--dataset", "faces", "--arch", "mlp", "--budget", "30", "--seeds", "1"])
    assert (args.dataset, args.arch, args.budget, args.seeds) == ("faces", ["mlp"], 30.0, [1])
    with pytest.raises(SystemExit):
        quality.parse_args(["--dataset", "faces", "--arch", "cnn"])
