"""The domain's names, in one place: datasets, model kinds, path methods and their families, figures.

Every other module, the Snakemake rules (wildcard constraints) and the tests
import these names from here; the config schema's enums are checked against
them by a test. Nothing here imports anything heavy.

A *run* is ``{dataset}/{model}-z{dim}``. Whether a path method applies to a
run is decided by data (:class:`Method`), not by branches spread over modules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Dataset", "DATASETS", "CLASS_DATASETS", "LINE_RENDERERS", "VIEW_OBJECTS", "VIEW_DATASETS", "BASELINES",
    "VIEW_FIGURES", "ARCHITECTURES", "BENCHMARK_MODELS", "ModelKind", "MODELS", "SWEPT_KINDS", "BETA_PATTERN",
    "beta_token", "model_name", "parse_model", "EXTERNAL_KIND", "EXTERNAL_NAME", "is_external", "Method", "METHODS",
    "PAIR_INTERPOLATIONS", "GEODESICS", "PRIOR_WALK", "PRIOR_VARIANTS", "CLOSED_FORM_INTERPOLATIONS", "TRAVERSALS",
    "COMPARED", "SCORERS", "QUALITY_COLUMNS", "WALK_FIGURES", "RUN_FIGURES", "WALK_REPORT", "MAP_WALKS",
    "GEOMETRY_REPORT", "geometry_report", "WILDCARD_CONSTRAINTS", "PROJECTIONS", "EXPLORER_OVERLAYS", "Run",
    "source_dataset", "applicable_methods", "class_pairs", "why_not", "dropped_methods", "walk_figures"]


# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class Dataset:
    """A dataset the pipeline can build.

    ``label_kind`` is ``class`` (labels are class ids), ``angle`` (the true line
    angle in radians) or ``object`` (labels are object ids; each image also
    carries the azimuth and elevation it was rendered from); ``scorer`` names how
    decoded frames of its runs are scored (a key of :data:`SCORERS`).
    """

    name: str
    label_kind: str
    scorer: str
    side: int | None  # image side in pixels; None: set by the config (data.<name>.size)
    classes: tuple[int, ...] = ()  # the class labels of class-labelled data


DATASETS: dict[str, Dataset] = {
    "digits": Dataset("digits", "class", "classifier", 8, tuple(range(10))),
    "lines": Dataset("lines", "angle", "lines", None),
    "mnist": Dataset("mnist", "class", "classifier", 28, tuple(range(10))),
    "views": Dataset("views", "object", "views", None),
}
#: Datasets of rendered object views (their runs get the viewpoint figures, rule plot_views).
VIEW_DATASETS: tuple[str, ...] = tuple(name for name, ds in DATASETS.items() if ds.scorer == "views")
#: The 3-D objects the ``views`` dataset renders (``data.views.objects``; label = position in this tuple).
VIEW_OBJECTS: tuple[str, ...] = ("chair", "lblock", "mug", "house")
#: Datasets whose labels are classes (attribute walks and the frame classifier need classes).
CLASS_DATASETS: tuple[str, ...] = tuple(name for name, ds in DATASETS.items() if ds.label_kind == "class")
#: How ``lines`` images are drawn (``data.lines.renderer``): ``acai``, the published benchmark's scanline renderer
#: (Berthelot et al. 2018), so that Mean Distance and Smoothness compare with the paper; ``coverage``, exact area
#: coverage of the length x width rectangle by supersampling (every angle equally thick).
LINE_RENDERERS: tuple[str, ...] = ("acai", "coverage")
#: Network layouts (``model.architecture``): fully connected; two strided convolutions and a dense layer; the
#: ACAI paper's all-convolutional layout (3x3 convolutions per scale, average pooling, a latent feature map).
ARCHITECTURES: tuple[str, ...] = ("mlp", "conv", "acai_conv")
#: How decoded frames are scored: ``lines`` against the true lines, ``classifier`` by a classifier and nearest images,
#: ``views`` against dense renders of every object (distance, recovered azimuth, identity), ``realism`` by the
#: distance to the nearest held-out image (unlabelled data of your own).
SCORERS: tuple[str, ...] = ("lines", "classifier", "views", "realism")
#: The per-frame quality scores compared across runs, by the dataset's scorer (the first is the headline one).
QUALITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "lines": ("mean_distance", "smoothness"),
    "classifier": ("confidence", "nn_distance"),
    "views": ("mean_distance", "smoothness", "identity_drift"),
    "realism": ("nn_distance",),
}


def source_dataset(name: str, classes: tuple[int, ...], side: int) -> Dataset:
    """A dataset of your own (config ``data.sources``) with its class labels: class-labelled ones are scored like
    digits (a classifier), unlabelled ones (no ``classes``) by their realism (``label_kind`` ``none``)."""
    if name in DATASETS:
        raise ValueError(f"{name!r} is a built-in dataset")
    labelled = bool(classes)
    return Dataset(name, "class" if labelled else "none", "classifier" if labelled else "realism", side, tuple(classes))


# --------------------------------------------------------------------------- model kinds


@dataclass(frozen=True)
class ModelKind:
    """A model kind: whether it is variational (has a prior to walk), its fixed KL weight (None: config
    ``model.beta``), whether a critic trains against it (ACAI: ``model.acai``) and how training corrupts what the
    encoder sees or emits (``dropout`` on the latent code: ``model.dropout``; ``noise`` on the input image:
    ``model.denoising_sigma``); models are always encoded and decoded clean."""

    name: str
    variational: bool
    kl_weight: float | None
    adversarial: bool = False
    corruption: str | None = None


MODELS: dict[str, ModelKind] = {
    "ae": ModelKind("ae", False, 0.0),
    "vae": ModelKind("vae", True, 1.0),
    "beta_vae": ModelKind("beta_vae", True, None),
    # the adversarially constrained autoencoder (Berthelot, Raffel, Roy and Goodfellow, 2018)
    "acai": ModelKind("acai", False, 0.0, adversarial=True),
    # the two regularised autoencoders of the ACAI paper's Table 1: dropout on the latent code, noise on the input
    "dropout_ae": ModelKind("dropout_ae", False, 0.0, corruption="dropout"),
    "denoising_ae": ModelKind("denoising_ae", False, 0.0, corruption="noise"),
}
#: Model kinds whose KL weight is a config value (``model.beta``, one number or a list to sweep).
SWEPT_KINDS: tuple[str, ...] = tuple(name for name, kind in MODELS.items() if kind.kl_weight is None)
#: How a KL weight is written in a run's model name (``beta_vae-b4``, ``beta_vae-b0.5``, ``beta_vae-b1e-05``).
BETA_PATTERN = r"[0-9]+(?:\.[0-9]+)?(?:e[-+][0-9]+)?"


def beta_token(beta: float) -> str:
    """The shortest text that reads back as ``beta`` (Python's float repr without a trailing ``.0``): 4 -> '4'."""
    text = repr(float(beta))
    return text[:-2] if text.endswith(".0") else text


def model_name(kind: str, beta: float | None = None) -> str:
    """A run's model name: the kind, with ``-b{beta}`` for kinds whose KL weight is swept (so betas never collide)."""
    if kind not in MODELS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODELS)}")
    if kind not in SWEPT_KINDS:
        return kind
    if beta is None or not float(beta) > 0:
        raise ValueError(f"model kind {kind!r} needs a positive KL weight beta, got {beta!r}")
    return f"{kind}-b{beta_token(beta)}"


