"""Rule summary: one row per run and compared interpolation (latentwalk.measure.summary.summary)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.summary import summary

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    summary(
        runs=sm.params.runs,
        norm_summaries=list(sm.input.norm),
        quality_summaries=list(sm.input.quality),
        out_csv=sm.output[0],
        log=log,
    )
