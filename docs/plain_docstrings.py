"""A griffe extension for the API reference: show each docstring exactly as written.

minigan's docstrings are plain text laid out for reading in the source: aligned argument
columns, formulas on their own indented lines, "VJP: grad_x = ..." lines. Parsed as
Markdown (or as Google-style sections, which turn any "Word:" line into an admonition)
they lose that layout, so this wraps each one in a ```text fence: the page shows what the
code says, character for character. Loaded by mkdocs.yml (plugins: mkdocstrings: handlers:
python: options: extensions).
"""
from __future__ import annotations

import griffe


class PlainDocstrings(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        docstring = obj.docstring
        if docstring is not None and docstring.value and not docstring.value.startswith("```"):
            docstring.value = "```text\n" + docstring.value + "\n```"