def parse_model(name: str) -> tuple[str, float]:
    """A run's model name -> (model kind, KL weight): 'vae' -> ('vae', 1.0), 'beta_vae-b4' -> ('beta_vae', 4.0)."""
    kind, sep, token = name.partition("-b")
    canonical = not sep or (re.fullmatch(BETA_PATTERN, token) and beta_token(float(token)) == token)
    if kind in MODELS and (kind in SWEPT_KINDS) == bool(sep) and canonical:
        fixed = MODELS[kind].kl_weight
        return kind, float(token) if fixed is None else fixed
    swept = ", ".join(f"{k}-b<beta>" for k in SWEPT_KINDS)
    raise ValueError(f"model name {name!r} is not one of {', '.join(k for k in MODELS if k not in SWEPT_KINDS)}, {swept}")


#: The kind of a model trained elsewhere (config ``external_models``): analysed, never trained here.
EXTERNAL_KIND = "external"
#: An external model's name: a letter, then letters, digits and underscores (no hyphen, so that it never reads as a
#: swept kind's ``-b{beta}``), and not a model kind's name.
EXTERNAL_NAME = r"[A-Za-z][A-Za-z0-9_]*"


def is_external(name: str) -> bool:
    """Whether ``name`` names an external model: of :data:`EXTERNAL_NAME`'s form and not a model kind."""
    return bool(re.fullmatch(EXTERNAL_NAME, name)) and name not in MODELS


# --------------------------------------------------------------------------- path methods


