"""The lab's charts, kept by the server too: a page that reloads (or a second tab) gets them all.

The page draws its charts from the frames' records as they arrive. A page that connects
later would start with empty charts, so the worker keeps the same series here and sends
them whole in the first frame a new page gets. A long run must not make that frame large:
each series keeps at most ``MAX_POINTS`` points; past that, the older half is thinned to
every other point, so recent training stays sharp and early training stays in outline.

    charts = ChartHistory()
    charts.add_records(rows)                # the rows of one frame (iterations, single D/G updates)
    charts.add("modes", step, 0.75)
    frame["history"] = charts.series        # {name: [[step, value], ...]}
"""
from __future__ import annotations

import math

MAX_POINTS = 2000          # per series: a reconnect sends at most about 8 x 2000 x 2 numbers
D_NAMES = ("d_loss", "value", "d_real", "d_fake")   # what a D update (or an iteration) records


class ChartHistory:
    """Every chart's series as [step, value] pairs, oldest first, thinned past MAX_POINTS."""

    def __init__(self, max_points: int = MAX_POINTS):
        self.max_points = max_points
        self.series = {}

    def add(self, name: str, step: int, value) -> None:
        """One point; None or a value that is not finite (a diverged run) is left out, as the page does."""
        if value is None or not math.isfinite(value):
            return
        points = self.series.setdefault(name, [])
        points.append([step, value])
        if len(points) > self.max_points:
            half = len(points) // 2           # the older half loses every other point
            self.series[name] = points[:half:2] + points[half:]

    def add_records(self, records: list) -> None:
        """The records of one frame, as LabCharts.addRecords in static/charts.js reads them."""
        for r in records:
            if "d_loss" in r:
                for name in D_NAMES:
                    self.add(name, r["step"], r.get(name))
            if "g_loss" in r:
                self.add("g_loss", r["step"], r.get("g_loss"))
