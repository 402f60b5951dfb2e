"""Figure rules: unpack snakemake.* (aligned per-run lists) and call latentwalk.stages.figures once per figure."""

from itertools import accumulate

from latentwalk.logs import job_log
from latentwalk.stages import figures as F

sm = snakemake  # noqa: F821 (injected by Snakemake)
i, o, p, w = sm.input, sm.output, sm.params, sm.wildcards


def per_run(log):
    """One call per figure of a family that spans all runs."""
    runs = p.runs
    if sm.rule == "plot_training_curves":
        return [lambda r=r, h=h, a=a, b=b: F.plot_training(h, r, a, b, log) for r, h, a, b in zip(runs, i.history, o.png, o.svg)]
    if sm.rule == "plot_latent_scatter":
        return [
            lambda r=r, x=x, a=a, b=b: F.plot_latents(x, r, p.max_points, p.seed, a, b, p.projection, log)
            for r, x, a, b in zip(runs, i.latents, o.png, o.svg)
        ]
    if sm.rule == "plot_grid":
        return [lambda r=r, t=t, d=d, a=a, b=b: F.plot_grid(t, d, r, a, b, log) for r, t, d, a, b in zip(runs, i.tables, i.decoded, o.png, o.svg)]
    if sm.rule == "plot_interpolation_strips":
        ends = list(accumulate(p.counts))
        starts = [0, *ends[:-1]]
        return [
            lambda r=r, s=s, e=e, a=a, b=b: F.plot_interpolation_strips(r, i.tables[s:e], i.decoded[s:e], p.max_pairs, a, b, log)
            for r, s, e, a, b in zip(runs, starts, ends, o.png, o.svg)
        ]
    if sm.rule == "plot_prior_pair_strips":
        return [
            lambda r=r, t=t, d=d, a=a, b=b: F.plot_prior_pair_strips(r, t, d, p.max_pairs, a, b, log)
            for r, t, d, a, b in zip(runs, i.tables, i.decoded, o.png, o.svg)
        ]
    if sm.rule == "plot_traversal":
        return [
            lambda r=r, m=m, t=t, d=d, a=a, b=b: F.plot_traversal(m, r, t, d, a, b, log)
            for r, m, t, d, a, b in zip(runs, p.methods, i.tables, i.decoded, o.png, o.svg)
        ]
    if sm.rule == "plot_spiral":
        return [
            lambda r=r, t=t, d=d, a=a, b=b, g=g: F.plot_spiral(r, t, d, p.fps, a, b, g, log)
            for r, t, d, a, b, g in zip(runs, i.tables, i.decoded, o.png, o.svg, o.gif)
        ]
    if sm.rule == "plot_path_norms":
        return [
            lambda r=r, n=n, k=k, a=a, b=b: F.plot_path_norms(r, n, k, a, b, log)
            for r, n, k, a, b in zip(runs, i.norms, p.dims, o.png, o.svg)
        ]
    if sm.rule == "plot_quality":
        return [
            lambda r=r, q=q, s=s, a=a, b=b: F.plot_quality(r, q, s, a, b, log)
            for r, q, s, a, b in zip(runs, i.quality, i.summary, o.png, o.svg)
        ]
    raise KeyError(sm.rule)


SINGLE = {
    "sphere_geometry": lambda log: F.sphere_geometry(int(w.n), p.steps, p.loops, p.uniform, p.seed, o[0], log),
    "plot_sphere": lambda log: F.plot_sphere(i.table, o.png, o.svg, log),
    "plot_hypersphere": lambda log: F.plot_hypersphere(i.table, o.png, o.svg, log),
    "plot_norm_concentration": lambda log: F.plot_norm_concentration(i.table, i.histograms, dict(o.items()), log),
}

with job_log(sm.log[0]) as log:
    if sm.rule in SINGLE:
        SINGLE[sm.rule](log)
    else:
        for draw in per_run(log):
            draw()
