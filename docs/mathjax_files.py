"""MkDocs hook: put MathJax into the built site, from an installed package, so no page needs the network.

The files come from django-static-mathjax (in the ``docs`` extra: ``pip install -e ".[docs]"``),
which holds MathJax 3.2.2's own release files under ``mathjax/static/mathjax/es5``; it needs
no Django to install or to be read from. The hook adds the parts a page can load to the
site under ``javascripts/mathjax/``, and ``mkdocs.yml`` loads ``tex-chtml.js`` from there.
MathJax finds the rest (fonts, extensions) relative to that script. ``docs/check_offline.py``
then checks that no built page loads anything from another host.
"""
from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

TARGET = "javascripts/mathjax"
PARTS = [  # what tex-chtml.js loads, relative to its own folder
    "tex-chtml.js",                 # TeX in, HTML + CSS out: the page's one script tag
    "input/tex/extensions",         # TeX packages it loads on first use (autoload)
    "output/chtml/fonts/woff-v2",   # the math fonts
    "ui",                           # the right-click menu
    "a11y",                         # the menu's accessibility options ...
    "sre",                          # ... and the speech rules they load
]


def mathjax_folder() -> Path:
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError:
        raise PluginError('the docs need MathJax\'s files: pip install -e ".[docs]" (django-static-mathjax)') from None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (folder / "tex-chtml.js").is_file():
        raise PluginError(f"MathJax: no tex-chtml.js in {folder}; reinstall django-static-mathjax")
    return folder


def on_files(files, config):
    folder = mathjax_folder()
    for part in PARTS:
        path = folder / part
        for source in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            uri = f"{TARGET}/{source.relative_to(folder).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files
