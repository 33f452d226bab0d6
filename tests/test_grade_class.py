"""Grading a class: safe unpacking, the class grader end to end, resume, jobs, Gradescope, release zips.

Grading costs about a second per part and copy, so the class here grades two cheap parts
of A1 (``--parts A1.4,A1.5``) on twelve submissions, half of them broken on purpose; the
unpacking rules are tested on their own, without grading anything.
"""
import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest

from minigan.assignments import __main__ as cli
from minigan.assignments import gradebook, packing, unpack
from minigan.assignments.catalog import SOURCE_ROOT
from minigan.assignments.grade import grade
from minigan.assignments.regions import fill_part
from minigan.assignments.release import release

PARTS = ["A1.4", "A1.5"]
WRONG_EXP = "return grad_y * y * 2.0"
WRONG_LOG = "return grad_y * x"


# ---- the submissions ------------------------------------------------------------------------------
def zip_folder(folder, path, top=""):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as packed:
        for name, file in packing.files_of(folder):
            packed.write(file, top + name)


def tar_folder(folder, path, top=""):
    with tarfile.open(path, "w:gz") as packed:
        packed.add(folder, arcname=top or ".", filter=lambda i: None if "__pycache__" in i.name else i)


def zip_with(path, *members):
    """members: (name, bytes) or (name, link target, "link")."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as packed:
        for m in members:
            info = zipfile.ZipInfo(m[0])
            info.external_attr = (stat.S_IFLNK | 0o777) << 16 if len(m) == 3 else (stat.S_IFREG | 0o644) << 16
            packed.writestr(info, m[1], compress_type=zipfile.ZIP_DEFLATED)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    base = tmp_path_factory.mktemp("copies")
    key = release("A1", base / "key", parts=[])
    blank = release("A1", base / "blank", parts=PARTS)
    wrong_exp = release("A1", base / "wrong_exp", parts=[])
    fill_part(wrong_exp, "A1.4", WRONG_EXP)
    wrong_log = release("A1", base / "wrong_log", parts=[])
    fill_part(wrong_log, "A1.5", WRONG_LOG)
    return {"key": key, "blank": blank, "wrong_exp": wrong_exp, "wrong_log": wrong_log}


@pytest.fixture(scope="module")
def klass(tmp_path_factory, copies):
    """Twelve submissions: six copies that grade (folder, zip, tar.gz, nested, tgz) and six broken ones."""
    subs = tmp_path_factory.mktemp("submissions")
    shutil.copytree(copies["key"], subs / "alice")                                  # a folder
    zip_folder(copies["blank"], subs / "bob.zip")                                   # a zip
    tar_folder(copies["wrong_exp"], subs / "carol.tar.gz")                          # a tarball
    zip_with(subs / "dave.zip", ("minigan/__init__.py", b""), ("../../escaped.txt", b"x"))  # ../ member
    zip_with(subs / "erin.zip", ("minigan/__init__.py", b""), ("minigan/data", "/etc", "link"))  # link out
    with zipfile.ZipFile(subs / "frank.zip", "w", zipfile.ZIP_DEFLATED) as bomb:     # 300 MiB of zeros
        bomb.writestr("minigan/bomb.bin", b"\0" * (300 * 2**20))
    zipfile.ZipFile(subs / "gina.zip", "w").close()                                 # an empty zip
    with tarfile.open(subs / "hank.tar.gz", "w:gz") as packed:                      # a device file
        info = tarfile.TarInfo("minigan/null")
        info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        packed.addfile(info)
    zip_folder(copies["key"], subs / "ivan.zip", top="ivan-a1/")                   # one folder down
    shutil.copytree(copies["wrong_log"], subs / "judy")                             # a folder
    tar_folder(copies["blank"], subs / "ken.tgz", top="ken")                        # a .tgz
    zip_with(subs / "lena.zip", ("README.md", b"my work is in another castle"))     # no minigan/
    (subs / "notes.txt").write_text("not a submission")
    expected = {"alice": "key", "bob": "blank", "carol": "wrong_exp", "ivan": "key", "judy": "wrong_log",
                "ken": "blank"}
    return subs, expected


@pytest.fixture(scope="module")
def per_copy(copies):
    """The grade of each distinct copy, graded alone: what grades.csv must say."""
    return {name: {row["id"]: row["points"] for row in grade("A1", path, parts=PARTS)["parts"]}
            for name, path in copies.items()}


def run_class(subs, out, *extra):
    return cli.main(["grade-class", "A1", str(subs), "--out", str(out), "--parts", ",".join(PARTS), *extra])


def read_csv(path):
    with open(path, newline="") as file:
        return {row["student_id"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def graded(klass, tmp_path_factory):
    subs, _ = klass
    out = tmp_path_factory.mktemp("results-jobs2")
    assert run_class(subs, out, "--jobs", "2") == 0
    return out


# ---- the class, end to end --------------------------------------------------------------------------
def test_the_class_is_graded_and_grades_csv_equals_the_per_copy_grades(klass, graded, per_copy):
    _, expected = klass
    rows = read_csv(graded / "grades.csv")
    assert len(rows) == 12 and list(rows) == sorted(rows)
    header = open(graded / "grades.csv").readline().strip().split(",")
    assert header[0] == "student_id" and header[1:3] == PARTS and "total" in header and "status" in header
    for sid, copy in expected.items():
        assert rows[sid]["status"] == "graded", rows[sid]
        assert {p: int(rows[sid][p]) for p in PARTS} == per_copy[copy], sid
        assert int(rows[sid]["total"]) == sum(per_copy[copy].values())
    assert per_copy["key"] == {"A1.4": 1, "A1.5": 1} and per_copy["wrong_exp"]["A1.4"] == 0


@pytest.mark.parametrize("sid, reason", [
    ("dave", "leaves the folder"), ("erin", "a link leaves the folder"), ("frank", "unpacks to more than"),
    ("gina", "empty"), ("hank", "a device"), ("lena", "no minigan/ package")])
def test_a_bad_archive_is_that_students_error_with_one_line(graded, sid, reason):
    row = read_csv(graded / "grades.csv")[sid]
    assert row["status"] == "error: bad archive" and reason in row["note"] and "\n" not in row["note"], row
    assert row["total"] == "0"
    assert reason in (graded / "feedback" / f"{sid}.md").read_text()


def test_nothing_escaped_and_nothing_is_left_in_work(graded, klass):
    subs, _ = klass
    assert not (subs.parent / "escaped.txt").exists() and not (graded.parent / "escaped.txt").exists()
    assert list((graded / "work").iterdir()) == []


def test_the_outputs_are_all_there(graded):
    report = json.loads((graded / "report.json").read_text())
    assert report["students"] == 12 and report["graded"] == 12 and report["errors"] == 6
    assert any("notes.txt" in note for note in report["skipped"])
    summary = (graded / "summary.md").read_text()
    assert "| A1.4 | 1 |" in summary and "## The most common mistake per part" in summary
    assert "- **A1.4** Exp.backward: 1 copy:" in summary  # carol's wrong exp is A1.4's only written mistake
    assert (graded / "totals.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.stem for p in (graded / "feedback").iterdir()) == sorted(read_csv(graded / "grades.csv"))
    assert "Total: **2/2**" in (graded / "feedback" / "alice.md").read_text()


def test_student_regrades_one_and_keeps_the_others(graded):
    before = {p.name: p.read_bytes() for p in (graded / "results").iterdir()}
    assert cli.main(["grade-class", "A1", json.loads((graded / "class.json").read_text())["submissions"],
                     "--out", str(graded), "--parts", ",".join(PARTS), "--student", "judy"]) == 0
    after = {p.name: p.read_bytes() for p in (graded / "results").iterdir()}
    assert before.keys() == after.keys()
    assert [k for k in before if before[k] != after[k]] == ["judy.json"]


def test_interrupt_then_resume_grades_each_copy_once_and_jobs_1_agrees_with_jobs_2(klass, graded, tmp_path):
    subs, _ = klass
    out = tmp_path / "results"
    # the command line's main, run directly: python -m's relaunch (launch.py) is another layer
    main = "import sys; from minigan.assignments.__main__ import main; sys.exit(main())"
    command = [sys.executable, "-c", main, "grade-class", "A1", str(subs), "--out", str(out),
               "--parts", ",".join(PARTS), "--jobs", "1"]
    first = subprocess.Popen(command, cwd=SOURCE_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        if len(list((out / "results").glob("*.json"))) >= 5:
            os.killpg(first.pid, signal.SIGINT)  # what Ctrl-C does: SIGINT to the terminal's process group
            break
        time.sleep(0.05)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err.decode()
    assert b"run the same command again" in err
    done = {p.name: p.read_bytes() for p in (out / "results").glob("*.json")}
    assert 5 <= len(done) < 12 and list((out / "work").iterdir()) == []
    second = subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert f"graded {12 - len(done)} now" in second.stdout
    assert all((out / "results" / name).read_bytes() == data for name, data in done.items())  # not graded again
    resumed, parallel = read_csv(out / "grades.csv"), read_csv(graded / "grades.csv")
    assert len(resumed) == 12
    columns = [*PARTS, "total", "status", "note"]
    assert {s: [r[c] for c in columns] for s, r in resumed.items()} == \
           {s: [r[c] for c in columns] for s, r in parallel.items()}


def test_a_grader_failure_is_error_grader_with_no_total_and_is_graded_again(copies, tmp_path, monkeypatch):
    from minigan.assignments import gradeone

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(copies["key"], subs / "ada")

    def broken(*args, **kwargs):
        raise RuntimeError("the grader's own bug")

    monkeypatch.setattr(gradeone, "grade", broken)  # the forked worker inherits it
    assert run_class(subs, tmp_path / "out") == 0
    row = read_csv(tmp_path / "out" / "grades.csv")["ada"]
    assert row["status"] == "error: grader" and row["total"] == "" and "the grader's own bug" in row["note"]
    monkeypatch.undo()
    assert run_class(subs, tmp_path / "out") == 0  # the plain command again: ada is graded this time
    row = read_csv(tmp_path / "out" / "grades.csv")["ada"]
    assert row["status"] == "graded" and row["total"] == "2"


def test_grade_class_refuses_bad_arguments_in_one_line(klass, tmp_path, capsys):
    subs, _ = klass
    for extra, words in ((["--jobs", "0"], "--jobs: got 0"), (["--jobs", "100000"], "exceeds"),
                         (["--student", "zed"], "--student: got 'zed'"), (["--parts", "A2.1"], "--parts: got")):
        assert run_class(subs, tmp_path / "r", *extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and words in err[-1], err
    assert cli.main(["grade-class", "A1", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 2
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("not results")
    assert run_class(subs, tmp_path / "mine") == 2 and "not a new folder" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]


# ---- unpacking, attack by attack -------------------------------------------------------------------
def unpack_error(tmp_path, archive) -> str:
    shutil.rmtree(tmp_path / "dest", ignore_errors=True)
    with pytest.raises(unpack.BadSubmission) as error:
        unpack.unpack(archive, tmp_path / "dest")
    return str(error.value)


def test_unpack_refuses_absolute_paths_and_dotdot(tmp_path):
    zip_with(tmp_path / "a.zip", ("/tmp/owned.txt", b"x"))
    assert "absolute path" in unpack_error(tmp_path, tmp_path / "a.zip")
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as packed:
        info = tarfile.TarInfo("minigan/../../x")
        packed.addfile(info, io.BytesIO(b""))
    assert "leaves the folder" in unpack_error(tmp_path, tmp_path / "b.tar.gz")
    assert not (tmp_path / "x").exists()


def test_unpack_never_writes_through_a_link(tmp_path):
    """A link to outside, then a file "through" it: the link is refused, nothing is written outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as packed:
        link = tarfile.TarInfo("minigan")
        link.type, link.linkname = tarfile.SYMTYPE, str(outside)
        packed.addfile(link)
        packed.addfile(tarfile.TarInfo("minigan/__init__.py"), io.BytesIO(b""))
    unpack_error(tmp_path, tmp_path / "t.tar.gz")
    assert list(outside.iterdir()) == []


