"""Rule train_classifier: the MLP that scores decoded frames of class-labelled data (its weights are read back
with numpy alone: :func:`latentwalk.measure.quality.classifier_probabilities`)."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from latentwalk.core.io import LatentwalkError, PathLike, provenance, save_npz, write_json
from latentwalk.core.logs import Log, quiet
from latentwalk.data.dataset import as_float, load_dataset
from latentwalk.measure.quality import classifier_probabilities

__all__ = ["fit_classifier", "train_classifier"]


def fit_classifier(images: np.ndarray, labels: np.ndarray, seed: int, hidden: int = 128, max_iter: int = 60) -> dict[str, np.ndarray]:
    """Fit a one-hidden-layer ReLU MLP (scikit-learn, Adam) and return its weights as arrays."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    model = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=max_iter, random_state=seed, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, labels)
    return {
        "w1": model.coefs_[0],
        "b1": model.intercepts_[0],
        "w2": model.coefs_[1],
        "b2": model.intercepts_[1],
        "classes": np.asarray(model.classes_),
    }


def train_classifier(data_npz: PathLike, seed: int, hidden: int, max_iter: int, out_npz: PathLike, out_json: PathLike, log: Log = quiet) -> None:
    """Fit the frame-scoring MLP on the train split; record its accuracy on the test split."""
    data = load_dataset(data_npz)
    if data.label_kind != "class":
        raise LatentwalkError(f"{data_npz}: a classifier needs class labels, this dataset is labelled by {data.label_kind}")
    train, test = data.split == "train", data.split == "test"
    images = as_float(data.images)
    start = time.perf_counter()
    weights = fit_classifier(images[train], data.labels[train], seed, hidden, max_iter)
    p = classifier_probabilities(weights, images[test])
    accuracy = float(np.mean(weights["classes"][p.argmax(axis=1)] == data.labels[test]))
    train_acc = float(np.mean(weights["classes"][classifier_probabilities(weights, images[train]).argmax(axis=1)] == data.labels[train]))
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