@dataclass(frozen=True)
class Method:
    """A path method and the runs it applies to.

    ``family``: ``interpolation`` (between encoded test pairs, sharing endpoints),
    ``prior`` (between prior samples), ``traversal`` (one direction at a time from a
    start, or a walk on the prior's sphere), or ``survey`` (covers a region of the
    latent space). A method needs at least ``min_dim`` latent dims, exactly
    ``exact_dim`` if set, a variational model if ``variational``, and class labels
    if ``classes``. It takes its settings from config ``paths.<section>`` (its own name unless ``settings`` names
    another method's), with ``metric`` in place of the section's where set; ``default``: in ``paths.methods``' default.
    """

    name: str
    family: str
    min_dim: int = 1
    exact_dim: int | None = None
    variational: bool = False
    classes: bool = False
    needs_decoder: bool = False
    settings: str = ""
    metric: str | None = None
    default: bool = True

    @property
    def section(self) -> str:
        """The config section ``paths.<section>`` this method's settings come from."""
        return self.settings or self.name

    def config(self, paths: Mapping[str, Any]) -> dict[str, Any]:
        """This method's settings in the (validated) ``paths`` config section."""
        section = dict(paths[self.section])
        return {**section, "metric": self.metric} if self.metric else section


#: Every path method, in the schema's order.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("lerp", "interpolation"),
        Method("slerp", "interpolation", min_dim=2),
        Method("lerp_matched", "interpolation"),
        Method("prior_pairs", "prior", min_dim=2, variational=True),
        Method("traverse_axis", "traversal"),
        Method("traverse_pca", "traversal"),
        Method("attribute", "traversal", classes=True),
        Method("grid", "survey", min_dim=2),
        Method("spiral", "survey", exact_dim=2),
        Method("sphere_spiral", "traversal", min_dim=2, variational=True),
        Method("geodesic", "interpolation", needs_decoder=True),
        Method("geodesic_variance", "interpolation", needs_decoder=True, settings="geodesic", metric="variance",
               default=False),  # twice the decoder_paths jobs
    )
}
#: Interpolations between the same encoded test pairs, in the order figures and tables show them.
PAIR_INTERPOLATIONS: tuple[str, ...] = ("lerp", "slerp", "lerp_matched", "geodesic", "geodesic_variance")
#: Decoder geodesics: ``geodesic`` under the metric ``paths.geodesic.metric`` names, ``geodesic_variance`` with the
#: same settings under the variance-aware metric (both in one run compare the two metrics on the same pairs).
GEODESICS: tuple[str, ...] = ("geodesic", "geodesic_variance")
#: The method that walks between prior samples; its rows carry a ``variant`` (one of :data:`PRIOR_VARIANTS`).
PRIOR_WALK = "prior_pairs"
#: Interpolations with a closed form (no decoder needed).
CLOSED_FORM_INTERPOLATIONS: tuple[str, ...] = ("lerp", "slerp", "lerp_matched")
#: The interpolations a prior-pair walk can use (config ``paths.prior_pairs.variants``).
PRIOR_VARIANTS: tuple[str, ...] = CLOSED_FORM_INTERPOLATIONS
#: One-direction-at-a-time walks, each drawn as its own figure of decoded rows.
TRAVERSALS: tuple[str, ...] = tuple(name for name, m in METHODS.items() if m.family == "traversal")
#: Walks scored like paths that are not paths in latent space (views data): pixel cross-fades between the endpoints
#: of the pair interpolations, of the true images (``crossfade``) and of the run's decoded endpoints
#: (``crossfade_decoded``, equally blurred): the baselines a model's interpolation has to beat.
BASELINES: tuple[str, ...] = ("crossfade", "crossfade_decoded")
#: The methods compared across runs in the summary table (and the baselines, where a run's scorer has them).
COMPARED: tuple[str, ...] = (*PAIR_INTERPOLATIONS, PRIOR_WALK)

