"""Rule summary: lerp vs slerp vs lerp_matched (and geodesic) for every run (see latentwalk.stages.summary)."""

from latentwalk.logs import job_log
from latentwalk.stages.summary import summary

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    summary(snakemake.params.runs, list(snakemake.input.norm), list(snakemake.input.quality), snakemake.output[0], log)
