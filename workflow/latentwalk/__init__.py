"""latentwalk: train (V)AEs, walk their latent spaces, measure hypersphere geometry.

The package holds the pipeline's logic as pure, typed functions; it never
imports Snakemake. Heavy dependencies (torch, matplotlib, scikit-learn) are
imported lazily inside the modules that need them.
"""

__version__ = "0.1.0"