assert set(CLOSED_FORM_INTERPOLATIONS) < set(PAIR_INTERPOLATIONS)
assert set(PAIR_INTERPOLATIONS) == {n for n, m in METHODS.items() if m.family == "interpolation"}


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True, order=True)
class Run:
    """One model: ``{dataset}/{model}-z{dim}``, where ``model`` is the model name (:func:`model_name`) or an external
    model's name (:func:`is_external`: trained elsewhere, config ``external_models``).

    ``label_kind`` is the dataset's (looked up for a built-in one; a source's comes from the config, see
    :func:`latentwalk.core.config.datasets_of`); it is not part of the run's identity."""

    dataset: str
    model: str
    dim: int
    label_kind: str = field(default="", compare=False)
    classes: tuple[int, ...] = field(default=(), compare=False)  # the dataset's class labels

    def __post_init__(self) -> None:
        if not is_external(self.model):
            parse_model(self.model)  # a name that does not parse is an error here, not a KeyError later
        if not self.label_kind and self.dataset in DATASETS:
            object.__setattr__(self, "label_kind", DATASETS[self.dataset].label_kind)
            object.__setattr__(self, "classes", DATASETS[self.dataset].classes)

    @classmethod
    def parse(cls, name: str) -> Run:
        """'digits/beta_vae-b4-z16' -> Run('digits', 'beta_vae-b4', 16)."""
        match = re.fullmatch(r"([^/]+)/(.+)-z([1-9][0-9]*)", name)
        if not match:
            raise ValueError(f"run name {name!r} is not of the form <dataset>/<model>-z<dim>")
        return cls(match.group(1), match.group(2), int(match.group(3)))

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.model}-z{self.dim}"

    @property
    def external(self) -> bool:
        """Whether the run's model was trained elsewhere (its latents are the encoder's means; no prior is known)."""
        return is_external(self.model)

    @property
    def kind(self) -> str:
        """The model kind (a key of :data:`MODELS`, or :data:`EXTERNAL_KIND`)."""
        return EXTERNAL_KIND if self.external else parse_model(self.model)[0]

    @property
    def kl_weight(self) -> float:
        """The KL weight the run trains with: 0 (ae), 1 (vae) or the beta in its name; NaN for an external model."""
        return float("nan") if self.external else parse_model(self.model)[1]

    @property
    def variational(self) -> bool:
        return not self.external and MODELS[self.kind].variational

    @property
    def columns(self) -> dict[str, str | float | int]:
        """The columns that name the run in cross-run tables: dataset, model name, kind, KL weight, latent dim."""
        return {"dataset": self.dataset, "model": self.model, "kind": self.kind, "kl_weight": self.kl_weight, "dim": self.dim}


def why_not(method: str, run: Run, paths: Mapping[str, Any]) -> str | None:
    """Why path ``method`` does not apply to ``run`` (None: it applies); ``paths`` = config['paths'] (the grid's coordinates)."""
    m = METHODS[method]
    exact = m.exact_dim
    if method == "grid" and paths["grid"]["coordinates"] == "latent":
        exact = 2  # a grid in latent coordinates needs a 2-D latent plane
    if run.dim < m.min_dim:
        return f"needs d >= {m.min_dim}"
    if exact is not None and run.dim != exact:
        return f"needs d = {exact}"
    if m.variational and run.external:
        return "needs the model's prior, which an external model does not declare"
    if m.variational and not run.variational:
        return "needs a variational model, whose prior it walks"
    if m.classes and run.label_kind != "class":
        return f"needs class labels; {run.dataset} is labelled by {run.label_kind}"
    if method == "attribute" and run.classes and not class_pairs(run, paths):
        return f"none of paths.attribute.class_pairs is two of its classes ({run.classes[0]}..{run.classes[-1]})"
    return None


def class_pairs(run: Run, paths: Mapping[str, Any]) -> list[list[int]]:
    """The attribute walks' class pairs (``paths.attribute.class_pairs``) that are two of the run's classes."""
    return [list(pair) for pair in paths["attribute"]["class_pairs"] if set(pair) <= set(run.classes)]


def method_applies(method: str, run: Run, paths: Mapping[str, Any]) -> bool:
    """Whether path ``method`` makes sense for ``run`` (see :func:`why_not`)."""
    return why_not(method, run, paths) is None


