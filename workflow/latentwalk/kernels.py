"""Five fused float32 loops of the MLP trainer's step, compiled from ``kernels.c`` when the package is installed.

A VAE step at batch 128 spends most of its non-product time in short passes over the ``(B, 784)`` logits and the
``(B, 400)`` hidden layers: the biases (``addmm`` copies each one into its output before the product), the ReLUs,
the sigmoid, the summed cross-entropy (eight passes in torch operations), the logit gradient, the ReLU masks and the
bias gradients (column sums), each a separate kernel that reads and writes its operand, each with its dispatch; the
latent side is a dozen more kernels on ``(B, d)`` numbers. :func:`bias_relu_`, :func:`reparameterise`,
:func:`bernoulli_tail`, :func:`reparameterise_backward` and :func:`relu_backward_colsum_` do those in one pass each,
after bias-free products.

``pip install -e .`` compiles ``kernels.c`` into ``latentwalk/_kernels*.so`` (no torch headers: plain C called
through :mod:`ctypes` on the tensors' memory), with one clone of each loop per x86-64 level (AVX-512, AVX2,
baseline) picked when the library loads, and glibc's vector ``expf``/``logf``. Without a C compiler the install
still succeeds (the extension is optional) and :func:`available` is False: the same functions then run as torch
operations (the ``*_torch`` functions), equal to the compiled loops up to float32 rounding (the exponentials and
the order of the sums differ in the last bits).
"""

from __future__ import annotations

import ctypes
import importlib.machinery
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["available", "bernoulli_tail", "bernoulli_tail_torch", "bias_relu_", "bias_relu_torch_", "library_path",
           "relu_backward_colsum_", "relu_backward_colsum_torch_", "reparameterise", "reparameterise_backward",
           "reparameterise_backward_torch", "reparameterise_torch"]


def library_path() -> Path | None:
    """The compiled ``latentwalk/_kernels*.so`` beside this module, or None when the install did not build it."""
    here = Path(__file__).resolve().parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if (here / f"_kernels{suffix}").is_file():
            return here / f"_kernels{suffix}"
    return None


def _load() -> ctypes.CDLL | None:
    path = library_path()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
    except OSError:  # built for another platform, or a missing libmvec: the torch operations take over
        return None
    ptr, n = ctypes.c_void_p, ctypes.c_long
    lib.lw_bernoulli_tail.argtypes = [ptr, ptr, ptr, ptr, ptr, n, n, ctypes.c_float]
    lib.lw_bernoulli_tail.restype = ctypes.c_double
    lib.lw_bias_relu.argtypes = [ptr, ptr, n, n]
    lib.lw_bias_relu.restype = None
    lib.lw_relu_backward_colsum.argtypes = [ptr, ptr, ptr, n, n]
    lib.lw_relu_backward_colsum.restype = None
    lib.lw_reparameterise.argtypes = [ptr, ptr, ptr, ptr, ptr, n, n]
    lib.lw_reparameterise.restype = None
    lib.lw_reparameterise_backward.argtypes = [ptr, ptr, ptr, ptr, ptr, ptr, n, n, ctypes.c_float]
    lib.lw_reparameterise_backward.restype = ctypes.c_double
    return lib


_LIB = _load()


def available() -> bool:
    """Whether the compiled loops are loaded (else :func:`bernoulli_tail` and the rest run torch operations)."""
    return _LIB is not None


def _check(name: str, rows: int, cols: int, *tensors: Tensor) -> None:
    for t in tensors:
        if t.dtype != torch.float32 or t.device.type != "cpu" or not t.is_contiguous() or t.numel() != rows * cols:
            raise ValueError(f"{name} needs contiguous float32 CPU tensors of {rows} x {cols}; got {t.dtype}, "
                             f"{t.device}, shape {tuple(t.shape)}, strides {t.stride()}")


