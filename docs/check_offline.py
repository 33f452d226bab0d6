"""Does the built docs site load anything from another host? Exit status 1 if it does.

    mkdocs build --strict --site-dir site && python docs/check_offline.py site

A classroom without internet must still see every page as it is meant to look, math
included. So no built page may load a script, a stylesheet, a font or an image from another
host; links a reader may click (``<a href="https://...">``) are fine. Checked:

- every ``.html`` file: ``<script src>``, ``<link href>`` for stylesheets, fonts, icons,
  preloads and preconnects, ``<img src>``, ``<iframe src>``, and ``url(...)`` or
  ``@import`` in ``<style>`` blocks and ``style=`` attributes;
- every ``.css`` file: ``url(...)`` and ``@import``.

A reference is external when it names a scheme other than ``data:`` (``https://``,
``http://``) or starts with ``//`` (the page's scheme, another host). Each one found is
printed as ``page: <tag> -> address``.
"""
from __future__ import annotations

import argparse
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

CSS_REFERENCE = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)['"]""", re.IGNORECASE)
LOADED_BY_LINK = {"stylesheet", "preload", "modulepreload", "preconnect", "dns-prefetch", "prefetch",
                  "icon", "shortcut", "apple-touch-icon", "manifest"}


def is_external(address: str) -> bool:
    address = address.strip().lower()
    if address.startswith("//"):
        return True
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", address)
    return bool(scheme) and scheme.group(1) != "data"


def css_references(text: str) -> list[str]:
    return [url or imported for url, imported in CSS_REFERENCE.findall(text)]


class PageLoads(HTMLParser):
    """Collects (what, address) for everything an HTML page makes the browser fetch."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and attrs.get("src"):
            self.loads.append((f"<{tag} src>", attrs["src"]))
        if tag == "link" and LOADED_BY_LINK & set(attrs.get("rel", "").lower().split()):
            self.loads.append((f"<link rel={attrs['rel']}>", attrs.get("href", "")))
        if tag == "object" and attrs.get("data"):
            self.loads.append(("<object data>", attrs["data"]))
        for address in css_references(attrs.get("style", "")):
            self.loads.append((f"<{tag} style>", address))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.loads.extend(("<style>", address) for address in css_references(data))


def external_loads(site: Path) -> list[str]:
    """'page: what -> address' for every external load in the site folder."""
    found = []
    for path in sorted(site.rglob("*.html")):
        parser = PageLoads()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        found += [f"{path.relative_to(site)}: {what} -> {address}" for what, address in parser.loads
                  if is_external(address)]
    for path in sorted(site.rglob("*.css")):
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(site)}: url() -> {address}" for address in css_references(text)
                  if is_external(address)]
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site folder (mkdocs build --site-dir)")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"site: got {str(args.site)!r}, wanted a built MkDocs site (a folder with index.html)", file=sys.stderr)
        return 2
    found = external_loads(args.site)
    for line in found:
        print(line)
    pages = sum(1 for _ in args.site.rglob("*.html"))
    if found:
        print(f"{len(found)} external loads in {args.site}: the site would not work offline", file=sys.stderr)
        return 1
    print(f"offline: {pages} pages and their stylesheets load nothing from another host")
    return 0


if __name__ == "__main__":
    sys.exit(main())
