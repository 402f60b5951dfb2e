"""Rule acai_table: the line benchmark's evaluations, its table beside the paper's, and its figures (latentwalk.measure.line_table.acai_table)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.line_table import acai_table

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    acai_table(list(sm.input.results), sm.params.models, dict(sm.output.items()), log)
