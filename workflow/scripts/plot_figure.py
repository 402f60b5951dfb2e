"""Figure rules: unpack snakemake.* and call the matching latentwalk.stages.figures function."""

from latentwalk.logs import job_log
from latentwalk.stages import figures as F

sm = snakemake  # noqa: F821 (injected by Snakemake)
i, o, p, w = sm.input, sm.output, sm.params, sm.wildcards
run = "{dataset}/{model}-z{dim}".format(**w) if "dataset" in w.keys() else None

CALLS = {
    "plot_grid": lambda log: F.plot_grid(i.table, i.decoded, run, o.png, o.svg, log),
    "plot_interpolation_strips": lambda log: F.plot_interpolation_strips(
        run, list(i.tables), list(i.decoded), p.max_pairs, o.png, o.svg, log
    ),
    "plot_prior_pair_strips": lambda log: F.plot_prior_pair_strips(run, i.table, i.decoded, p.max_pairs, o.png, o.svg, log),
    "plot_traversal": lambda log: F.plot_traversal(w.traversal, run, i.table, i.decoded, o.png, o.svg, log),
    "plot_spiral": lambda log: F.plot_spiral(run, i.table, i.decoded, p.fps, o.png, o.svg, o.gif, log),
    "plot_path_norms": lambda log: F.plot_path_norms(run, i.norms, int(w.dim), o.png, o.svg, log),
    "plot_quality": lambda log: F.plot_quality(run, i.quality, i.summary, o.png, o.svg, log),
    "sphere_geometry": lambda log: F.sphere_geometry(int(w.n), p.steps, p.loops, p.uniform, p.seed, o[0], log),
    "plot_sphere": lambda log: F.plot_sphere(i.table, o.png, o.svg, log),
    "plot_hypersphere": lambda log: F.plot_hypersphere(i.table, o.png, o.svg, log),
    "plot_norm_concentration": lambda log: F.plot_norm_concentration(i.table, i.histograms, dict(o.items()), log),
}

with job_log(sm.log[0]) as log:
    CALLS[sm.rule](log)
