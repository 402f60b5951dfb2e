"""Rule acai_table: the line benchmark's evaluations, its table beside the paper's Table 1, and its two figures.

Apart from the protocol (:mod:`latentwalk.measure.line_benchmark`) so that the training jobs never depend on the
figure code: editing a figure reruns this job alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from latentwalk.core.io import PathLike, read_json, write_csv
from latentwalk.core.logs import Log, quiet
from latentwalk.figures.comparison import acai_benchmark_figure, acai_curve_figure
from latentwalk.figures.style import save_figure
from latentwalk.measure.line_benchmark import summarize_runs
from latentwalk.measure.paper import PAPER_PROTOCOL, is_reduced

__all__ = ["budget_text", "acai_table"]


def budget_text(protocol: Mapping[str, Any]) -> str:
    """The budget in words, labelled reduced where it is: '32,768 samples per run (0.2% of the paper's 2^24), 32
    evaluation pairs (paper 256): reduced budget'."""
    samples, pairs = int(protocol["samples"]), int(protocol["eval_pairs"])
    text = f"{samples:,} samples per run ({100 * samples / PAPER_PROTOCOL['samples']:.2g}% of the paper's 2^24)"
    if pairs != PAPER_PROTOCOL["eval_pairs"]:
        text += f", {pairs} evaluation pairs (paper {PAPER_PROTOCOL['eval_pairs']})"
    return text + (": reduced budget" if is_reduced(protocol) else ": the paper's budget")


def acai_table(results: Sequence[PathLike], models: Sequence[str], out: Mapping[str, PathLike], log: Log = quiet) -> None:
    """Every evaluation (``out["evaluations"]``, CSV), mean and standard deviation over seeds per model beside the
    paper's Table 1 (``out["table"]``, CSV), its figure (``out["png"]``, ``out["svg"]``) and both metrics against
    samples seen (``out["curve_png"]``, ``out["curve_svg"]``)."""
    records = [read_json(path) for path in results]
    evaluations = pd.DataFrame([
        {"model": r["model"], "seed": r["seed"], **{k: e[k] for k in ("samples_seen", "mean_distance", "smoothness")},
         "pairs": r["protocol"]["eval_pairs"], "frames": r["protocol"]["frames"]}
        for r in records for e in r["evaluations"]
    ], columns=["model", "seed", "samples_seen", "mean_distance", "smoothness", "pairs", "frames"])
    table = pd.DataFrame(summarize_runs(records, models))
    budget = budget_text(records[0]["protocol"])
    write_csv(evaluations, out["evaluations"])
    write_csv(table, out["table"])
    save_figure(acai_benchmark_figure(table, f"Line benchmark, ours vs the paper's Table 1: {budget}"),
                Path(out["png"]), Path(out["svg"]))
    save_figure(acai_curve_figure(evaluations, table, f"Line benchmark during training: {budget}"),
                Path(out["curve_png"]), Path(out["curve_svg"]))
    for row in table.to_dict("records"):
        log(f"{row['label']}: Mean Distance {row['mean_distance_e3']:.2f} ± {row['mean_distance_e3_std']:.2f} e-3 "
            f"(paper {row['paper_mean_distance_e3']}), Smoothness {row['smoothness']:.2f} ± {row['smoothness_std']:.2f} "
            f"(paper {row['paper_smoothness']}) over {row['seeds']} seeds; {budget}")
