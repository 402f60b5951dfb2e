"""Training throughput: latentwalk's trainer against a pytorch/examples-style loop, same model, data, batch and epochs.

The reference is the loop of pytorch/examples' ``vae/main.py``, written out here: a DataLoader over the images
(shuffle=True, so a fresh random index per step), ``torch.optim.Adam(lr=1e-3)`` with its defaults, sigmoid
outputs with ``binary_cross_entropy(reduction="sum")`` plus the KL term, and ``loss.item()`` every step. The MLP is
the example's 784-400-20 VAE; the conv model is latentwalk's conv architecture trained by the same reference loop.
Both run at one thread. The FLOP rate of a step is counted by ``torch.utils.flop_counter`` (matrix products and
convolutions, forward and backward) and compared with the same thread's float32 rate on a 2048 x 2048 product,
measured right before each timed run (the median of those). For each model the section also times a floor
(:func:`mlp_floor`; :func:`conv_floor`, the convolutions as im2col matrix products: the step's products alone, then
with the batch gather and the Adam update), in turns with the trainer's own step and the ceiling, so each run says
what share of the ceiling is reachable on its machine at all and how near the trainer comes to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
import numpy as np
import torch
from torch.nn import functional as F

from common import MNIST, Row, median_of
from latentwalk.model.networks import ModelSpec, build_model, loss_terms
from latentwalk.model.training import TrainConfig, train_model


def images_28(n: int = 10_000) -> tuple[np.ndarray, str]:
    """MNIST's 10k test images from ../shared/data/mnist when present, else n synthetic 28 x 28 line images."""
    if (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        from latentwalk.data.idx import find_mnist_files, load_mnist_arrays

        _, _, images, _ = load_mnist_arrays(find_mnist_files(MNIST))
        return (images.astype(np.float32) / 255.0)[:n], "MNIST t10k"
    from latentwalk.data.prepare import make_lines

    return make_lines(n, 0.2, 0, size=28, length=13.0).images.astype(np.float32), "synthetic 28x28 lines"


def reference_loop(spec: ModelSpec, images: np.ndarray, epochs: int, batch_size: int = 128, seed: int = 0,
                   device: str = "cpu") -> tuple[float, float]:
    """pytorch/examples' VAE training loop; returns (seconds, mean loss per image over the last epoch).

    As in the example, the images stay in host memory and each batch is moved to ``device`` as it is drawn."""
    torch.manual_seed(seed)
    model = build_model(spec).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.as_tensor(images)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=batch_size, shuffle=True)
    start = time.perf_counter()
    last = 0.0
    for _ in range(epochs):
        model.train()
        train_loss = 0.0
        for (x,) in loader:
            x = x.to(device)
            optimiser.zero_grad()
            mu, logvar = model.encode(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            recon = torch.sigmoid(model.decode_logits(z))
            bce = F.binary_cross_entropy(recon, x, reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = bce + kld
            loss.backward()
            train_loss += loss.item()
            optimiser.step()
        last = train_loss / len(data)
    return time.perf_counter() - start, last


def ours(spec: ModelSpec, images: np.ndarray, epochs: int, batch_size: int = 128, device: str = "cpu") -> tuple[float, float]:
    """latentwalk's trainer; returns (seconds, mean loss per image over the last epoch)."""
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, seed=0, device=device, threads=1)
    start = time.perf_counter()
    _, history = train_model(spec, cfg, images)
    return time.perf_counter() - start, history[-1]["loss"]


def step_flops(spec: ModelSpec, batch_size: int = 128) -> float:
    """FLOPs of one training step (forward and backward) at ``batch_size``, counted by torch's flop counter (given
    the formula it lacks for ``aten.slow_conv_transpose2d``, the conv decoder's last layer: 0.7% of a conv step)."""
    from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

    def slow_conv_transpose2d(x_shape: list[int], w_shape: list[int], *args: object, out_shape: list[int],
                              **kwargs: object) -> int:  # the conv decoder's last layer; the counter has no formula
        return conv_flop_count(x_shape, w_shape, out_shape, transposed=True)

    model = build_model(spec)
    x = torch.rand(batch_size, *spec.image_shape)
    mapping = {torch.ops.aten.slow_conv_transpose2d: slow_conv_transpose2d}
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        loss, _, _ = loss_terms(model, x, torch.randn(batch_size, spec.latent_dim))
        loss.backward()
    return float(counter.get_total_flops())


def matmul_rate(size: int = 2048, repeats: int = 7) -> float:
    """This thread's float32 matrix-product rate in FLOP/s (median over ``repeats`` products, after warm-up)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        torch.mm(a, b)

    def once() -> float:
        start = time.perf_counter()
        torch.mm(a, b)
        return 2 * size**3 / (time.perf_counter() - start)

    return median_of(repeats, once)[0]


def mlp_floor(spec: ModelSpec, images: np.ndarray, epochs: int, batch_size: int = 128,
              chunk: int = 13) -> dict[str, float]:
    """The trainer's MLP step against the floor of any trainer of that model, in turns: seconds per step of each, and
    the matmul ceiling's FLOP/s, medians over ``epochs`` epochs of batches.

    - ``"step"``: the trainer's own loop body (a gathered batch, its noise, :class:`latentwalk.mlp_step.MLPStep`,
      :class:`latentwalk.mlp_step.FusedAdam`, the running loss totals), as :func:`latentwalk.training.train_model`
      runs it;
    - ``"products"``: the step's matrix products alone (forward, the weight gradients, the input gradients the
      chain needs) on MLPStep's weights in its layout, over contiguous batches: the same FLOPs as :func:`step_flops`
      and none of the elementwise work between them;
    - ``"floor"``: those products with the batch gather and the float32 Adam update (torch's fused kernel, which
      streams the parameters, their gradients and both moments: seven numbers per parameter per step, a
      memory-bound pass no trainer with this optimiser can skip). A full step can only be slower;
    - ``"ceiling"``: the 2048 x 2048 product's rate (FLOP/s), one product per turn.

    The variants take turns ``chunk`` steps at a time, so that the machine's drift (here tens of percent within
    minutes) hits all of them alike and the shares compare like with like.
    """
    from latentwalk.mlp_step import FusedAdam, MLPStep  # UNRESOLVED

    data = torch.as_tensor(images).reshape(len(images), -1).contiguous()
    width = 2 * spec.latent_dim if spec.variational else spec.latent_dim
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)

    def forward(layers: list[torch.nn.Module], out: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        inputs = []
        for layer in layers:
            inputs.append(out)
            out = torch.mm(out, layer.weight.t())
        return out, inputs

    def backward(layers: list[torch.nn.Module], inputs: list[torch.Tensor], grad: torch.Tensor,
                 need_input_grad: bool) -> torch.Tensor:
        for k in range(len(layers) - 1, -1, -1):
            torch.mm(inputs[k].t(), grad, out=layers[k].weight.grad.t())
            if k > 0 or need_input_grad:
                grad = grad.mm(layers[k].weight)
        return grad

    def make(name: str) -> Callable[[int], None]:
        torch.manual_seed(0)
        step = MLPStep(build_model(spec))
        adam = FusedAdam(step.params, 1e-3)
        generator = torch.Generator().manual_seed(0)
        order = torch.randperm(len(images), generator=generator)
        totals = torch.zeros(3, dtype=torch.float64)

        def one(first: int) -> None:
            nonlocal totals
            if name == "products":
                x = data[first : first + batch_size]
            else:
                x = torch.index_select(data, 0, order[first : first + batch_size])
            if name == "step":
                noise = torch.randn((batch_size, spec.latent_dim), generator=generator) if spec.variational else None
                loss, recon, kl = step(x, noise)
                adam.step()
                totals += torch.stack((loss, recon, kl)).double() * batch_size
                return
            head, enc_inputs = forward(step.encoder, x)
            logits, dec_inputs = forward(step.decoder, head[:, : spec.latent_dim])
            dz = backward(step.decoder, dec_inputs, logits, need_input_grad=True)
            backward(step.encoder, enc_inputs, dz.repeat(1, width // spec.latent_dim), need_input_grad=False)
            if name == "floor":
                adam.step()

        return one

    return _in_turns({name: make(name) for name in ("step", "products", "floor")}, len(images), batch_size,
                     epochs, chunk, a, b)


def _in_turns(runners: dict[str, Callable[[int], None]], n_images: int, batch_size: int, epochs: int, chunk: int,
              a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    """Time ``runners`` (each runs one step from a batch offset) in turns of ``chunk`` steps, rotating who goes
    first, with one ``a @ b`` product per turn for the ceiling; medians of the seconds per step, and the ceiling."""
    names = list(runners)
    times: dict[str, list[float]] = {name: [] for name in names}
    rates: list[float] = []
    firsts = list(range(0, n_images - batch_size + 1, batch_size))
    size = a.shape[0]
    with torch.no_grad():
        for first in firsts[:chunk]:  # warm-up
            for name in names:
                runners[name](first)
        for _ in range(epochs):
            for turn, start in enumerate(range(0, len(firsts), chunk)):
                begin = time.perf_counter()
                torch.mm(a, b)
                rates.append(2 * size**3 / (time.perf_counter() - begin))
                shift = turn % len(names)
                for name in names[shift:] + names[:shift]:
                    for first in firsts[start : start + chunk]:
                        begin = time.perf_counter()
                        runners[name](first)
                        times[name].append(time.perf_counter() - begin)
    return {**{name: float(np.median(t)) for name, t in times.items()}, "ceiling": float(np.median(rates))}


def conv_products(spec: ModelSpec, batch_size: int = 128) -> list[tuple[int, int, int, bool]]:
    """The matrix products a conv-model training step amounts to: ``(M, K, N, first)`` per layer, in the order the
    forward pass runs them, ``first`` for the layer that reads the images (its input gradient is never needed). The
    autoencoder's layers only: an ACAI critic's step is not listed.

    A convolution of ``C_in`` to ``C_out`` channels with a ``k x k`` kernel is, written with im2col, the product of
    a ``(B * H_out * W_out, C_in * k * k)`` matrix of patches with its ``(C_in * k * k, C_out)`` weight (forward),
    that product's transpose pair for the input gradient, and the patches against the output gradient for the weight
    gradient: ``M = B H_out W_out``, ``K = C_in k^2``, ``N = C_out``. A transposed convolution is the adjoint: the
    same three products with ``M`` counted on its input (``K = C_out k^2``, ``N = C_in``). A linear layer is
    ``M = B``, ``K = in``, ``N = out``. Each product costs ``2 M K N`` FLOPs, as :func:`step_flops` counts them."""
    model = build_model(spec)
    shapes: list[tuple[int, int, int, bool]] = []

    def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        first = not shapes and module in list(model.encoder.modules())
        if isinstance(module, torch.nn.ConvTranspose2d):
            n_in, c_in, h, w = inputs[0].shape
            k = module.kernel_size[0] * module.kernel_size[1]
            shapes.append((n_in * h * w, module.out_channels * k, c_in, first))
        elif isinstance(module, torch.nn.Conv2d):
            n_out, c_out, h, w = output.shape
            k = module.kernel_size[0] * module.kernel_size[1]
            shapes.append((n_out * h * w, module.in_channels * k, c_out, first))
        elif isinstance(module, torch.nn.Linear):
            shapes.append((inputs[0].shape[0], module.in_features, module.out_features, first))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear))]
    with torch.no_grad():
        model.decode_logits(model.encode(torch.rand(batch_size, *spec.image_shape))[0])
    for handle in handles:
        handle.remove()
    return shapes


def product_layouts(spec: ModelSpec, batch_size: int = 128) -> list[tuple[int, list[Callable[[], torch.Tensor]]]]:
    """Each product of :func:`conv_products` as ``(FLOPs, its two layouts)`` on ready-made random operands: the
    forward ``(M, K) (K, N)``, the weight gradient ``(K, M) (M, N)`` or its transpose, and, but for the layer that
    reads the images, the input gradient ``(M, N) (N, K)``; either layout computes the product or its transpose
    from contiguous operands."""
    products: list[tuple[int, list[Callable[[], torch.Tensor]]]] = []
    for m, k, n, first in conv_products(spec, batch_size):
        x, w, g = torch.randn(m, k), torch.randn(k, n), torch.randn(m, n)
        xt, wt, gt = x.t().contiguous(), w.t().contiguous(), g.t().contiguous()
        flops = 2 * m * k * n
        products.append((flops, [lambda x=x, w=w: x @ w, lambda xt=xt, wt=wt: wt @ xt]))
        products.append((flops, [lambda xt=xt, g=g: xt @ g, lambda gt=gt, x=x: gt @ x]))
        if not first:
            products.append((flops, [lambda g=g, wt=wt: g @ wt, lambda w=w, gt=gt: w @ gt]))
    return products


def conv_floor(spec: ModelSpec, images: np.ndarray, epochs: int, batch_size: int = 128,
               chunk: int = 13) -> dict[str, float]:
    """The trainer's conv step against the floor of a trainer that computes the convolutions as matrix products, in
    turns, as :func:`mlp_floor` does for the MLP: seconds per step of each, and the ceiling's FLOP/s.

    - ``"step"``: the trainer's own loop body (a gathered batch, its noise, the autograd step with the layouts
      :func:`latentwalk.training.channels_last_parts` picks, torch's fused Adam, the running loss totals);
    - ``"products"``: the step's products (:func:`conv_products`: forward, weight gradients, the input gradients the
      chain needs) on ready-made operands, each in the faster of its two layouts (``A @ B`` or ``(B^T A^T)^T``, both
      operands contiguous; chosen per product in the warm-up): the step's FLOPs without the im2col and col2im
      copies, the bias, ReLU and loss passes between them;
    - ``"floor"``: those products with the batch gather and the fused Adam update over the model's parameters;
    - ``"ceiling"``: the 2048 x 2048 product's rate (FLOP/s), one product per turn.
    """
    from latentwalk.model.networks import loss_terms
    from latentwalk.model.training import _adam
    from latentwalk.model.training import to_training_layout  # UNRESOLVED

    data = torch.as_tensor(images).contiguous()
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    cpu = torch.device("cpu")
    chosen: list[Callable[[], torch.Tensor]] = []
    for _, pair in product_layouts(spec, batch_size):
        best = []
        for layout in pair:
            layout()
            begin = time.perf_counter()
            for _ in range(3):
                layout()
            best.append(time.perf_counter() - begin)
        chosen.append(pair[int(np.argmin(best))])

    def make(name: str) -> Callable[[int], None]:
        torch.manual_seed(0)
        model = to_training_layout(build_model(spec), cpu)
        adam = _adam(model.parameters(), 1e-3, cpu)
        for p in model.parameters():
            p.grad = torch.randn_like(p) * 1e-3
        generator = torch.Generator().manual_seed(0)
        order = torch.randperm(len(images), generator=generator)
        totals = torch.zeros(3, dtype=torch.float64)

        def one(first: int) -> None:
            nonlocal totals
            if name == "products":
                for product in chosen:
                    product()
                return
            batch = torch.index_select(data, 0, order[first : first + batch_size])
            if name == "step":
                noise = torch.randn((batch_size, spec.latent_dim), generator=generator) if spec.variational else None
                with torch.enable_grad():
                    loss, recon, kl = loss_terms(model, batch, noise)
                    adam.zero_grad(set_to_none=True)
                    loss.backward()
                adam.step()
                totals += torch.stack((loss.detach(), recon.detach(), kl.detach())).double() * batch_size
                return
            for product in chosen:
                product()
            adam.step()

        return one

    return _in_turns({name: make(name) for name in ("step", "products", "floor")}, len(images), batch_size,
                     epochs, chunk, a, b)


def run(repeats: int = 3, quick: bool = False) -> list[Row]:
    torch.set_num_threads(1)
    images, source = images_28()
    rows: list[Row] = []
    # The ceiling is measured beside every timed training run, not once: this machine's speed drifts by 10% within
    # minutes, and a ceiling taken at another moment than the training would move the share by as much.
    rates = [matmul_rate()]
    cases: list[tuple[str, ModelSpec, int, int]] = [
        ("mlp 784-400-20 VAE", ModelSpec("vae", 20, (28, 28), hidden=(400,), likelihood="bernoulli"), 5, 128),
        ("conv VAE (32, 64, 256), z20", ModelSpec("vae", 20, (28, 28), architecture="conv", likelihood="bernoulli"),
         1 if quick else 2, 128),
    ]
    for name, spec, epochs, batch in cases:
        samples = epochs * len(images)
        ours(spec, images, 1)  # warm-up: first-call costs (allocator, kernels) are paid once per process
        mine: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        ceiling: list[float] = []
        for _ in range(repeats):  # interleaved, so drift of the machine hits all alike
            ceiling.append(matmul_rate(repeats=3))
            mine.append(ours(spec, images, epochs, batch))
            theirs.append(reference_loop(spec, images, epochs, batch))
        rates += ceiling
        rate = float(np.median(ceiling))
        ours_s = float(np.median([s for s, _ in mine]))
        ref_s = float(np.median([s for s, _ in theirs]))
        ours_loss, ref_loss = mine[-1][1], theirs[-1][1]
        per_sample = step_flops(spec, batch) / batch  # FLOPs of one sample's forward and backward
        flops = per_sample * samples / ours_s
        label = f"{name}, {source}, batch {batch}, {epochs} epochs"
        rows.append(Row("training", f"{label}: reference samples/s", samples / ref_s, "samples/s"))
        rows.append(Row("training", f"{label}: latentwalk samples/s", samples / ours_s, "samples/s", "reference loop",
                        ref_s / ours_s, ">= 2.0x", ref_s / ours_s >= 2.0))
        gap = abs(ours_loss / ref_loss - 1)
        rows.append(Row("training", f"{label}: final loss (latentwalk / reference)", ours_loss, "nats/image",
                        f"reference {ref_loss:.3f}", ours_loss / ref_loss, "within 1%", gap <= 0.01))
        rows.append(Row("training", f"{label}: latentwalk FLOP rate", flops / 1e9, "GFLOP/s",
                        f"matmul rate beside it, {rate / 1e9:.1f} GFLOP/s", flops / rate, ">= 70%", flops / rate >= 0.70))
        # What the ceiling allows: the reference's own share of it. A trainer k times as fast runs at k times that
        # share, so no loop doing the same float32 arithmetic can pass 1 / share (nor, in practice, the share these
        # shapes' products reach alone, well under 100%).
        ref_flops = per_sample * samples / ref_s
        rows.append(Row("training", f"{label}: reference FLOP rate", ref_flops / 1e9, "GFLOP/s",
                        f"matmul rate beside it, {rate / 1e9:.1f} GFLOP/s", ref_flops / rate,
                        note=f"2.0x the reference needs {2 * ref_flops / rate:.0%} of the matmul rate; "
                             f"the ceiling allows at most {rate / ref_flops:.2f}x"))
        # The floor of a trainer of this model: what share of the ceiling is reachable at all, in turns with the step.
        floor = (mlp_floor if spec.architecture == "mlp" else conv_floor)(spec, images, 1 if quick else epochs, batch)
        per_step = step_flops(spec, batch)
        mlp = spec.architecture == "mlp"
        products = ("the step's matrix products alone" if mlp
                    else "the step's convolutions and linear layers as matrix products alone (im2col)")
        trainer = "a float32 trainer of these products with Adam" if mlp else \
            "a float32 trainer computing these layers as matrix products, with Adam,"
        floor_label = ("products + batch gather + float32 Adam (a float32 trainer's floor)" if mlp else
                       "products + batch gather + float32 Adam (the floor of a trainer computing them as products)")
        for key, what in (("products", products), ("floor", floor_label),
                          ("step", "latentwalk's step, in turns with the two above")):
            note = ""
            if key == "floor":
                share = per_step / floor[key] / floor["ceiling"]
                note = (f"{trainer} reaches at most {share:.0%} of the matmul rate here; its FLOP rate is "
                        f"{per_step / floor[key] / ref_flops:.2f}x the reference loop's")
            if key == "step":
                note = f"{floor['floor'] / floor['step']:.0%} of the floor's speed"
            rows.append(Row("training", f"{label}: {what}", per_step / floor[key] / 1e9, "GFLOP/s",
                            f"matmul rate in turns with it, {floor['ceiling'] / 1e9:.1f} GFLOP/s",
                            per_step / floor[key] / floor["ceiling"], note=note))
        rates.append(floor["ceiling"])
    rows.insert(0, Row("training", "float32 matmul 2048x2048, 1 thread", float(np.median(rates)) / 1e9, "GFLOP/s",
                       note=f"the ceiling; {min(rates) / 1e9:.1f}-{max(rates) / 1e9:.1f} across the section"))
    return rows

