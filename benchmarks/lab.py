"""How fast the lab is in a real browser: frames drawn per second while training, iterations
per second meanwhile, and how long a click takes to show.

    python benchmarks/lab.py                  # ring, default recipe, 20 s of play, 10 clicks
    python benchmarks/lab.py --seconds 5 --clicks 3 --json

It starts ``python -m minigan.lab --no-browser``, loads the page in Debian's chromium
(headless, through Playwright) and presses play. After a warm-up it counts, over
``--seconds``, the frames the page drew (``window.lab.stats.framesShown``, counted in the
page's requestAnimationFrame) and the iterations done (the page's ``#step``). Then, paused,
it clicks "one iteration" ``--clicks`` times and times each click until ``#step`` shows the
new count (performance.now() in the page, from the click event to the drawn frame), and
times "pause" during play until the drawn count stops.

The targets (issue 17), on 2 quiet cores: 20 frames/s or more while training 150
iterations/s or more, and a click shown within 200 ms. The machine's load average is
printed with the numbers: on a shared machine they say as much about the others as about
the lab.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WARM_UP = 3.0   # seconds of play before counting (the first frames, the page's charts filling)

# In the page: click a button, resolve with the ms until #step shows a new count.
CLICK_UNTIL_STEP_CHANGES = """(id) => new Promise((resolve) => {
  const step = document.getElementById('step'), before = step.textContent;
  const observer = new MutationObserver(() => {
    if (step.textContent !== before) { observer.disconnect(); resolve(performance.now() - start); }
  });
  observer.observe(step, {childList: true, characterData: true, subtree: true});
  const start = performance.now();
  document.getElementById(id).click();
})"""

# In the page, while playing: click pause, resolve with the ms until the last new count is drawn.
PAUSE_UNTIL_STEP_STOPS = """() => new Promise((resolve) => {
  const step = document.getElementById('step');
  let last = performance.now();
  const observer = new MutationObserver(() => { last = performance.now(); });
  observer.observe(step, {childList: true, characterData: true, subtree: true});
  const start = performance.now();
  document.getElementById('pause').click();
  setTimeout(() => { observer.disconnect(); resolve(last - start); }, 1500);
})"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used, from /proc (Linux); NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime
    except (OSError, ValueError, IndexError):
        return float("nan")


def measure(seconds: float, clicks: int, warm_up: float = WARM_UP) -> dict:
    from playwright.sync_api import sync_playwright

    out = tempfile.mkdtemp(prefix="minigan-lab-bench-")
    process = subprocess.Popen([sys.executable, "-m", "minigan.lab", "--no-browser", "--out", out],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().strip().split(": ", 1)[1]
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                tempfile.mkdtemp(prefix="minigan-lab-chromium-"), executable_path=CHROMIUM, headless=True,
                args=ARGS, viewport={"width": 1400, "height": 900}, bypass_csp=True)
            page = context.new_page()
            page.goto(url)
            page.wait_for_function("window.lab && window.lab.stats.framesShown > 0", timeout=30000)
            load_before = load()
            page.click("#play")
            time.sleep(warm_up)
            cpu0 = cpu_seconds(process.pid)
            frames0, step0, t0 = page.evaluate("[window.lab.stats.framesShown, Number(document.getElementById('step').textContent), performance.now()]")
            time.sleep(seconds)
            frames1, step1, t1 = page.evaluate("[window.lab.stats.framesShown, Number(document.getElementById('step').textContent), performance.now()]")
            cpu1 = cpu_seconds(process.pid)
            elapsed = (t1 - t0) / 1000
            pause_ms = page.evaluate(PAUSE_UNTIL_STEP_STOPS)
            click_ms = []
            for _ in range(clicks):
                click_ms.append(page.evaluate(CLICK_UNTIL_STEP_CHANGES, "step-iter"))
                time.sleep(0.2)
            load_after = load()
            context.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    return {"frames_per_second": (frames1 - frames0) / elapsed, "iterations_per_second": (step1 - step0) / elapsed,
            "seconds": round(elapsed, 2),
            # the share of one core the lab's process got, and its iterations per CPU second (frames included):
            # on a busy machine the second says what a core of its own would give
            "lab_cpu_share": (cpu1 - cpu0) / elapsed, "iterations_per_cpu_second": (step1 - step0) / (cpu1 - cpu0), "click_ms_median": statistics.median(click_ms) if click_ms else None,
            "click_ms_max": max(click_ms) if click_ms else None, "clicks": len(click_ms), "pause_ms": pause_ms,
            "load_before": load_before, "load_after": load_after, "cores": os.cpu_count()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of play that are counted (after a warm-up)")
    p.add_argument("--clicks", type=int, default=10, help="'one iteration' clicks timed")
    p.add_argument("--warm-up", type=float, default=WARM_UP, help=f"seconds of play before counting (default {WARM_UP:g})")
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = p.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"benchmarks/lab.py: error: no {CHROMIUM}; apt-get install chromium", file=sys.stderr)
        return 1
    result = measure(args.seconds, args.clicks, args.warm_up)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"minigan lab, ring, default recipe, chromium headless, {result['cores']} cores "
          f"(load average {result['load_before']} before, {result['load_after']} after)")
    print(f"  frames drawn per second   {result['frames_per_second']:7.1f}   (target >= 20)")
    print(f"  iterations per second     {result['iterations_per_second']:7.1f}   (target >= 150)")
    print(f"  the lab's share of a core {result['lab_cpu_share']:7.2f}   ({result['iterations_per_cpu_second']:.1f} "
          f"iterations per CPU second of the lab, frames included)")
    if result["clicks"]:
        print(f"  click to drawn count, ms  {result['click_ms_median']:7.1f}   median of {result['clicks']} "
              f"'one iteration' clicks, max {result['click_ms_max']:.1f} (target < 200)")
    print(f"  pause to last count, ms   {result['pause_ms']:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