def test_unpack_refuses_a_hard_link_to_outside_and_a_relative_link_out(tmp_path):
    with tarfile.open(tmp_path / "h.tar.gz", "w:gz") as packed:
        hard = tarfile.TarInfo("minigan/passwd")
        hard.type, hard.linkname = tarfile.LNKTYPE, "/etc/passwd"
        packed.addfile(hard)
    assert "absolute path" in unpack_error(tmp_path, tmp_path / "h.tar.gz")
    zip_with(tmp_path / "r.zip", ("minigan/__init__.py", b""), ("minigan/up", "../..", "link"))
    assert "a link leaves the folder" in unpack_error(tmp_path, tmp_path / "r.zip")


def test_a_link_inside_the_folder_is_kept(tmp_path, copies):
    folder = tmp_path / "sub"
    shutil.copytree(copies["key"], folder)
    (folder / "notes").symlink_to("ASSIGNMENT.md")
    root = unpack.unpack(folder, tmp_path / "dest")
    assert (root / "notes").is_symlink() and (root / "notes").read_text() == (folder / "ASSIGNMENT.md").read_text()


def test_a_folder_with_a_link_out_is_refused(tmp_path, copies):
    folder = tmp_path / "sub"
    shutil.copytree(copies["key"], folder)
    (folder / "minigan" / "secrets").symlink_to("/etc")
    assert "a link leaves the folder" in unpack_error(tmp_path, folder)


