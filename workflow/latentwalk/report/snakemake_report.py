"""``snakemake --report`` with its captions rendered in linear time: ``python -m latentwalk.report.snakemake_report ARGS``.

Snakemake renders every report file's caption on its own: the caption's rst
with a block of link targets appended (one ``.. _name: javascript:...`` line
per file in the report), compiled as a new Jinja template, rendered, and
parsed by docutils. With n files that is n template compilations and n docutils
parses of n link targets each: quadratic. The default run's 264 report files
spent 5.3 of the report job's 8.6 core-seconds there.

:func:`install` makes it linear without changing a byte of the report:

- Jinja templates are compiled once per distinct source (a template is
  immutable once compiled, so rendering a cached one gives the same text);
- before docutils parses a caption, the appended link targets whose name
  appears nowhere else in the text are dropped: a name that is never written
  cannot be referenced, and an external link target that is never referenced
  writes nothing into docutils' HTML (its ids are derived from its own name);
- the software environment each job record holds (the same YAML text for
  every job of the default run) is parsed once per distinct text, each caller
  getting its own deep copy: 177 parses by PyYAML's pure-Python loader were
  0.76 core-seconds.

A test builds a report with and without :func:`install` and compares the bytes.
Everything else (arguments, exit status, output) is Snakemake's own.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
import jinja2
import snakemake.report as report
import yaml
from snakemake.cli import main as snakemake_main
import subprocess
import tempfile
from latentwalk.core.io import LatentwalkError, atomic_path
from latentwalk.core.logs import jsonable

__all__ = ["build_report", "install", "drop_unreferenced_targets", "main"]

#: One link target of the block Snakemake appends to each caption (``snakemake.report.auto_report``).
_LINK_TARGET = re.compile(r"^\.\. _(?P<name>[^:\n]+): javascript:.*$")


def _normal(text: str) -> str:
    """Text as docutils compares reference names: case-insensitive, any run of whitespace one space."""
    return " ".join(text.lower().split())


def drop_unreferenced_targets(rst: str) -> str:
    """``rst`` without its ``.. _name: javascript:...`` link targets whose name occurs nowhere else in it.

    A reference to a target spells its name (``name_`` or ```name`_``, compared case-insensitively with
    whitespace normalised), so a name absent from the rest of the text has no reference; the test is a plain
    substring match and so keeps every target that might be referenced (and some that are not).
    """
    lines = rst.split("\n")
    targets = {k: m.group("name") for k, line in enumerate(lines) if (m := _LINK_TARGET.match(line))}
    if not targets:
        return rst
    rest = _normal("\n".join(line for k, line in enumerate(lines) if k not in targets))
    return "\n".join(line for k, line in enumerate(lines) if k not in targets or _normal(targets[k]) in rest)


def _cached_from_string(from_string: Callable[..., Any]) -> Callable[..., Any]:
    """``Environment.from_string`` that compiles each (environment, source) once; other calls pass through."""
    cache: dict[tuple[int, str], Any] = {}

    def cached(self: Any, source: Any, globals: Any = None, template_class: Any = None) -> Any:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return from_string(self, source, globals, template_class)
        key = (id(self), source)
        if key not in cache:
            cache[key] = (self, from_string(self, source))  # holding the environment keeps its id unique
        return cache[key][1]

    return cached


def _cached_yaml_load(load: Callable[..., Any], loader: type) -> Callable[..., Any]:
    """``yaml.load`` that parses each text once for ``loader`` and returns a deep copy of the result; any other
    call (a stream, another loader) passes through."""
    cache: dict[str, Any] = {}

    def cached(stream: Any, Loader: Any = None) -> Any:  # noqa: N803 (PyYAML's own keyword)
        if not isinstance(stream, str) or Loader is not loader:
            return load(stream, Loader)
        if stream not in cache:
            cache[stream] = load(stream, Loader)
        return copy.deepcopy(cache[stream])

    return cached


def install() -> bool:
    """Patch this process's Jinja, PyYAML and Snakemake report module as described above; False (and nothing
    patched) where one of them no longer has an attribute replaced (a version this was not written for)."""

    publish_parts = getattr(report, "publish_parts", None)
    if publish_parts is None or not hasattr(jinja2.Environment, "from_string") or not hasattr(yaml, "Loader"):
        return False

    def publish(source: Any, *args: Any, **kwargs: Any) -> Any:
        return publish_parts(drop_unreferenced_targets(source) if isinstance(source, str) else source, *args, **kwargs)

    jinja2.Environment.from_string = _cached_from_string(jinja2.Environment.from_string)  # type: ignore[method-assign]
    report.publish_parts = publish
    yaml.load = _cached_yaml_load(yaml.load, yaml.Loader)
    return True


def main(argv: Sequence[str]) -> None:
    """Run Snakemake's command line with ``argv`` after :func:`install` (skipped when ``argv`` starts with
    ``--plain``, for comparing the two)."""
    args = list(argv)
    if args[:1] == ["--plain"]:
        args = args[1:]
    else:
        install()

    sys.argv = ["snakemake", *args]
    snakemake_main()


def build_report(snakefile: str, config: Mapping[str, Any], targets: Sequence[str], out_html: str | os.PathLike[str],
                 log: Any = None) -> None:
    """Build the Snakemake report of the DAG of ``targets`` (the run's artifacts) into ``out_html`` (the ``report``
    rule).

    Runs ``snakemake --report`` on the same Snakefile with the run's effective
    config (written to a temporary file under ``.snakemake/``), so the report
    is a job of the DAG: ``snakemake -n`` never writes it, and editing a
    caption or any artifact rebuilds it. Snakemake runs through :func:`main`:
    the same report, its captions rendered in linear time.
    """



    scratch = Path(".snakemake", "latentwalk")
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        config_file = Path(tmp, "config.yaml")
        config_file.write_text(yaml.safe_dump(jsonable(config), sort_keys=True))
        with atomic_path(out_html) as html:
            command = [sys.executable, "-m", __name__, "--snakefile", snakefile, "--configfile", str(config_file),
                       "--workflow-profile", "none", "--nolock", "--report", str(html), *targets]
            package_root = str(Path(__file__).parents[1])  # this package, wherever the job imports it from
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
            proc = subprocess.run(command, capture_output=True, text=True, env=env)
            if log is not None:
                log(proc.stdout + proc.stderr)
            if proc.returncode != 0:
                last = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()][-1:] or ["no output"]
                raise LatentwalkError(f"snakemake --report failed: {last[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
