"""Rule import_model: check an external model on its dataset and write its run's meta.json
(latentwalk.model.external.import_model)."""

from latentwalk.core.logs import job_log
from latentwalk.model.external import import_model

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    import_model(
        run=sm.params.run,
        data_npz=sm.input.data,
        files={"encoder": sm.input.encoder, "decoder": sm.input.decoder},
        batch_size=sm.params.batch_size,
        device=sm.params.device,
        out_meta=sm.output.meta,
        log=log,
        threads=sm.threads,
    )