def test_unpack_caps_members_and_packed_size(tmp_path, monkeypatch):
    monkeypatch.setattr(unpack, "MAX_MEMBERS", 10)
    zip_with(tmp_path / "m.zip", *[(f"f{i}", b"") for i in range(11)])
    assert "more than 10 members" in unpack_error(tmp_path, tmp_path / "m.zip")
    monkeypatch.setattr(unpack, "MAX_PACKED", 100)
    zip_with(tmp_path / "p.zip", ("minigan/__init__.py", os.urandom(200)))
    assert "larger than" in unpack_error(tmp_path, tmp_path / "p.zip")


def test_a_tarball_bomb_stops_at_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(unpack, "MAX_UNPACKED", 2**20)
    with tarfile.open(tmp_path / "bomb.tar.gz", "w:gz") as packed:
        info = tarfile.TarInfo("minigan/zeros")
        info.size = 8 * 2**20
        packed.addfile(info, io.BytesIO(b"\0" * info.size))
    assert "unpacks to more than" in unpack_error(tmp_path, tmp_path / "bomb.tar.gz")
    assert sum(p.stat().st_size for p in (tmp_path / "dest").rglob("*") if p.is_file()) <= 2**20 + 2**16


def test_submission_names_are_student_ids(tmp_path):
    for name in ("ok-1", "bad name", "x"):
        (tmp_path / name).mkdir()
    zipfile.ZipFile(tmp_path / "x.zip", "w").close()  # a second submission for student x
    (tmp_path / "y.tar.gz").write_bytes(b"")
    found, notes = unpack.find_submissions(tmp_path)
    assert sorted(found) == ["ok-1", "x", "y"]
    assert any("bad name" in n for n in notes) and any("already has" in n for n in notes)


