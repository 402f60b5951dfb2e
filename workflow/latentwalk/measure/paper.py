"""The line benchmark's published side (Berthelot, Raffel, Roy and Goodfellow 2018): Table 1, the model names it
uses, the authors' protocol and lines, and the budget read from the config.

Apart from the protocol's code (:mod:`latentwalk.measure.line_benchmark`, which needs torch) because the workflow
reads these when it parses: no Snakemake start imports torch for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PAPER_TABLE", "LABELS", "PAPER_PROTOCOL", "LINES", "budget_samples", "is_reduced"]

#: Table 1 of the paper (arXiv:1807.07543, "Line benchmark" results over 5 runs): model -> (Mean Distance x 1e-3
#: mean, std, Mean Smoothness mean, std). AAE and VQ-VAE are the paper's models that this project does not train.
PAPER_TABLE: dict[str, tuple[float, float, float, float]] = {
    "ae": (6.88, 0.21, 0.44, 0.04),
    "dropout_ae": (2.85, 0.54, 0.74, 0.02),
    "denoising_ae": (4.21, 0.32, 0.66, 0.02),
    "vae": (1.21, 0.17, 0.49, 0.13),
    "aae": (3.26, 0.19, 0.14, 0.02),
    "vq_vae": (5.41, 0.49, 0.77, 0.02),
    "acai": (0.24, 0.01, 0.10, 0.01),
}
#: The names Table 1 gives the models.
LABELS = {"ae": "Baseline", "dropout_ae": "Dropout", "denoising_ae": "Denoising", "vae": "VAE", "aae": "AAE",
          "vq_vae": "VQ-VAE", "acai": "ACAI"}
#: The authors' protocol (lib/train.py, acai.py, figures.ipynb): what ``acai_benchmark`` defaults to but the budget.
PAPER_PROTOCOL: dict[str, Any] = {"architecture": "acai_conv", "learning_rate": 1e-4, "batch_size": 64,
                                  "samples": 1 << 24, "eval_every": 1 << 16, "eval_pairs": 256, "frames": 16,
                                  "median_of": 20}
#: The benchmark's lines (``lines32``): the authors' renderer at 32 x 32, width 2.
LINES: dict[str, Any] = {"renderer": "acai", "size": 32, "width": 2.0}


def budget_samples(value: int | str) -> int:
    """``acai_benchmark.samples`` as a count: ``paper`` is the paper's 2^24."""
    return int(PAPER_PROTOCOL["samples"]) if value == "paper" else int(value)


def is_reduced(protocol: Mapping[str, Any]) -> bool:
    """Whether a resolved protocol spends less than the paper: fewer samples or fewer evaluation pairs."""
    return int(protocol["samples"]) < PAPER_PROTOCOL["samples"] or int(protocol["eval_pairs"]) < PAPER_PROTOCOL["eval_pairs"]
