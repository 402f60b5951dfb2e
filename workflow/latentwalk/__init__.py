"""latentwalk: train (V)AEs, walk their latent spaces, measure hypersphere geometry, report.

The package holds the pipeline's logic as pure, typed functions in one subpackage per domain, in the order the
pipeline runs: ``core`` (names, config, files, logs), ``data``, ``model``, ``walks``, ``measure``, ``figures`` and
``report``. Each rule's script calls one function of one subpackage; a module imports what it needs at its top,
so a job loads exactly the modules its function's module imports (and nothing heavy it does not use). It never
imports Snakemake, except the report module that drives Snakemake's own report.
"""

__version__ = "0.1.0"