def test_markdown_from_a_copy_is_shown_not_rendered():
    assert gradebook.md("[click](http://x) <img src=x> | a") == r"\[click\](http://x) \<img src=x\> \| a"


# ---- release zips and Gradescope -------------------------------------------------------------------
def test_release_zip_is_byte_identical_from_the_same_source(tmp_path, capsys):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        assert cli.main(["release", "A1", "--out", str(tmp_path / name / "copy"), "--zip"]) == 0
    first, second = (tmp_path / n / "A1-student.zip" for n in ("one", "two"))
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as packed:
        names = packed.namelist()
        assert names == sorted(names) and "A1-student/ASSIGNMENT.md" in names
        assert {i.date_time for i in packed.infolist()} == {packing.ZIP_DATE}
        assert not any("__pycache__" in n for n in names)


def test_gradescope_bundle_runs_on_a_folder_laid_out_as_gradescope_does(tmp_path, copies):
    bundle = tmp_path / "autograder.zip"
    assert cli.main(["gradescope", "A1", "--out", str(bundle)]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as packed:
        assert {"setup.sh", "run_autograder", "minigan-src/setup.cfg"} <= set(packed.namelist())
        assert packed.getinfo("run_autograder").external_attr >> 16 & 0o111
        packed.extractall(root / "source")
    shutil.copytree(copies["wrong_log"], root / "submission")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), MINIGAN_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert set(results) >= {"score", "tests", "output", "visibility"}
    assert [t["number"] for t in results["tests"]] == [f"A1.{i}" for i in range(1, 9)]
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert isinstance(test["score"], int) and 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    alone = {row["id"]: row["points"] for row in grade("A1", copies["wrong_log"])["parts"]}
    assert {t["number"]: t["score"] for t in results["tests"]} == alone  # the grade, graded alone
    assert results["score"] == sum(alone.values()) < 20 and alone["A1.5"] == 0
    assert results["tests"][4]["status"] == "failed" and "Log backward" in results["tests"][4]["output"]


def test_gradescope_run_on_a_broken_upload_writes_zero_with_the_reason(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "homework.py").write_text("print('hi')\n")
    assert cli.main(["gradescope", "A1", "--run", str(root)]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "no minigan/ package" in results["output"]
    assert all(t["score"] == 0 and "not graded" in t["output"] for t in results["tests"])


def test_the_grading_benchmark_runs(tmp_path):
    """A smoke run of benchmarks/grading.py: it builds its class and prints one row per run (no timing asserted)."""
    done = subprocess.run([sys.executable, str(SOURCE_ROOT / "benchmarks" / "grading.py"), "--copies", "4", "--jobs",
                           "2", "--parts", "A1.4"], cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 1 and rows[0][:3] == ["4", "2", "fork"] and float(rows[0][3]) > 0