def bernoulli_tail(product: Tensor, bias: Tensor, x: Tensor, grad: Tensor, colsum: Tensor, scale: float) -> float:
    """The output end of a Bernoulli VAE's step in one pass over the last layer's ``(B, D)`` product ``h W^T`` and
    its ``bias`` ``(D,)``, the logits ``l = product + bias``, against targets ``x`` in [0, 1].

    Returns the summed binary cross-entropy ``sum softplus(l) - x l`` (as
    ``binary_cross_entropy_with_logits(l, x, reduction="sum")``); writes ``grad = (sigmoid(l) - x) * scale``
    (d loss / d logits for a loss scaled by ``scale``) and ``colsum = grad.sum(0)`` (the last layer's bias
    gradient). ``softplus(l)`` is taken as ``max(l, 0) - log(max(p, 1 - p))`` with ``p = sigmoid(l)``, as in
    :func:`latentwalk.mlp_step.bce_sum`. All tensors contiguous float32 on the CPU; ``grad`` may not alias the
    inputs. The torch operations of :func:`bernoulli_tail_torch` run when the library is not built.
    """
    rows, cols = product.shape
    _check("bernoulli_tail", rows, cols, product, x, grad)
    _check("bernoulli_tail", 1, cols, bias, colsum)
    if _LIB is None:
        return bernoulli_tail_torch(product, bias, x, grad, colsum, scale)
    return float(_LIB.lw_bernoulli_tail(product.data_ptr(), bias.data_ptr(), x.data_ptr(), grad.data_ptr(),
                                        colsum.data_ptr(), rows, cols, scale))


def bernoulli_tail_torch(product: Tensor, bias: Tensor, x: Tensor, grad: Tensor, colsum: Tensor, scale: float) -> float:
    """:func:`bernoulli_tail` in torch operations (any float dtype and device)."""
    from .mlp_step import bce_sum

    logits = product + bias
    torch.sigmoid(logits, out=grad)
    total = float(bce_sum(logits, x, grad))
    grad.sub_(x).mul_(scale)
    torch.sum(grad, 0, out=colsum)
    return total


def bias_relu_(h: Tensor, bias: Tensor) -> None:
    """A hidden layer's bias and ReLU in place on its product ``h = x W^T`` ``(B, D)``: ``h = max(h + bias, 0)``
    (a NaN stays NaN, as in torch's ``relu``). Contiguous float32 CPU tensors, ``bias`` ``(D,)``."""
    rows, cols = h.shape
    _check("bias_relu_", rows, cols, h)
    _check("bias_relu_", 1, cols, bias)
    if _LIB is None:
        bias_relu_torch_(h, bias)
        return
    _LIB.lw_bias_relu(h.data_ptr(), bias.data_ptr(), rows, cols)


def bias_relu_torch_(h: Tensor, bias: Tensor) -> None:
    """:func:`bias_relu_` in torch operations (any float dtype and device)."""
    h.add_(bias).relu_()


def relu_backward_colsum_(grad: Tensor, out: Tensor, colsum: Tensor) -> None:
    """Through a ReLU, in place: ``grad`` kept where ``out > 0`` and zeroed elsewhere (``out`` is the ReLU's output;
    torch's ``threshold_backward``), then ``colsum = grad.sum(0)`` (the bias gradient of the layer before the ReLU).
    Contiguous float32 CPU tensors ``(B, D)``, ``colsum`` ``(D,)``."""
    rows, cols = grad.shape
    _check("relu_backward_colsum_", rows, cols, grad, out)
    _check("relu_backward_colsum_", 1, cols, colsum)
    if _LIB is None:
        relu_backward_colsum_torch_(grad, out, colsum)
        return
    _LIB.lw_relu_backward_colsum(grad.data_ptr(), out.data_ptr(), colsum.data_ptr(), rows, cols)


