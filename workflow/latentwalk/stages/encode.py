"""Stage encode: latent means of every example of a dataset, as Parquet."""

from __future__ import annotations

import time

from ..io import LatentwalkError, PathLike, read_json, sha256_file
from ..logs import Log, quiet


def encode(
    data_npz: PathLike,
    model_pt: PathLike,
    meta_json: PathLike,
    dim: int,
    batch_size: int,
    device: str,
    out_parquet: PathLike,
    log: Log = quiet,
) -> None:
    """Encode every example of the dataset with the run's encoder means; write the latent Parquet."""
    from ..datasets import load_dataset
    from ..encoding import encode_images, latent_table, write_latents
    from ..models import ModelSpec
    from ..training import load_run_model, resolve_device

    meta = read_json(meta_json)
    if ModelSpec.from_dict(meta["config"]["model"]).latent_dim != int(dim):
        raise LatentwalkError(f"{meta_json}: latent dim {meta['config']['model']['latent_dim']} does not match the run's z{dim}")
    torch_device = resolve_device(device)
    model, spec = load_run_model(model_pt, meta_json, torch_device)
    data = load_dataset(data_npz)
    start = time.perf_counter()
    mu, logvar = encode_images(model, data.images, batch_size, str(torch_device))
    table = latent_table(mu, logvar, data.labels, data.split, data.attributes)
    write_latents(
        table,
        out_parquet,
        {
            "run": meta.get("run"),
            "latent_dim": spec.latent_dim,
            "variational": spec.variational,
            "label_kind": data.label_kind,
            "model_sha256": sha256_file(model_pt),
            "data_sha256": sha256_file(data_npz),
        },
    )
    log(f"encoded {len(table)} examples to {spec.latent_dim}-D in {time.perf_counter() - start:.2f}s; "
        f"mean |mu| {table['norm'].mean():.4f}")
