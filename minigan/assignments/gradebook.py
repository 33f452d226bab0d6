"""The class's results, written for people and for programs: the files in RESULTS/.

- grades.csv       one row per student: student_id, a column per part, total, max, status,
                   grading seconds, note. Student id first, plain numbers: spreadsheets and
                   LMS grade imports take it as it is.
- feedback/ID.md   the student's report in words, to send back.
- report.json      everything, for scripts.
- summary.md       what a teacher reads first: the distribution per part, the most common
                   feedback per part (which mistake is common), the students to look at.
- totals.png       a histogram of the totals.

Every text that came from a student's copy (feedback quotes its errors; ids are checked by
unpack.py) is escaped for Markdown here, so that a copy cannot put links or HTML into what
the teacher reads. Every file is written atomically, from the result files alone, so it
can be rebuilt at any time (``--student`` does that after regrading one).
"""
from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter
from pathlib import Path

from minigan.gan.checkpoint import atomic_file

MARKDOWN = re.compile(r"([\\`*_\[\]<>|~])")


def md(text) -> str:
    """``text`` with every Markdown-special character escaped (shown as written, never rendered)."""
    return MARKDOWN.sub(r"\\\1", str(text))


def _write(path: Path, text: str) -> None:
    with atomic_file(path, "w") as file:
        file.write(text)


def grades_csv(chosen, records: list) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", *[p.id for p in chosen.parts], "total", "max", "status", "seconds", "note"])
    for r in records:
        points = {row["id"]: row["points"] for row in r["parts"]}
        ungraded = r["status"] == "error: grader"  # the student's score is unknown, not 0
        cells = ["" if ungraded else points.get(p.id, 0) for p in chosen.parts]
        writer.writerow([r["student"], *cells, "" if ungraded else r["score"], chosen.points, r["status"],
                         f"{r['seconds']:.1f}", _csv_safe(r["reason"])])
    return buffer.getvalue()


