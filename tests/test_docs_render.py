"""The docs render as written: no control character in any page, and the math fits the column.

- Every Markdown page (docs/, README.md, tutorials/README.md) is free of control
  characters. A TAB where ``\\tfrac`` was meant (Python's "\\t" escape in a string that
  wrote the page) turns the formula into broken text, and nothing else would notice.
- The site is built with mkdocs (the two pages with the widest math, with the site's own
  theme, extensions and MathJax hook) and opened in Debian's chromium, driven by Playwright,
  at 1280 px: every display equation of the optimal-discriminator and losses pages must
  fit inside the text column, and every entry of their tables of contents must show whole
  (not cut off with an ellipsis). Skipped, with the reason, where mkdocs, Playwright or
  /usr/bin/chromium is missing (.ci/run installs all three before the tests).
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
PAGES = ("math/optimal_discriminator.md", "math/losses.md")
WIDTH = 1280
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")   # all but the newline (\x0a): TABs too


def markdown_pages():
    return sorted([*DOCS.rglob("*.md"), ROOT / "README.md", ROOT / "tutorials" / "README.md"])


def control_characters(text: str) -> list[str]:
    """'line N: repr' for each line of ``text`` holding a control character."""
    return [f"line {number}: {line.strip()[:80]!r}" for number, line in enumerate(text.split("\n"), 1)
            if CONTROL.search(line)]


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_holds_a_control_character(page):
    found = control_characters(page.read_text(encoding="utf-8"))
    assert not found, f"{page.relative_to(ROOT)}: control characters (a \\t where \\tfrac was meant?): {found}"


def test_the_control_character_check_finds_a_tab_where_tfrac_was_meant():
    planted = "adds $\\tfrac{\\gamma}{2}R_1$ at the real $x$".replace("\\tfrac", "\tfrac")   # the old bug
    assert control_characters("fine\n" + planted) == [f"line 2: {planted.strip()!r}"]
    assert control_characters("$\\tfrac{1}{2}$ and\r\nmore") and not control_characters("$\\tfrac{1}{2}$\n")


# ---- the math, rendered ---------------------------------------------------------------------------
def build_site(folder: pathlib.Path) -> pathlib.Path:
    """The two pages built with mkdocs.yml's theme, extensions, hooks and scripts (not its API
    pages: mkdocstrings would take a minute and has no math); returns the site folder."""
    yaml = pytest.importorskip("yaml", reason="pip install -e '.[docs]' (mkdocs brings PyYAML)")
    if shutil.which("mkdocs") is None and not (pathlib.Path(sys.executable).parent / "mkdocs").exists():
        pytest.skip("no mkdocs: pip install -e '.[docs]' (.ci/run installs it before the tests)")
    pytest.importorskip("material", reason="pip install -e '.[docs]' (the mkdocs-material theme)")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    docs = folder / "docs"
    for page in PAGES:
        (docs / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DOCS / page, docs / page)
    shutil.copytree(DOCS / "javascripts", docs / "javascripts", ignore=shutil.ignore_patterns("mathjax"))
    for name in config.get("extra_css", []):
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DOCS / name, docs / name)
    config.update(docs_dir=str(docs), site_dir=str(folder / "site"), strict=False,
                  hooks=[str(ROOT / hook) for hook in config.get("hooks", [])],
                  plugins=["search"], nav=list(PAGES), exclude_docs="")
    config.pop("validation", None)            # links to pages left out are fine here
    config_path = folder / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(config))
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file", str(config_path)],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder / "site"


MEASURE = """async () => {
  await MathJax.startup.promise;
  await MathJax.typesetPromise();
  const column = document.querySelector("article.md-content__inner");
  const box = column.getBoundingClientRect(), style = getComputedStyle(column);
  const left = box.left + parseFloat(style.paddingLeft), right = box.right - parseFloat(style.paddingRight);
  const equations = [];
  for (const item of MathJax.startup.document.math) {
    if (!item.display || !item.typesetRoot) continue;
    const math = item.typesetRoot.querySelector("mjx-math").getBoundingClientRect();
    equations.push({tex: item.math.trim().replace(/\\s+/g, " ").slice(0, 90),
                    width: math.width, over: Math.max(math.right - right, left - math.left)});
  }
  const contents = [...document.querySelectorAll(".md-sidebar .md-nav__link")]
    .filter(link => link.offsetParent !== null)
    .map(link => {
      const text = link.querySelector(".md-ellipsis") || link;
      return {text: text.textContent.trim(), cut: text.scrollWidth > text.clientWidth + 1};
    });
  return {column: right - left, equations, contents};
}"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{page: what MEASURE found on it at 1280 px}; screenshots beside the site."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra has it)")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium (the docs' render test drives the system browser)")
    folder = tmp_path_factory.mktemp("docs-render")
    site = build_site(folder)
    found = {}
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch_persistent_context(
                tempfile.mkdtemp(prefix="minigan-docs-chromium-"), executable_path=CHROMIUM, headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"], viewport={"width": WIDTH, "height": 900})
        except Exception as error:   # Playwright's own Error types: any of them means "cannot start"
            pytest.skip(f"chromium at {CHROMIUM} cannot start under Playwright: {str(error).splitlines()[0]}")
        try:
            page = browser.new_page()
            for name in PAGES:
                page.goto((site / name.replace(".md", "") / "index.html").as_uri())
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                       timeout=60_000)
                found[name] = page.evaluate(MEASURE)
                page.screenshot(path=str(folder / f"{pathlib.Path(name).stem}.png"), full_page=True)
        finally:
            browser.close()
    return found


@pytest.mark.parametrize("name", PAGES)
def test_every_display_equation_fits_the_column_at_1280_px(rendered, name):
    page = rendered[name]
    assert len(page["equations"]) >= 6, f"{name}: MathJax typeset only {len(page['equations'])} display equations"
    assert 500 < page["column"] < WIDTH, page["column"]
    wide = [f"{e['tex']} ({e['width']:.0f} px)" for e in page["equations"] if e["over"] > 0.5]
    assert not wide, f"{name}: wider than the {page['column']:.0f} px column: {wide}"


@pytest.mark.parametrize("name", PAGES)
def test_every_contents_entry_shows_whole(rendered, name):
    entries = rendered[name]["contents"]
    assert len(entries) >= 4, entries
    cut = [entry["text"] for entry in entries if entry["cut"]]
    assert not cut, f"{name}: contents entries cut off: {cut}"
