"""Rule explorer: the run's interactive latent explorer page (latentwalk.report.explorer.build_explorer)."""

from latentwalk.core.logs import job_log
from latentwalk.report.explorer import build_explorer

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    build_explorer(
        run=sm.params.run,
        inputs=dict(sm.input.items()),
        methods=sm.params.overlays,
        max_sliders=sm.params.max_sliders,
        out_html=sm.output[0],
        log=log,
    )