def _csv_safe(text: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ as a formula: quote it as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def feedback(chosen, r: dict) -> str:
    lines = [f"# {chosen.id}: {md(chosen.title)}", "", f"Student: {md(r['student'])}  ",
             f"Submission: {md(r['submission'])}  "]
    if r["status"] != "graded":
        lines += [f"Status: **{md(r['status'])}**", "", md(r["reason"]), "",
                  "Nothing was graded. " + _what_to_do(r["status"])]
        return "\n".join(lines) + "\n"
    lines += [f"Total: **{r['score']}/{r['max_score']}**", "", "| part | what | points | result |",
              "|------|------|--------|--------|"]
    for row in r["parts"]:
        lines.append(f"| {row['id']} | {md(row['title'])} | {row['points']}/{row['max_points']} | "
                     f"{md(row['status'].replace('_', ' '))} |")
    lines.append("")
    for row in r["parts"]:
        lines += [f"**{row['id']}** ({row['points']}/{row['max_points']}): {md(row['feedback'])}", ""]
    if r.get("warning"):
        lines += [f"Note: {md(r['warning'])}", ""]
    return "\n".join(lines)


def _what_to_do(status: str) -> str:
    if status == "error: bad archive":
        return ("Zip or tar the folder of your copy (the one holding minigan/) as it is, with no links, "
                "and submit it again.")
    return "The grader itself failed on this copy; your teacher will grade it again."


def common_feedback(rows: list) -> tuple:
    """(the most common feedback among rows that lost points with something written, how many),
    feedback that differs only in its numbers counted as one."""
    lost = [row["feedback"] for row in rows if row["points"] < row["max_points"] and row["status"] != "not_implemented"]
    if not lost:
        return "", 0
    shapes = Counter(re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", text) for text in lost)
    shape, count = shapes.most_common(1)[0]
    example = next(t for t in lost if re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", t) == shape)
    return example, count


def summary_md(chosen, records: list, entries: dict, notes: list) -> str:
    graded = [r for r in records if r["status"] == "graded"]
    totals = [r["score"] for r in graded]
    lines = [f"# {chosen.id}: {md(chosen.title)}: the class", "",
             f"{len(records)} of {len(entries)} students have results: {len(graded)} graded, "
             f"{len(records) - len(graded)} with errors, {len(entries) - len(records)} not graded yet.", ""]
    if totals:
        lines += [f"Totals (of {chosen.points}): mean {statistics.mean(totals):.1f}, median "
                  f"{statistics.median(totals):g}, min {min(totals)}, max {max(totals)}; full marks: "
                  f"{sum(t == chosen.points for t in totals)}. Histogram: totals.png.", ""]
    lines += ["| part | points | mean | full | some | none | statuses |", "|---|---|---|---|---|---|---|"]
    for part in chosen.parts:
        rows = [row for r in graded for row in r["parts"] if row["id"] == part.id]
        if not rows:
            continue
        got = [row["points"] for row in rows]
        statuses = Counter(row["status"].replace("_", " ") for row in rows)
        lines.append(f"| {part.id} | {part.points} | {statistics.mean(got):.2f} | "
                     f"{sum(g == part.points for g in got)} | {sum(0 < g < part.points for g in got)} | "
                     f"{sum(g == 0 for g in got)} | "
                     + ", ".join(f"{k} {v}" for k, v in statuses.most_common()) + " |")
    lines += ["", "## The most common mistake per part", "",
              "Among the copies that lost the part's points with code written (not left blank):", ""]
    for part in chosen.parts:
        rows = [row for r in graded for row in r["parts"] if row["id"] == part.id]
        text, count = common_feedback(rows)
        blank = sum(row["status"] == "not_implemented" for row in rows)
        lines.append(f"- **{part.id}** {md(part.title)}: " + (f"{count} {'copy' if count == 1 else 'copies'}: {md(text)}" if count else "none")
                     + (f" ({blank} left it blank)" if blank else ""))
    warnings = sorted({r["warning"] for r in graded if r.get("warning")})
    if warnings:
        lines += ["", "## Warnings", ""] + [f"- {md(w)}" for w in warnings]
    errors = [r for r in records if r["status"] != "graded"]
    if errors or notes:
        lines += ["", "## To look at", ""]
        lines += [f"- {md(r['student'])}: {md(r['status'])}: {md(r['reason'])}" for r in errors]
        lines += [f"- {md(note)}" for note in notes]
    return "\n".join(lines) + "\n"


def histogram(chosen, totals: list, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from minigan.judging.plot import save_figure

    figure = Figure(figsize=(6, 3.5))
    axes = figure.add_subplot()
    axes.hist(totals, bins=range(0, chosen.points + 2), align="left", rwidth=0.85, color="#4a7ab0")
    axes.set_xlabel(f"total (of {chosen.points})")
    axes.set_ylabel("students")
    axes.set_title(f"{chosen.id}: totals of {len(totals)} graded copies")
    axes.set_xlim(-0.5, chosen.points + 0.5)
    figure.tight_layout()
    save_figure(figure, str(path))


def write_all(out: Path, chosen, entries: dict, results: dict, notes: list) -> dict:
    """Write every file of RESULTS/ from the result records of the students in ``entries``."""
    records = [results[sid] for sid in sorted(entries) if sid in results]
    (out / "feedback").mkdir(exist_ok=True)
    _write(out / "grades.csv", grades_csv(chosen, records))
    for r in records:
        _write(out / "feedback" / f"{r['student']}.md", feedback(chosen, r))
    errors = sum(r["status"] != "graded" for r in records)
    report = {"assignment": chosen.id, "title": chosen.title, "max_score": chosen.points,
              "parts": [{"id": p.id, "title": p.title, "max_points": p.points} for p in chosen.parts],
              "students": len(entries), "graded": len(records), "errors": errors,
              "not_graded": sorted(set(entries) - set(results)), "skipped": notes, "results": records}
    _write(out / "report.json", json.dumps(report, indent=1))
    _write(out / "summary.md", summary_md(chosen, records, entries, notes))
    histogram(chosen, [r["score"] for r in records if r["status"] == "graded"], out / "totals.png")
    return {"students": len(entries), "graded": len(records), "errors": errors}
