"""docs/check_offline.py: it finds every kind of external load, and lets local files and links pass.

Each test writes a tiny "built site" (an index.html and maybe a stylesheet) and runs the
checker on it; the real site is checked by CI after ``mkdocs build``. The MathJax hook
(docs/mathjax_files.py) is checked to find its files where the docs extra installs them.
"""
import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def load(name):
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_offline = load("check_offline")


def site(tmp_path, head="", body="", css=None):
    (tmp_path / "index.html").write_text(f"<html><head>{head}</head><body>{body}</body></html>", encoding="utf-8")
    if css is not None:
        (tmp_path / "assets").mkdir()
        (tmp_path / "assets" / "main.css").write_text(css, encoding="utf-8")
    return tmp_path


LOCAL = (
    '<script src="javascripts/mathjax/tex-chtml.js"></script><link rel="stylesheet" href="../assets/main.css">'
    '<link rel="icon" href="assets/favicon.png"><img src="data:image/png;base64,AAAA">'
)


def test_a_local_site_passes_and_links_are_not_loads(tmp_path, capsys):
    body = '<a href="https://arxiv.org/abs/1406.2661">the paper</a><p>https://unpkg.com in text</p>'
    css = "@font-face { src: url(fonts/a.woff) } .x { background: url('data:image/svg+xml;utf8,<svg/>') }"
    assert check_offline.main([str(site(tmp_path, LOCAL, body, css))]) == 0
    assert "load nothing from another host" in capsys.readouterr().out


@pytest.mark.parametrize("head, found", [
    ('<script src="https://unpkg.com/mathjax@3/es5/tex-mml-chtml.js"></script>', "<script src> -> https://unpkg.com"),
    ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">', "<link rel=stylesheet>"),
    ('<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>', "<link rel=preconnect>"),
    ('<script src="//cdn.example.org/x.js"></script>', "-> //cdn.example.org/x.js"),  # no scheme: still another host
    ('<style>@import "https://fonts.googleapis.com/css2?family=Roboto";</style>', "<style> -> https://fonts"),
    ('<style>body { font-family: x; src: url(HTTP://fonts.example.org/a.woff) }</style>', "<style> -> HTTP://"),
    ('<img src="https://example.org/figure.png">', "<img src>"),
])
def test_each_kind_of_external_load_fails(tmp_path, capsys, head, found):
    assert check_offline.main([str(site(tmp_path, LOCAL + head))]) == 1
    out = capsys.readouterr()
    assert found in out.out and "index.html: " in out.out and "would not work offline" in out.err


def test_a_stylesheet_that_fetches_a_font_fails(tmp_path, capsys):
    css = "@font-face { font-family: Roboto; src: url('https://fonts.gstatic.com/s/roboto.woff2') }"
    assert check_offline.main([str(site(tmp_path, LOCAL, css=css))]) == 1
    assert "assets/main.css: url() -> https://fonts.gstatic.com" in capsys.readouterr().out


def test_a_folder_that_is_not_a_site_is_refused(tmp_path, capsys):
    assert check_offline.main([str(tmp_path)]) == 2
    assert "wanted a built MkDocs site" in capsys.readouterr().err


def test_the_mathjax_hook_finds_the_packaged_files():
    pytest.importorskip("mkdocs")
    pytest.importorskip("mathjax", reason="the docs extra is not installed (pip install -e '.[docs]')")
    folder = load("mathjax_files").mathjax_folder()
    assert (folder / "tex-chtml.js").is_file()
    assert any((folder / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
