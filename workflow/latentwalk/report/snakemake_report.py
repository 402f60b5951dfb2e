"""Rule report: the Snakemake report of every artifact, built as a job of the DAG.

The report rule runs ``snakemake --report`` on the same Snakefile with the run's effective config, so
``snakemake -n`` never writes the report, and editing a caption or any artifact rebuilds it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from latentwalk.core.io import LatentwalkError, atomic_path
from latentwalk.core.logs import jsonable

__all__ = ["build_report"]


def build_report(snakefile: str, config: Mapping[str, Any], targets: Sequence[str], out_html: str | os.PathLike[str],
                 log: Any = None) -> None:
    """Build the Snakemake report of the DAG of ``targets`` (the run's artifacts) into ``out_html``: ``snakemake
    --report`` on ``snakefile`` with ``config`` (the run's effective config, written to a temporary file under
    ``.snakemake/``); its output goes to ``log``, its last line into the error when it fails."""
    scratch = Path(".snakemake", "latentwalk")
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        config_file = Path(tmp, "config.yaml")
        config_file.write_text(yaml.safe_dump(jsonable(config), sort_keys=True))
        with atomic_path(out_html) as html:
            command = [sys.executable, "-m", "snakemake", "--snakefile", snakefile, "--configfile", str(config_file),
                       "--workflow-profile", "none", "--nolock", "--report", str(html), *targets]
            proc = subprocess.run(command, capture_output=True, text=True)
            if log is not None:
                log(proc.stdout + proc.stderr)
            if proc.returncode != 0:
                last = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()][-1:] or ["no output"]
                raise LatentwalkError(f"snakemake --report failed: {last[0]}")
