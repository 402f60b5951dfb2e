"""Stage train_classifier: the MLP that scores decoded frames of class-labelled data."""

from __future__ import annotations

import time

from ..io import LatentwalkError, PathLike, provenance, write_json
from ..logs import Log, quiet


def train_classifier(data_npz: PathLike, seed: int, hidden: int, max_iter: int, out_npz: PathLike, out_json: PathLike, log: Log = quiet) -> None:
    """Fit the frame-scoring MLP on the train split; record its accuracy on the test split."""
    import numpy as np

    from ..datasets import load_dataset
    from ..io import save_npz
    from ..quality import classifier_probabilities, fit_classifier

    data = load_dataset(data_npz)
    if data.label_kind != "class":
        raise LatentwalkError(f"{data_npz}: a classifier needs class labels, this dataset is labelled by {data.label_kind}")
    train, test = data.split == "train", data.split == "test"
    start = time.perf_counter()
    weights = fit_classifier(data.images[train], data.labels[train], seed, hidden, max_iter)
    p = classifier_probabilities(weights, data.images[test])
    accuracy = float(np.mean(weights["classes"][p.argmax(axis=1)] == data.labels[test]))
    train_acc = float(np.mean(weights["classes"][classifier_probabilities(weights, data.images[train]).argmax(axis=1)] == data.labels[train]))
    save_npz(out_npz, **weights)
    write_json(
        out_json,
        provenance(
            stage="train_classifier",
            config={"hidden": hidden, "max_iter": max_iter},
            inputs=[str(data_npz)],
            seed=seed,
            extra={"test_accuracy": accuracy, "train_accuracy": train_acc, "n_train": int(train.sum()),
                   "n_test": int(test.sum())},
        ),
    )
    log(f"classifier: train accuracy {train_acc:.4f}, test accuracy {accuracy:.4f} ({int(test.sum())} images) "
        f"in {time.perf_counter() - start:.1f}s")
