"""The decoder's uncertainty and local magnification: what a latent metric needs beyond the mean decoder.

A short path in pixel space between two images can be a blur or a cross-fade, which a smooth mean decoder draws
anywhere in latent space; nothing in the pull-back metric ``J_mu^T J_mu`` says that the path left the data.
Arvanitidis, Hansen and Hauberg ("Latent Space Oddity", ICLR 2018) add the decoder's uncertainty: a per-pixel
standard deviation ``sigma(z)`` that is small where the encoded data lie and grows away from them, and the expected
metric ``J_mu^T J_mu + J_sigma^T J_sigma``. Its discrete path energy is
``sum_k |mu(z_k+1) - mu(z_k)|^2 + |sigma(z_k+1) - sigma(z_k)|^2``, so geodesics under it avoid the regions without
data.

The variance network here is theirs in form: an RBF network for the precision,
``beta(z) = zeta + sum_k w_k exp(-lambda_k |z - c_k|^2 / 2)`` per pixel, ``sigma(z) = beta(z)^(-1/2)``, with the
centres ``c_k`` from k-means on the encoded training codes (seeded), the bandwidths from each cluster's spread
(``lambda_k = (a * mean distance of its members to c_k)^-2 / 2``, ``a`` the ``reach``), and the weights fitted
after training, in closed form: ``w_k = max(1 / v_k - zeta, 0)`` with ``v_k`` the per-pixel mean squared
reconstruction residual of cluster k's members (at least ``sigma_min^2``), so that near ``c_k`` the variance is the
data's own error.
``zeta = 1 / sigma_far^2`` sets the variance far from all data (the config's default 30: leaving the data costs
more than walking along it; the paper takes zeta small for the same reason). It
depends on the decoder only through its residuals: it works for every architecture and for external decoders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from latentwalk.core.io import LatentwalkError, PathLike
from latentwalk.core.latents import latent_matrix, read_latents
from latentwalk.data.dataset import as_float, load_dataset
from latentwalk.model.networks import to_input

__all__ = ["VarianceNetwork", "fit_variance_network", "training_codes", "fit_run_variance", "magnification", "plane_basis"]


@dataclass(frozen=True)
class VarianceNetwork:
    """The fitted RBF precision network: ``centres`` ``(K, d)``, ``bandwidths`` ``(K,)`` (lambda_k), ``weights``
    ``(K, P)`` (w_k per output pixel) and ``zeta`` (the precision far from all data)."""

    centres: np.ndarray
    bandwidths: np.ndarray
    weights: np.ndarray
    zeta: float

    def precision(self, z: torch.Tensor) -> torch.Tensor:
        """``beta(z)`` ``(m, P)`` for latents ``(m, d)`` (differentiable; float64 or float32 as ``z``)."""
        c = torch.as_tensor(self.centres, dtype=z.dtype, device=z.device)
        lam = torch.as_tensor(self.bandwidths, dtype=z.dtype, device=z.device)
        w = torch.as_tensor(self.weights, dtype=z.dtype, device=z.device)
        phi = torch.exp(-0.5 * lam * torch.cdist(z, c).square())
        return phi @ w + self.zeta

    def std(self, z: torch.Tensor) -> torch.Tensor:
        """``sigma(z) = beta(z)^(-1/2)`` ``(m, P)``: the decoder's per-pixel standard deviation."""
        return self.precision(z).rsqrt()

    def summary(self) -> dict[str, Any]:
        """The fit in numbers, for the run's stats: K, the bandwidths' range, sigma near data and far from it."""
        near = float(np.median((self.weights.max(axis=1) + self.zeta) ** -0.5)) if len(self.weights) else float("nan")
        return {"centres": int(len(self.centres)), "bandwidth_min": float(self.bandwidths.min()),
                "bandwidth_max": float(self.bandwidths.max()), "sigma_near_median": near,
                "sigma_far": float(self.zeta ** -0.5)}


