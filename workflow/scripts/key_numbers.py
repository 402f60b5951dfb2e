"""Rule key_numbers: the report's headline numbers (latentwalk.measure.summary.key_numbers)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.summary import key_numbers

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    key_numbers(
        inputs=dict(sm.input.items()),
        dropped=sm.params.dropped,
        out_rst=sm.output[0],
        log=log,
    )
