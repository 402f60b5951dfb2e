"""Rule explorer: a run's self-contained interactive explorer page (see latentwalk.stages.explorer)."""

from latentwalk.logs import job_log
from latentwalk.stages.explorer import build_explorer

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    build_explorer(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        decoder_json=sm.input.decoder,
        projection_parquet=sm.input.projection,
        paths_dir=sm.input.paths,
        methods=sm.params.overlays,
        max_sliders=sm.params.max_sliders,
        out_html=sm.output[0],
        log=log,
    )
