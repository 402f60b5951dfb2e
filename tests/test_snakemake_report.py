"""The report's caption rendering in linear time (latentwalk.report.snakemake_report): which link targets it drops, that
docutils writes the same HTML without them, and that the patches take hold on the pinned Snakemake. The whole
report built both ways is compared byte for byte in tests/test_audit.py."""

from __future__ import annotations

import subprocess
import sys

from docutils.core import publish_parts
from hypothesis import given, settings
from hypothesis import strategies as st

from latentwalk.report.snakemake_report import drop_unreferenced_targets

LINKS = """
.. _Workflow: javascript:show_panel('workflow')
.. _Data and training: javascript:app.showCategory('Data%20and%20training')
.. _grid.png: javascript:app.showResultInfo('results/figures/digits/ae-z2/walks/grid.png')
.. _latent_scatter.png: javascript:app.showResultInfo('results/figures/digits/ae-z2/latent_scatter.png')
"""


def test_drops_exactly_the_targets_never_named() -> None:
    caption = "The decoded grid, see `grid.png`_ and the `Workflow`_.\n" + LINKS
    out = drop_unreferenced_targets(caption)
    assert ".. _grid.png:" in out and ".. _Workflow:" in out
    assert "latent_scatter.png" not in out and "Data and training" not in out
    assert out.splitlines()[0] == caption.splitlines()[0]


def test_names_match_as_docutils_matches_them() -> None:
    """Case-insensitive, any whitespace run equal to one space (a reference may wrap across lines)."""
    caption = "Open `data and\n   TRAINING`_ first.\n" + LINKS
    assert ".. _Data and training:" in drop_unreferenced_targets(caption)


def test_leaves_other_text_and_other_targets_alone() -> None:
    plain = "A caption.\n\n.. _elsewhere: https://example.org\n"
    assert drop_unreferenced_targets(plain) == plain
    assert drop_unreferenced_targets(plain + LINKS) == plain + "\n"


NAMES = ["Workflow", "Statistics", "Data and training", "grid.png", "lerp.png", "walks", "path_norms.png", "z-2"]


@settings(max_examples=40, deadline=None)
@given(referenced=st.lists(st.sampled_from(NAMES), max_size=4), defined=st.lists(st.sampled_from(NAMES), min_size=1, unique=True))
def test_docutils_writes_the_same_html_without_the_dropped_targets(referenced: list[str], defined: list[str]) -> None:
    """The claim the speed-up rests on: dropping never-named javascript targets changes no byte of the HTML body
    (references to defined names resolve, to undefined ones stay errors, either way)."""
    body = "A caption: " + ", ".join(f"`{name}`_" for name in referenced) + ".\n" if referenced else "A caption.\n"
    rst = body + "\n" + "".join(f".. _{name}: javascript:app.show('{k}')\n" for k, name in enumerate(defined))
    assert publish_parts(drop_unreferenced_targets(rst), writer="html")["body"] == publish_parts(rst, writer="html")["body"]


def test_install_patches_the_pinned_snakemake() -> None:
    """install() reports False where Snakemake, Jinja or PyYAML moved an attribute it replaces: not on ours."""
    code = "from latentwalk.report.snakemake_report import install; print(install())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "True", proc.stderr[-2000:]