def relu_backward_colsum_torch_(grad: Tensor, out: Tensor, colsum: Tensor) -> None:
    """:func:`relu_backward_colsum_` in torch operations (any float dtype and device)."""
    grad.masked_fill_(~(out > 0), 0.0)  # a NaN in out zeroes its gradient, as threshold_backward does
    torch.sum(grad, 0, out=colsum)


def reparameterise(out: Tensor, bias: Tensor, noise: Tensor, std: Tensor, z: Tensor) -> None:
    """A Gaussian encoder's head: add ``bias`` ``(2d,)`` to the head's product ``out`` ``(B, 2d)`` in place, which
    makes it ``[mu | logvar]``; with ``noise`` ``(B, d)``, write ``std = exp(logvar / 2)`` and
    ``z = mu + noise * std`` (both ``(B, d)``). Contiguous float32 CPU tensors."""
    rows, d = noise.shape
    _check("reparameterise", rows, 2 * d, out)
    _check("reparameterise", 1, 2 * d, bias)
    _check("reparameterise", rows, d, noise, std, z)
    if _LIB is None:
        reparameterise_torch(out, bias, noise, std, z)
        return
    _LIB.lw_reparameterise(out.data_ptr(), bias.data_ptr(), noise.data_ptr(), std.data_ptr(), z.data_ptr(), rows, d)


def reparameterise_torch(out: Tensor, bias: Tensor, noise: Tensor, std: Tensor, z: Tensor) -> None:
    """:func:`reparameterise` in torch operations (any float dtype and device)."""
    d = noise.shape[1]
    out.add_(bias)
    torch.exp(out[:, d:] * 0.5, out=std)
    torch.addcmul(out[:, :d], noise, std, out=z)


def reparameterise_backward(dz: Tensor, out: Tensor, noise: Tensor, std: Tensor, dout: Tensor, colsum: Tensor,
                            kl_scale: float) -> float:
    """Back through :func:`reparameterise` and the KL term ``kl_scale * sum(mu^2 + std^2 - 1 - logvar) / 2``.

    From ``dz`` = d loss / d z ``(B, d)`` writes ``dout`` = d loss / d ``[mu | logvar]`` ``(B, 2d)``:
    ``dz + kl_scale mu`` and ``(dz noise std + kl_scale (std^2 - 1)) / 2``, and ``colsum = dout.sum(0)`` (the
    head's bias gradient); returns ``sum(mu^2 + std^2 - 1 - logvar)``, twice the batch's summed KL divergence
    from the standard normal. Contiguous float32 CPU tensors; ``std`` is :func:`reparameterise`'s.
    """
    rows, d = noise.shape
    _check("reparameterise_backward", rows, 2 * d, out, dout)
    _check("reparameterise_backward", rows, d, dz, noise, std)
    _check("reparameterise_backward", 1, 2 * d, colsum)
    if _LIB is None:
        return reparameterise_backward_torch(dz, out, noise, std, dout, colsum, kl_scale)
    return float(_LIB.lw_reparameterise_backward(dz.data_ptr(), out.data_ptr(), noise.data_ptr(), std.data_ptr(),
                                                 dout.data_ptr(), colsum.data_ptr(), rows, d, kl_scale))


def reparameterise_backward_torch(dz: Tensor, out: Tensor, noise: Tensor, std: Tensor, dout: Tensor, colsum: Tensor,
                                  kl_scale: float) -> float:
    """:func:`reparameterise_backward` in torch operations (any float dtype and device)."""
    d = noise.shape[1]
    mu, logvar = out[:, :d], out[:, d:]
    var_minus_one = std.square().sub_(1.0)
    total = float(mu.square().sum() + (var_minus_one - logvar).sum())
    torch.add(dz, mu, alpha=kl_scale, out=dout[:, :d])
    torch.mul(dz, noise, out=dout[:, d:]).mul_(std).add_(var_minus_one, alpha=kl_scale).mul_(0.5)
    torch.sum(dout, 0, out=colsum)
    return total