def fit_variance_network(codes: np.ndarray, residuals: np.ndarray, centres: int = 32, reach: float = 0.5,
                         sigma_far: float = 1.0, seed: int = 0, sigma_min: float = 0.0) -> VarianceNetwork:
    """Fit the RBF precision network to encoded training ``codes`` ``(N, d)`` and their squared reconstruction
    residuals ``(N, P)`` (per pixel): k-means centres (``centres`` of them at most, seeded), bandwidths from each
    cluster's mean distance to its centre times ``reach``, closed-form weights (see the module docstring) from
    each cluster's mean residual, floored at ``sigma_min^2``."""
    from sklearn.cluster import KMeans

    codes = np.asarray(codes, dtype=np.float64)
    residuals = np.asarray(residuals, dtype=np.float64).reshape(len(codes), -1)
    if len(codes) < 2 or not np.isfinite(codes).all() or not np.isfinite(residuals).all():
        raise LatentwalkError(f"variance network: needs at least 2 finite codes, got {len(codes)}")
    if not (reach > 0 and sigma_far > 0):
        raise LatentwalkError(f"variance network: reach and sigma_far must be > 0, got {reach} and {sigma_far}")
    k = int(min(centres, len(np.unique(codes, axis=0))))
    fit = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(codes)
    zeta = 1.0 / sigma_far**2
    bandwidths = np.empty(k)
    weights = np.empty((k, residuals.shape[1]))
    for j in range(k):
        members = fit.labels_ == j
        spread = float(np.linalg.norm(codes[members] - fit.cluster_centers_[j], axis=1).mean())
        if not spread > 0:  # a cluster of one code: the typical spread of the others
            spread = float(np.linalg.norm(codes - fit.cluster_centers_[fit.labels_], axis=1).mean()) or 1.0
        bandwidths[j] = 0.5 / (reach * spread) ** 2
        variance = np.maximum(residuals[members].mean(axis=0), max(sigma_min**2, 1e-8))
        weights[j] = np.maximum(1.0 / variance - zeta, 0.0)
    return VarianceNetwork(fit.cluster_centers_.astype(np.float64), bandwidths, weights, zeta)


def training_codes(latents: PathLike, data_npz: PathLike, max_codes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_codes`` encoded training codes of a run (a seeded subsample, in table order) and their images:
    what the variance network is fitted to and the data graph of the variance geodesics is built on."""
    table, _ = read_latents(latents)
    train = table[table["split"].astype(str) == "train"]
    rows = np.sort(np.random.default_rng(seed).permutation(len(train))[:max_codes])
    codes = latent_matrix(train.iloc[rows]).astype(np.float32)
    return codes, load_dataset(data_npz).images[train["index"].to_numpy()[rows]]


def fit_run_variance(decode: Callable[[Any], Any], codes: np.ndarray, images: np.ndarray, settings: Mapping[str, Any],
                     seed: int) -> VarianceNetwork:
    """The run's variance network (:func:`fit_variance_network`) on encoded training ``codes`` and the squared
    residuals of their ``images`` (:func:`training_codes`) decoded from them."""
    residuals = []
    with torch.no_grad():
        for first in range(0, len(codes), 1024):
            x = to_input(torch.as_tensor(as_float(images[first : first + 1024])))
            out = decode(torch.as_tensor(codes[first : first + 1024])).reshape(x.shape)
            residuals.append((x - out).square().flatten(1).double().numpy())
    return fit_variance_network(codes, np.concatenate(residuals), centres=int(settings["centres"]),
                                reach=float(settings["reach"]), sigma_far=float(settings["sigma_far"]), seed=seed,
                                sigma_min=float(settings["sigma_min"]))


def plane_basis(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plane a magnification map is drawn on: ``(origin (d,), basis (d, 2))``, the latent plane itself for
    2-D codes, else the mean and the top two principal directions of ``codes``."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.shape[1] == 2:
        return np.zeros(2), np.eye(2)
    origin = codes.mean(axis=0)
    _, _, vt = np.linalg.svd(codes - origin, full_matrices=False)
    return origin, vt[:2].T


def magnification(decode: Callable[[torch.Tensor], torch.Tensor], points: np.ndarray, basis: np.ndarray,
                  chunk: int = 256) -> np.ndarray:
    """The decoder's local area element on a plane, ``sqrt(det(J_p^T J_p))`` with ``J_p = J(z) basis`` ``(P, 2)``,
    at ``points`` ``(m, d)`` (float64, forward-mode derivatives along the two basis directions)."""
    from torch.func import jvp

    basis_t = torch.as_tensor(np.asarray(basis, dtype=np.float64))
    out = []
    for first in range(0, len(points), chunk):
        z = torch.as_tensor(np.asarray(points[first : first + chunk], dtype=np.float64))
        columns = []
        for j in range(basis_t.shape[1]):
            direction = basis_t[:, j].expand_as(z).contiguous()
            _, tangent = jvp(decode, (z,), (direction,))
            columns.append(tangent.reshape(len(z), -1))
        jp = torch.stack(columns, dim=2)  # (m, P, 2)
        gram = jp.transpose(1, 2) @ jp
        out.append(torch.sqrt(torch.clamp(torch.linalg.det(gram), min=0.0)).detach().numpy())
    return np.concatenate(out)
