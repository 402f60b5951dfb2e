"""Rule train_classifier: the MLP that scores decoded frames (latentwalk.measure.classifier.train_classifier)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.classifier import train_classifier

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    train_classifier(
        data_npz=sm.input.data,
        seed=sm.params.seed,
        hidden=sm.params.hidden,
        max_iter=sm.params.max_iter,
        out_npz=sm.output.weights,
        out_json=sm.output.meta,
        log=log,
    )
