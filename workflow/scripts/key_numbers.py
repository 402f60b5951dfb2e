"""Rule key_numbers: the study's headline numbers for the report (see latentwalk.stages.summary)."""

from latentwalk.logs import job_log
from latentwalk.stages.summary import key_numbers

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    i = snakemake.input  # noqa: F821
    key_numbers(i.summary, i.concentration, i.hypersphere, list(i.classifiers), snakemake.output[0], log,  # noqa: F821
                run_metas=list(i.metas), dropped=snakemake.params.dropped)  # noqa: F821
