"""One training step of the MLP autoencoders with the backward pass written out: the trainer's fast path.

Autograd records and replays about a hundred small operations per step of a
784-400-20 VAE; at batch 128 on one CPU thread their dispatch and temporaries
cost as much as a third of the step. The MLP's gradient is short to write by
hand: a chain of matrix products, ReLU masks, the reparameterisation and a
closed-form loss gradient. :class:`MLPStep` computes the loss terms and writes
every parameter's gradient into ``param.grad`` in about thirty operations, and
:class:`FusedAdam` applies torch's fused Adam kernel (the one
``torch.optim.Adam(fused=True)`` calls) without the optimiser's per-step Python.
Both give the same values as autograd and ``torch.optim.Adam`` up to float32
rounding (``tests/test_training.py`` checks the gradients of every model kind
and likelihood against autograd). In float32 on the CPU the step hands its
elementwise tails to the fused loops of :mod:`latentwalk.kernels` (compiled C)
when the install built them: the biases with the ReLUs (after bias-free
products), the ReLU masks with the bias gradients, the reparameterisation
with the KL term and, for Bernoulli models, the sigmoid, loss, logit
gradient and last bias gradient.

While it trains, :class:`MLPStep` stores each weight as its transpose, ``(in, out)`` contiguous, still seen by
the model as ``(out, in)``: every large product of the step then reads its operands in the layouts MKL runs
fastest (forward ``x @ W^T`` without a transposed operand, the weight gradient as ``inputs^T @ grad`` into its
own storage). :meth:`MLPStep.release` puts the usual layout back.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import kernels
from .models import LatentAutoencoder

__all__ = ["MLPStep", "FusedAdam", "bce_sum", "supports"]

_relu_backward = torch.ops.aten.threshold_backward


def bce_sum(logits: Tensor, x: Tensor, probs: Tensor | None = None) -> Tensor:
    """The summed binary cross-entropy of ``logits`` against targets ``x`` in [0, 1]: the value of
    ``torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")``, faster on a CPU thread.

    The per-pixel loss is ``softplus(l) - x l`` with ``softplus(l) = max(l, 0) + log(1 + exp(-|l|))``, and
    ``1 + exp(-|l|) = 1 / max(p, 1 - p)`` for ``p = sigmoid(l)``: so ``softplus(l) = max(l, 0) - log(max(p, 1 - p))``,
    a logarithm of a number in [0.5, 1] instead of torch's ``log1p(exp(l))``. The step computes ``p`` anyway (the
    gradient is ``p - x``); pass it as ``probs`` to reuse it. On one thread at batch 128 x 784 (Intel Xeon, AVX-512):
    0.10 ms against 0.19 for torch's softplus and 0.21 for its BCE kernel. Exact for every finite ``l`` up to the
    rounding of ``p``, a few units in the last place of 1 per pixel (about 1e-7 in float32); where ``p`` rounds to 1
    or 0 (|l| > 17 in float32, > 37 in float64) the dropped ``log(1 + exp(-|l|)) < exp(-|l|)`` is below that.
    All tensors must be contiguous and of one shape.
    """
    flat_l, flat_x = logits.reshape(-1), x.reshape(-1)
    flat_p = torch.sigmoid(flat_l) if probs is None else probs.reshape(-1)
    return flat_l.clamp_min(0.0).sum() - (flat_p - 0.5).abs_().add_(0.5).log_().sum() - torch.dot(flat_x, flat_l)


def supports(model: LatentAutoencoder) -> bool:
    """Whether :class:`MLPStep` can train ``model`` (the MLP architecture, one player: no critic)."""
    return model.spec.architecture == "mlp" and not model.spec.adversarial


class MLPStep:
    """Loss terms and parameter gradients of one batch for an MLP :class:`LatentAutoencoder`.

    The encoder is ``Linear (ReLU Linear)*`` ending in the latent head (means, and log-variances for variational
    models); the decoder is ``Linear (ReLU Linear)*`` ending in pixel logits. Calling the step with flattened images
    ``x`` ``(B, H*W)`` and the reparameterisation noise ``(B, d)`` (None for the autoencoder) returns the batch means
    ``(loss, reconstruction, KL)`` as :func:`latentwalk.models.loss_terms` does and leaves d loss / d parameter in
    every parameter's ``.grad`` (overwritten, not accumulated).
    """

    def __init__(self, model: LatentAutoencoder) -> None:
        if not supports(model):
            raise ValueError(f"MLPStep trains MLP models, not {model.spec.architecture!r}")
        self.encoder = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)]
        self.decoder = [m for m in model.decoder.modules() if isinstance(m, nn.Linear)]
        self.params = [p for layer in self.encoder + self.decoder for p in (layer.weight, layer.bias)]
        with torch.no_grad():  # each weight stored as (in, out), still seen as (out, in) (module docstring)
            for layer in self.encoder + self.decoder:
                layer.weight.data = layer.weight.detach().t().contiguous().t()
        for p in self.params:
            p.grad = torch.zeros_like(p)  # in its parameter's layout
        spec = model.spec
        self.d = spec.latent_dim
        self.variational = spec.variational
        self.kl_weight = spec.kl_weight
        self.bernoulli = spec.likelihood == "bernoulli"
        self.inv_sigma2 = 1.0 / (spec.gaussian_sigma * spec.gaussian_sigma)
        #: Whether the fused loops of :mod:`latentwalk.kernels` (compiled C, float32 on the CPU) take the step's
        #: elementwise work (module docstring); else torch operations do, with the same values up to rounding.
        self.fused = kernels.available() and all(p.dtype == torch.float32 and p.device.type == "cpu"
                                                 for p in self.params)

    def _forward(self, layers: list[nn.Linear], x: Tensor, last_bias: bool = True) -> tuple[Tensor, list[Tensor]]:
        """The layers' output and the input of every layer (ReLU applied between layers, not after the last).
        ``last_bias=False`` leaves the last layer's bias out (a fused loop of the caller adds it)."""
        inputs = [x]
        out = x
        last = len(layers) - 1
        for k, layer in enumerate(layers):
            if not self.fused:
                out = torch.addmm(layer.bias, out, layer.weight.t())
                if k < last:
                    out.relu_()
            else:  # addmm would copy the bias into its output first: the product, then the bias in the next pass
                out = torch.mm(out, layer.weight.t())
                if k < last:
                    kernels.bias_relu_(out, layer.bias)
                elif last_bias:
                    out.add_(layer.bias)
            if k < last:
                inputs.append(out)
        return out, inputs

    def _backward(self, layers: list[nn.Linear], inputs: list[Tensor], grad: Tensor, need_input_grad: bool,
                  bias_done: bool = False) -> Tensor | None:
        """Write the layers' weight and bias gradients from d loss / d output; return d loss / d input if asked.
        ``bias_done``: the last layer's bias gradient is already written (by a fused loop of the caller)."""
        for k in range(len(layers) - 1, -1, -1):
            layer = layers[k]
            torch.mm(inputs[k].t(), grad, out=layer.weight.grad.t())  # the (in, out) storage
            if not bias_done:
                torch.sum(grad, 0, out=layer.bias.grad)
            bias_done = False
            if k > 0:
                grad = grad.mm(layer.weight)
                if self.fused and grad.is_contiguous():  # the mask and the next bias gradient in one pass
                    kernels.relu_backward_colsum_(grad, inputs[k], layers[k - 1].bias.grad)
                    bias_done = True
                else:
                    grad = _relu_backward(grad, inputs[k], 0)
            elif need_input_grad:
                return grad.mm(layer.weight)
        return None

    @torch.no_grad()
    def __call__(self, x: Tensor, noise: Tensor | None, kl_scale: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
        batch = x.shape[0]
        fused_latent = self.fused and self.variational and noise is not None
        out, enc_inputs = self._forward(self.encoder, x, last_bias=not fused_latent)
        if fused_latent:  # the head's bias, std and z in one pass
            assert noise is not None
            std, z = torch.empty_like(noise), torch.empty_like(noise)
            kernels.reparameterise(out, self.encoder[-1].bias, noise, std, z)
        elif self.variational:
            mu, logvar = out[:, : self.d], out[:, self.d :]
            std = torch.exp(0.5 * logvar)
            z = torch.addcmul(mu, noise, std) if noise is not None else mu
        else:
            mu, z = out, out
        fused_tail = self.fused and self.bernoulli and x.is_contiguous()
        logits, dec_inputs = self._forward(self.decoder, z, last_bias=not fused_tail)
        if fused_tail:  # the bias, sum of BCE(logits, x), d/dlogits = sigmoid - x and the bias gradient in one pass
            grad = torch.empty_like(logits)
            last = self.decoder[-1]
            total = kernels.bernoulli_tail(logits, last.bias, x, grad, last.bias.grad, 1.0 / batch)
            recon = logits.new_tensor(total / batch)
        elif self.bernoulli:  # sum of BCE(logits, x); d/dlogits = sigmoid - x
            probs = torch.sigmoid(logits)
            recon = bce_sum(logits, x, probs) / batch
            grad = probs.sub_(x).mul_(1.0 / batch)
        else:  # 0.5 (sigmoid - x)^2 / sigma^2; d/dlogits = (sigmoid - x) sigmoid (1 - sigmoid) / sigma^2
            probs = torch.sigmoid(logits)
            diff = probs - x
            recon = diff.square().sum() * (0.5 * self.inv_sigma2 / batch)
            grad = diff.mul_(probs).mul_(1.0 - probs).mul_(self.inv_sigma2 / batch)
        dz = self._backward(self.decoder, dec_inputs, grad, need_input_grad=True, bias_done=fused_tail)
        assert dz is not None

        weight = kl_scale * self.kl_weight
        if fused_latent:  # the gradient through z and the KL term, the KL and the head's bias gradient in one pass
            dout = torch.empty_like(out)
            twice_kl = kernels.reparameterise_backward(dz, out, noise, std, dout, self.encoder[-1].bias.grad,
                                                       weight / batch)
            kl = out.new_tensor(twice_kl * 0.5 / batch)
        elif self.variational:
            var = std.square()
            kl = (mu.square().sum() + (var - 1.0 - logvar).sum()) * (0.5 / batch)
            dout = torch.empty_like(out)
            torch.add(dz, mu, alpha=weight / batch, out=dout[:, : self.d])
            if noise is not None:  # z = mu + noise * exp(logvar / 2)
                torch.mul(dz, noise, out=dout[:, self.d :]).mul_(std).mul_(0.5)
            else:
                dout[:, self.d :].zero_()
            dout[:, self.d :].add_(var.sub_(1.0), alpha=0.5 * weight / batch)
        else:
            kl = out.new_zeros(())
            dout = dz
        self._backward(self.encoder, enc_inputs, dout, need_input_grad=False, bias_done=fused_latent)
        return recon + weight * kl, recon, kl

    def release(self) -> None:
        """Store the weights in torch's usual (out, in) layout again (what is saved and evaluated after training)."""
        with torch.no_grad():
            for layer in self.encoder + self.decoder:
                layer.weight.data = layer.weight.detach().contiguous()
                layer.weight.grad = torch.zeros_like(layer.weight)


class FusedAdam:
    """Adam with torch's fused kernel and no per-step Python beyond the kernel call: the values of
    ``torch.optim.Adam(params, lr, fused=True)`` (default betas 0.9, 0.999, eps 1e-8, no weight decay)."""

    def __init__(self, params: list[Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        if any(p.grad is None for p in params):
            raise ValueError("FusedAdam needs every parameter's .grad allocated (MLPStep does it)")
        # The kernel walks dense memory: a transposed weight (and its gradient) is updated through its contiguous
        # transpose, a view of the same storage (else torch copies each tensor in and out on every step).
        self.params = [_dense(p) for p in params]
        self.grads = [_dense(p.grad) for p in params]
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        # On the CPU the kernel reads each step count as a double: float64 counts spare it a conversion per tensor
        # (17 -> 12 us a step). The CUDA kernel reads float32 counts, as torch.optim.Adam keeps them there.
        self.steps = [torch.zeros((), dtype=torch.float64 if p.device.type == "cpu" else torch.float32, device=p.device)
                      for p in self.params]
        self.lr, self.betas, self.eps = lr, betas, eps

    def step(self) -> None:
        torch._foreach_add_(self.steps, 1.0)
        torch._fused_adam_(self.params, self.grads, self.exp_avg, self.exp_avg_sq, [], self.steps, lr=self.lr,
                           beta1=self.betas[0], beta2=self.betas[1], weight_decay=0.0, eps=self.eps, amsgrad=False,
                           maximize=False)


def _dense(t: Tensor) -> Tensor:
    """``t`` if contiguous, else its transpose when that is (a weight stored as (in, out)); both views of one storage."""
    if t.is_contiguous():
        return t
    if t.dim() == 2 and t.t().is_contiguous():
        return t.t()
    raise ValueError(f"FusedAdam needs dense tensors; got shape {tuple(t.shape)}, strides {t.stride()}")
