"""Config validation with schema defaults and one-line errors, plus run naming.

The JSON schema (``workflow/schemas/config.schema.yaml``) is the single source
of truth for keys, types, allowed values and defaults. :func:`validate_config`
fills the defaults in place and turns the first schema violation into a
:class:`~latentwalk.core.io.LatentwalkError` whose message names the key path and
the allowed values, so a bad config fails before any job is scheduled.
"""

from __future__ import annotations

import copy
import os
import zipfile
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

from latentwalk.core.io import LatentwalkError
from latentwalk.data.idx import MNIST_FILES
from latentwalk.core.registry import (
    DATASETS,
    METHODS,
    MODELS,
    SWEPT_KINDS,
    Dataset,
    Run,
    applicable_methods,
    model_name,
    source_dataset,
    why_not,
)

__all__ = ["SOURCE_DEFAULTS", "load_yaml", "load_schema", "validate_config", "architecture_of", "betas", "datasets_of", "source_classes",
           "analysed_datasets", "check_path", "iter_runs", "key_path", "check_config_file"]


class _DuplicateKey(Exception):
    """A mapping names one key twice (raised while loading; :func:`load_yaml` adds the file)."""


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key that a mapping names twice (YAML would silently keep the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DuplicateKey(f"line {line}: key {key!r} appears twice in one mapping (first on line {seen[key]}); "
                                "YAML would silently keep the later one: keep one")
        seen[key] = line
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=deep))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Every YAML file the pipeline reads (config files, the schema, sweeps), as a mapping; anything else is one
    :class:`LatentwalkError` line naming the file (and the line and key where it can): a missing, unreadable or empty
    file, YAML that does not parse, a key named twice in one mapping, a top level that is not a mapping of keys."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise LatentwalkError(f"{path}: cannot be read ({reason})") from None
    if not text.strip() or all(line.lstrip().startswith("#") for line in text.splitlines() if line.strip()):
        raise LatentwalkError(f"{path}: empty; a config file is a mapping of keys (config/README.md lists them)")
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except _DuplicateKey as exc:
        raise LatentwalkError(f"{path} {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = text.splitlines()[mark.line].replace("\t", "<TAB>").strip() if mark is not None and mark.line < len(text.splitlines()) else ""
        shown = f" (the line: {line[:60]!r})" if line else ""
        raise LatentwalkError(f"{path}{where}: not valid YAML: {problem}{shown}") from None
    if not isinstance(data, dict):
        raise LatentwalkError(f"{path}: holds a {type(data).__name__}, not a mapping of keys (key: value lines)")
    return data


def check_config_file(path: str | os.PathLike[str]) -> None:
    """Raise a one-line :class:`LatentwalkError` naming the file (:func:`load_yaml`) unless ``path`` is a valid config
    file. The Snakefile calls it for ``config.yaml`` (if present) and every ``--configfile`` before validating:
    Snakemake's own loader keeps the last of two equal keys and names neither file nor line."""
    load_yaml(path)


def load_schema(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the YAML/JSON schema file."""
    return load_yaml(path)


def key_path(parts: Any) -> str:
    """Render a jsonschema ``absolute_path`` as ``data.lines.n`` / ``models[1]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<top level>"


def _fill_defaults(instance: MutableMapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Recursively set schema defaults for missing keys of nested objects."""
    if schema.get("type") != "object" or not isinstance(instance, MutableMapping):
        return
    props = schema.get("properties", {})
    for key, sub in props.items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _fill_defaults(instance[key], sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):  # a map of named entries (data.sources): each entry's defaults too
        for key, value in instance.items():
            if key not in props:
                _fill_defaults(value, extra)


_SCALAR_PARSERS: dict[str, Any] = {
    "integer": int,
    "number": float,
    "boolean": lambda v: {"true": True, "false": False}[v.strip().lower()],
    "null": lambda v: None if v.strip().lower() in ("null", "none", "~", "") else _fail(),
}


def _fail() -> Any:
    raise ValueError


def _coerce(instance: Any, schema: Mapping[str, Any]) -> Any:
    """Convert strings where the schema wants numbers, booleans or null.

    ``snakemake --config 'latent_dims=[2,500]'`` parses nested values with
    YAML's BaseLoader, which keeps every scalar a string; coercing by schema
    type lets such overrides work as the user means them. Strings that do not
    parse are left alone for the validator to report.
    """
    if isinstance(instance, MutableMapping):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            sub = props.get(key, extra if isinstance(extra, Mapping) else None)
            if sub is not None:
                instance[key] = _coerce(value, sub)
        return instance
    if isinstance(instance, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            return [_coerce(v, items) for v in instance]
        return instance
    if isinstance(instance, str):
        wanted = schema.get("type", [])
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        if "string" in wanted or "enum" in schema and instance in schema["enum"]:
            return instance
        for kind in wanted:
            if kind in _SCALAR_PARSERS:
                try:
                    return _SCALAR_PARSERS[kind](instance)
                except (ValueError, KeyError):
                    continue
    return instance


def _describe(error: Any) -> str:
    """One line for a jsonschema ValidationError: the key, the value and what is allowed."""
    where = key_path(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, Mapping) else []
        keys = ", ".join(repr(k) for k in extra)
        return f"config key {where}: unknown key(s) {keys}; allowed keys: {', '.join(allowed)}"
    if kind == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"config key {where}: {error.instance!r} is not allowed; allowed values: {allowed}"
    if kind == "type":
        return f"config key {where}: {error.instance!r} has the wrong type; expected {error.validator_value}"
    return f"config key {where}: {error.message}"


def validate_config(config: MutableMapping[str, Any], schema: Mapping[str, Any], check_device: bool = False) -> MutableMapping[str, Any]:
    """Validate ``config`` against ``schema``, fill defaults in place and return it.

    Raises :class:`LatentwalkError` with a one-line message naming the key for
    the first violation (schema errors, then cross-key checks). With
    ``check_device``, ``device: cuda`` also needs a visible CUDA device (the
    workflow asks for this when jobs run on this machine).
    """

    _coerce(config, schema)
    _fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise LatentwalkError(_describe(errors[0]))
    _check_cross_keys(config, check_device)
    return config


#: Per-dataset settings a source takes when the config names none for it.
SOURCE_DEFAULTS: dict[str, Any] = {"epochs": 30, "likelihood": "bernoulli"}


def _check_datasets(config: MutableMapping[str, Any]) -> None:
    """Dataset names: every listed one built in or under data.sources, no source named like a built-in, every
    per-dataset key naming a known dataset; a source's missing per-dataset settings take :data:`SOURCE_DEFAULTS`."""
    sources = config["data"]["sources"]
    for name in sources:
        if name in DATASETS:
            raise LatentwalkError(f"config key data.sources.{name}: {name!r} is a built-in dataset; give your source "
                                  "another name")
    known = [*DATASETS, *sources]
    if not config["datasets"] and not config["external_models"]:
        raise LatentwalkError("config key datasets: empty, and no external_models to analyse: nothing to run")
    for k, name in enumerate(config["datasets"]):
        if name not in known:
            raise LatentwalkError(f"config key datasets[{k}]: {name!r} is neither a built-in dataset "
                                  f"({', '.join(DATASETS)}) nor defined under data.sources")
    per_dataset = {"train.epochs": config["train"]["epochs"], "model.likelihood": config["model"]["likelihood"],
                   "model.architecture_per_dataset": config["model"]["architecture_per_dataset"]}
    for key, values in per_dataset.items():
        unknown = [name for name in values if name not in known]
        if unknown:
            raise LatentwalkError(f"config key {key}.{unknown[0]}: no dataset of that name (built in or under "
                                  "data.sources)")
    for name, settings in sources.items():
        kind = "file" if str(settings["path"]).endswith(".npz") else "folder"
        check_path(f"data.sources.{name}.path", settings["path"], kind)
    for name in sources:
        config["train"]["epochs"].setdefault(name, SOURCE_DEFAULTS["epochs"])
        config["model"]["likelihood"].setdefault(name, SOURCE_DEFAULTS["likelihood"])
    for name, model in config["external_models"].items():
        key = f"config key external_models.{name}"
        if name in MODELS:
            raise LatentwalkError(f"{key}: {name!r} is a model kind's name; give your model another name")
        if model["dataset"] not in known:
            raise LatentwalkError(f"{key}.dataset: {model['dataset']!r} is neither a built-in dataset "
                                  f"({', '.join(DATASETS)}) nor defined under data.sources")
        for part in ("encoder", "decoder"):
            check_path(f"external_models.{name}.{part}", model[part], "file")


def check_path(key: str, path: str | os.PathLike[str], kind: str) -> None:
    """A configured path must exist as a ``file`` or ``folder`` (``kind``) that this process can read, and not be a
    broken or looping link; else one :class:`LatentwalkError` line naming the config key and the path."""
    where = Path(path)
    if where.is_symlink() and not where.exists():
        raise LatentwalkError(f"config key {key}: {path} is a broken link (its target does not exist, or it loops)")
    if not where.exists():
        raise LatentwalkError(f"config key {key}: {path} does not exist")
    if kind == "folder" and not where.is_dir():
        raise LatentwalkError(f"config key {key}: {path} is a file; a folder is expected here")
    if kind == "file" and where.is_dir():
        raise LatentwalkError(f"config key {key}: {path} is a folder, not a file")
    if not os.access(where, os.R_OK | (os.X_OK if where.is_dir() else 0)):
        raise LatentwalkError(f"config key {key}: {path} cannot be read (permission denied)")


def _check_mnist_dir(folder: str) -> None:
    """data.mnist.dir: a readable folder holding the MNIST IDX files (gzipped or not), none of them a broken link."""
    check_path("data.mnist.dir", folder, "folder")
    names = [f"{base}{ext}" for base in MNIST_FILES.values() for ext in (".gz", "")]
    for name in names:  # a link among them must lead to a readable file
        if Path(folder, name).is_symlink():
            check_path("data.mnist.dir", Path(folder, name), "file")
    if not any(Path(folder, name).is_file() for name in names):
        raise LatentwalkError(f"config key data.mnist.dir: {folder} holds no MNIST IDX files "
                              f"(expected e.g. {MNIST_FILES['test_images']}.gz)")


def _check_cross_keys(config: MutableMapping[str, Any], check_device: bool = False) -> None:
    _check_datasets(config)
    mnist = config["data"]["mnist"]
    if "mnist" in analysed_datasets(config) and mnist["dir"]:
        _check_mnist_dir(mnist["dir"])
    if "mnist" in config["datasets"]:
        if not mnist["dir"] and not mnist["base_url"]:
            raise LatentwalkError(
                "config key data.mnist.dir: datasets includes 'mnist' but neither data.mnist.dir "
                "nor data.mnist.base_url is set"
            )
        if mnist["base_url"] and not mnist["dir"]:
            missing = [f for f in mnist["files"] if f not in mnist["sha256"]]
            if missing:
                raise LatentwalkError(
                    f"config key data.mnist.sha256: no SHA-256 for {', '.join(missing)}; every downloaded file is verified"
                )
    dims = config["paths"]["traverse_axis"]["dims"]
    smallest = min(run.dim for run in iter_runs(config))
    if dims and max(dims) >= smallest:
        raise LatentwalkError(
            f"config key paths.traverse_axis.dims: dim {max(dims)} does not exist in a run with "
            f"latent dim {smallest} (dims count from 0)"
        )
    for run in iter_runs(config):
        if not applicable_methods(run, config["paths"]):
            needs = "; ".join(f"{m}: {why_not(m, run, config['paths'])}" for m in config["paths"]["methods"])
            raise LatentwalkError(f"config key paths.methods: no configured method applies to run {run.name} ({needs})")
    if "attribute" in config["paths"]["methods"]:  # each pair walks the datasets with both its classes; a pair that
        # no built-in one has is a mistake, while a source without any pair's classes only goes without (why_not)
        labelled = {name: ds.classes for name, ds in datasets_of(config).items() if ds.label_kind == "class" and name in DATASETS}
        for k, pair in enumerate(config["paths"]["attribute"]["class_pairs"]):
            if labelled and not any(set(pair) <= set(classes) for classes in labelled.values()):
                have = "; ".join(f"{name!r}: labels {classes[0]}..{classes[-1]}" for name, classes in labelled.items())
                unknown = [c for c in pair if not any(c in classes for classes in labelled.values())]
                what = f"class {unknown[0]} is not a label of" if unknown else f"classes {pair[0]} and {pair[1]} are not labels of"
                raise LatentwalkError(f"config key paths.attribute.class_pairs[{k}]: {what} any class-labelled dataset ({have})")
    for name in config["paths"]["methods"]:  # a method that is another's settings under a fixed metric
        method = METHODS[name]
        if method.metric and config["paths"][method.section].get("metric") == method.metric:
            raise LatentwalkError(f"config key paths.methods: {name} is the {method.section} under the {method.metric} "
                                  f"metric, and paths.{method.section}.metric is {method.metric} too: list {name} with "
                                  f"another metric")
    nodes = config["paths"]["geodesic"]["nodes"]
    if any(b <= a for a, b in zip(nodes, nodes[1:])):
        raise LatentwalkError(f"config key paths.geodesic.nodes: node counts must increase (coarse to fine), got {nodes}")
    if config["device"] == "cuda" and check_device:
        _check_cuda()
    for name in config["datasets"]:
        side = DATASETS[name].side if name in DATASETS else None
        side = side or (config["data"]["sources"].get(name) or config["data"][name])["size"]
        arch = architecture_of(config, name)
        key = "model.architecture_per_dataset." + name if name in config["model"]["architecture_per_dataset"] else "model.architecture"
        if arch == "conv" and side % 4:
            raise LatentwalkError(f"config key {key}: 'conv' needs image sides divisible by 4; dataset {name!r} has {side}")
        if arch == "acai_conv":
            _check_acai_conv(config, [(side, name)], config["latent_dims"], key)
    bench = config["acai_benchmark"]
    if bench["architecture"] == "acai_conv":  # the benchmark's lines are 32 x 32, as the paper's
        _check_acai_conv(config, [(32, "lines")], [bench["latent_dim"]], "acai_benchmark.architecture")
    if bench["samples"] != "paper" and bench["samples"] < bench["batch_size"]:
        raise LatentwalkError(f"config key acai_benchmark.samples: {bench['samples']} is less than one batch "
                              f"(acai_benchmark.batch_size {bench['batch_size']})")


def _check_acai_conv(config: Mapping[str, Any], sides: list[tuple[int, str]], dims: list[int], key: str) -> None:
    """acai_conv needs sides = latent_width x a power of 2 and latent dims that are multiples of latent_width^2."""
    width = config["model"]["latent_width"]
    for side, name in sides:
        ratio = side // width
        if side % width or ratio < 2 or ratio & (ratio - 1):
            raise LatentwalkError(f"config key {key}: 'acai_conv' needs image sides of model.latent_width ({width}) "
                                  f"times a power of 2; dataset {name!r} has {side}")
    for dim in dims:
        if dim % (width * width):
            raise LatentwalkError(f"config key {key}: 'acai_conv' needs latent dims that are multiples of "
                                  f"model.latent_width^2 = {width * width}; got {dim}")


def _check_cuda() -> None:
    """``device: cuda`` needs a CUDA device visible to torch (checked before any job; a cluster profile skips this)."""
    import torch

    if not torch.cuda.is_available():
        build = torch.version.cuda or "none (CPU build)"
        raise LatentwalkError(
            f"config key device: 'cuda' but torch {torch.__version__} sees no CUDA device (CUDA build: {build}); "
            "use 'auto' or 'cpu'"
        )


def architecture_of(config: Mapping[str, Any], dataset: str) -> str:
    """The network layout of ``dataset``'s runs: its ``model.architecture_per_dataset`` entry, else ``model.architecture``."""
    model = config["model"]
    return str((model.get("architecture_per_dataset") or {}).get(dataset, model["architecture"]))


def betas(config: Mapping[str, Any]) -> list[float]:
    """The KL weights of the swept model kinds (``model.beta``: one number or a list), in config order."""
    beta = config["model"]["beta"]
    return [float(b) for b in beta] if isinstance(beta, list) else [float(beta)]


def source_classes(settings: Mapping[str, Any]) -> tuple[int, ...]:
    """A source's class labels (none: unlabelled): one per class subfolder of an image folder, in sorted order, or the
    distinct ``labels`` of an ``.npz``."""
    path = Path(settings["path"])
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return tuple(int(v) for v in np.unique(data["labels"])) if "labels" in data.files else ()
        except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
            return ()  # unreadable: preparing it names the file
    if not path.is_dir():
        return ()
    return tuple(range(sum(entry.is_dir() and not entry.name.startswith(".") for entry in os.scandir(path))))


def analysed_datasets(config: Mapping[str, Any]) -> list[str]:
    """The datasets with runs: those listed (trained on), then those only external models are analysed on."""
    return list(dict.fromkeys([*config["datasets"], *(m["dataset"] for m in config["external_models"].values())]))


def datasets_of(config: Mapping[str, Any]) -> dict[str, Dataset]:
    """Every dataset with runs (:func:`analysed_datasets`), built in or a source (its label kind and scorer from its
    files)."""
    sources = config["data"]["sources"]
    return {name: DATASETS[name] if name in DATASETS else
            source_dataset(name, source_classes(sources[name]), int(sources[name]["size"]))
            for name in analysed_datasets(config)}


def iter_runs(config: Mapping[str, Any]) -> Iterator[Run]:
    """Every run of the experiment, in a stable order: dataset, model (and beta, for swept kinds), latent dim; then
    the external models (config ``external_models``), in config order."""
    info = datasets_of(config)
    for dataset in config["datasets"]:
        for kind in config["models"]:
            for beta in betas(config) if kind in SWEPT_KINDS else [None]:
                for dim in config["latent_dims"]:
                    yield Run(dataset, model_name(kind, beta), int(dim), info[dataset].label_kind, info[dataset].classes)
    for name, model in config["external_models"].items():
        ds = info[model["dataset"]]
        yield Run(model["dataset"], name, int(model["latent_dim"]), ds.label_kind, ds.classes)