def dropped_methods(runs: list[Run], paths: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(run, method, reason) for every configured method that does not apply to a run, in config order."""
    return [(run.name, m, reason) for run in runs for m in paths["methods"] if (reason := why_not(m, run, paths))]


def applicable_methods(run: Run, paths: Mapping[str, Any]) -> list[str]:
    """The configured path methods (``paths['methods']``) that apply to ``run``, in config order."""
    return [method for method in paths["methods"] if method_applies(method, run, paths)]


# --------------------------------------------------------------------------- figures

#: Figures of decoded walks, each drawn when the run has any of its methods; file name -> methods.
#: The set depends on the run, so a run's walk figures are one directory output (see README).
WALK_FIGURES: dict[str, tuple[str, ...]] = {
    "grid": ("grid",),
    "interpolation_strips": PAIR_INTERPOLATIONS,
    "prior_pair_strips": (PRIOR_WALK,),
    **{name: (name,) for name in TRAVERSALS},
    "spiral": ("spiral",),
    "magnification": GEODESICS,  # the map rule decoder_paths computes beside the geodesics
}
#: The walks the magnification map draws on the plane (straight lines and geodesics between the same pairs).
MAP_WALKS: tuple[str, ...] = ("lerp", *GEODESICS)
#: Figures every run has (measurements, not decoded walks): fixed outputs, one report entry and caption each.
RUN_FIGURES: tuple[str, ...] = ("training_curves", "latent_scatter", "path_norms", "path_quality")
#: Figures of runs whose scorer is ``views`` (rule plot_views): decoded frames above the true renders, the azimuth
#: recovered along each same-object path, and the latents coloured by azimuth per object.
VIEW_FIGURES: tuple[str, ...] = ("view_strips", "view_azimuths", "view_scatter")


#: Every file a run's walk figures directory can hold that the report shows: file -> (report category, label).
#: The caption of each is its block in workflow/report/walk_figures.rst (a test checks that both match).
WALK_REPORT: dict[str, tuple[str, str]] = {
    "grid.png": ("Latent space", "decoded grid"),
    "spiral.png": ("Latent space", "spiral walk"),
    "spiral.gif": ("Latent space", "spiral walk (animation)"),
    "interpolation_strips.png": ("Interpolation", "interpolation strips"),
    "prior_pair_strips.png": ("Interpolation", "prior-pair strips"),
    "traverse_axis.png": ("Traversal", "axis traversal"),
    "traverse_pca.png": ("Traversal", "PCA traversal"),
    "attribute.png": ("Traversal", "attribute walk"),
    "sphere_spiral.png": ("Traversal", "sphere-spiral walk"),
    "magnification.png": ("Interpolation", "magnification map"),
}


#: The geometry figures (one job, one directory results/figures/geometry): figure -> (report category, subcategory,
#: label). ``unit_sphere_spiral`` stands for every ``unit_sphere_spiral_n{n}`` (one per ``figures.sphere.dims``).
#: The caption of each is its block in workflow/report/geometry_figures.rst (a test checks that both match).
GEOMETRY_REPORT: dict[str, tuple[str, str, str]] = {
    "hypersphere": ("Hypersphere geometry", "volume and surface", "unit-ball volume and sphere surface"),
    "unit_sphere_spiral": ("Hypersphere geometry", "spiral on the unit sphere", "unit-sphere spiral"),
    "norm_histograms": ("Norm concentration", "Gaussian samples", "norm histograms"),
    "shell_width": ("Norm concentration", "Gaussian samples", "shell width"),
}


def geometry_report(figure: str) -> tuple[str, str, dict[str, str]]:
    """A geometry figure's report category, subcategory and labels, by file stem (e.g. ``unit_sphere_spiral_n4``)."""
    stem, _, n = figure.partition("_n") if figure.startswith("unit_sphere_spiral_n") else (figure, "", "")
    category, subcategory, label = GEOMETRY_REPORT[stem]
    return category, subcategory, {"figure": label, **({"n": n} if n else {})}


def walk_figures(methods: list[str] | tuple[str, ...]) -> list[str]:
    """The walk figures a run with path ``methods`` gets, in :data:`WALK_FIGURES` order."""
    return [name for name, needs in WALK_FIGURES.items() if set(needs) & set(methods)]


# --------------------------------------------------------------------------- projections and the explorer

#: How latents with d > 2 are laid out in the plane (the scatter figure, the explorer): principal components,
#: t-SNE (scikit-learn), UMAP (umap-learn). 2-D latents are always shown as they are.
PROJECTIONS: tuple[str, ...] = ("pca", "tsne", "umap")
#: Path methods the explorer can draw over its scatter (those the run has and the config lists).
EXPLORER_OVERLAYS: tuple[str, ...] = (*PAIR_INTERPOLATIONS, PRIOR_WALK, *TRAVERSALS, "spiral")


# --------------------------------------------------------------------------- wildcards

#: Snakemake wildcard constraints, in one place (the Snakefile passes them on).
WILDCARD_CONSTRAINTS: dict[str, str] = {
    "dataset": "|".join(DATASETS),
    "model": "|".join(f"{name}-b{BETA_PATTERN}" if name in SWEPT_KINDS else name for name in MODELS),  # trained here
    "dim": r"[1-9][0-9]*",
    "n": r"[1-9][0-9]*",
    "file": r"[A-Za-z0-9._-]+",
    "seed": r"[0-9]+",
}
#: Model kinds the published line benchmark (``acai_benchmark``) compares, in its Table 1's order (Baseline, Dropout,
#: Denoising, VAE, ACAI): those with a fixed KL weight.
BENCHMARK_MODELS: tuple[str, ...] = tuple(
    name for name in ("ae", "dropout_ae", "denoising_ae", "vae", "acai") if name in MODELS and name not in SWEPT_KINDS
)
