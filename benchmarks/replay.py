"""Run every job of a workflow's DAG in this one Python process, in topological order: the reference for the cost of
orchestration (one interpreter, imports paid once, no scheduler, one core).

    python benchmarks/replay.py WORKDIR [CONFIGFILE ...]

Snakemake's API builds the DAG (every job, as on a cold run); each job's rule script then runs in this process with
a stand-in for the ``snakemake`` object that holds the job's own input, output, params, wildcards and log, exactly as
Snakemake would hand them over. The scripts call the same package functions, so the work done is the same.
The core-seconds of each rule's jobs go to ``WORKDIR/replay_rules.json`` (rule -> [jobs, core-seconds]).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from pathlib import Path
from types import SimpleNamespace


def jobs_of(api, workdir: Path, configfiles: list[Path]) -> list:
    """Every job of the DAG of ``workdir``'s Snakefile (as if all outputs were missing), in topological order."""
    from snakemake.settings.types import ConfigSettings, DAGSettings, ResourceSettings

    workflow_api = api.workflow(resource_settings=ResourceSettings(cores=1), config_settings=ConfigSettings(configfiles=configfiles),
                                workdir=workdir, snakefile=workdir / "Snakefile")
    workflow_api.dag(dag_settings=DAGSettings(forceall=True))
    workflow = workflow_api._workflow
    workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
    workflow._build_dag()
    return [job for level in workflow.dag.toposorted() for job in level if job.rule.script]


def run_job(job, scripts: Path) -> None:
    """Run one job's rule script here, with the job's own values where the script reads ``snakemake.*``."""
    for path in job.output:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    stand_in = SimpleNamespace(input=job.input, output=job.output, params=job.params, wildcards=job.wildcards,
                               log=job.log, threads=job.threads, resources=job.resources, rule=job.rule.name,
                               config=job.rule.workflow.config)
    runpy.run_path(str(scripts / Path(job.rule.script).name), init_globals={"snakemake": stand_in}, run_name="__main__")


def _core_seconds() -> float:
    """User + system CPU of this process and of its finished children (the report job runs ``snakemake --report``)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import OutputSettings

    workdir = Path(sys.argv[1]).resolve()
    os.chdir(workdir)
    sys.path.insert(0, str(workdir / "workflow"))
    start = time.perf_counter()
    by_rule: dict[str, list[float]] = {}  # rule -> [jobs, core-seconds]
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        jobs = jobs_of(api, workdir, [workdir / name for name in sys.argv[2:]])
        dag_seconds = time.perf_counter() - start
        for job in jobs:
            cpu = _core_seconds()
            run_job(job, workdir / "workflow" / "scripts")
            cost = by_rule.setdefault(job.rule.name, [0, 0.0])
            cost[0] += 1
            cost[1] += _core_seconds() - cpu
    (workdir / "replay_rules.json").write_text(json.dumps(by_rule, indent=1))
    print(f"replayed {len(jobs)} jobs in {time.perf_counter() - start:.1f} s (DAG {dag_seconds:.1f} s)")


if __name__ == "__main__":
    main()
