"""Rule decoder_paths: the path methods of one run that need its decoder (latentwalk.walks.geodesic.decoder_paths)."""

from latentwalk.core.logs import job_log
from latentwalk.walks.geodesic import decoder_paths

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    decoder_paths(
        run=sm.params.run,
        methods=sm.params.methods,
        inputs=dict(sm.input.items()),
        params=dict(sm.params.items()),
        out_dir=sm.output[0],
        log=log,
        threads=sm.threads,
    )
