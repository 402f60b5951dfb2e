"""Rule train_classifier: the MLP that scores decoded digit frames (see latentwalk.stages.classifier)."""

from latentwalk.logs import job_log
from latentwalk.stages.classifier import train_classifier

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    p = snakemake.params
    train_classifier(snakemake.input.data, p.seed, p.hidden, p.max_iter, snakemake.output.weights, snakemake.output.meta, log)
