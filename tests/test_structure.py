"""The shape of the workflow, checked: one registry of names, thin scripts named after their rules, each calling one
function of one subpackage, per-method behaviour in mappings keyed by the registry, captions mapped explicitly, the
package's shape (no module name twice, short modules, short signatures, imports at the top), and every rule's
package sources (its rerun triggers) equal to the modules its job really imports.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from latentwalk.core import registry as R
from latentwalk.core.sources import script_sources
from latentwalk.figures.walk_figures import TRAVERSAL_ROWS, WALK_DRAWERS
from latentwalk.measure.path_stats import SCORERS
from latentwalk.walks.generate import PATH_METHODS
from latentwalk.walks.geodesic import DECODER_METHODS

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "workflow" / "latentwalk"
SCRIPTS = REPO / "workflow" / "scripts"
RULES = REPO / "workflow" / "rules"
REPORT = REPO / "workflow" / "report"
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())


#: Rules that only name targets (no script, no log, no sources): the default target and the benchmark's.
TARGET_RULES = {"all", "acai_benchmark"}


# --------------------------------------------------------------------------- one registry


def test_schema_enums_are_the_registry() -> None:
    props = SCHEMA["properties"]
    assert set(props["datasets"]["default"]) <= set(R.DATASETS)
    assert all(name in props["datasets"]["description"] for name in R.DATASETS)  # the built-ins, named
    assert props["models"]["items"]["enum"] == list(R.MODELS)
    paths = props["paths"]["properties"]
    assert paths["methods"]["items"]["enum"] == list(R.METHODS)
    assert paths["methods"]["default"] == [name for name, m in R.METHODS.items() if m.default]
    assert paths["prior_pairs"]["properties"]["variants"]["items"]["enum"] == list(R.PRIOR_VARIANTS)
    assert set(props["model"]["properties"]["likelihood"]["properties"]) == set(R.DATASETS)
    assert set(props["train"]["properties"]["epochs"]["properties"]) == set(R.DATASETS)
    for method in R.METHODS.values():  # every method has its settings section (the variance geodesic: the geodesic's)
        assert method.section in paths, method.name
        assert not method.metric or method.metric in paths[method.section]["properties"]["metric"]["enum"], method.name
    assert props["data"]["properties"]["lines"]["properties"]["renderer"]["enum"] == list(R.LINE_RENDERERS)
    assert props["model"]["properties"]["architecture"]["enum"] == list(R.ARCHITECTURES)
    assert props["acai_benchmark"]["properties"]["architecture"]["enum"] == list(R.ARCHITECTURES)
    assert props["acai_benchmark"]["properties"]["models"]["items"]["enum"] == list(R.BENCHMARK_MODELS)
    explorer = props["explorer"]["properties"]
    assert explorer["projection"]["enum"] == list(R.PROJECTIONS) == props["figures"]["properties"]["scatter_projection"]["enum"]
    assert set(explorer["overlays"]["items"]["enum"]) == set(R.EXPLORER_OVERLAYS) and set(R.EXPLORER_OVERLAYS) <= set(R.METHODS)


def test_wildcard_constraints_come_from_the_registry() -> None:
    text = (REPO / "Snakefile").read_text()
    assert "**CONSTRAINTS" in text and "**WILDCARD_CONSTRAINTS" in (REPO / "workflow/rules/common.smk").read_text()
    assert set(R.WILDCARD_CONSTRAINTS["dataset"].split("|")) == set(R.DATASETS)
    model = re.compile(R.WILDCARD_CONSTRAINTS["model"])
    assert {name.split("-b")[0] for name in R.WILDCARD_CONSTRAINTS["model"].split("|")} == set(R.MODELS)
    fixed = [name for name in R.MODELS if name not in R.SWEPT_KINDS]
    assert all(model.fullmatch(name) for name in fixed)
    assert all(model.fullmatch(R.model_name(kind, 4.0)) and not model.fullmatch(kind) for kind in R.SWEPT_KINDS)


def test_per_method_mappings_are_keyed_by_the_registry() -> None:
    assert [m for m in R.METHODS if m in PATH_METHODS or m in DECODER_METHODS] == list(R.METHODS)
    assert set(DECODER_METHODS) == {name for name, m in R.METHODS.items() if m.needs_decoder}
    assert not set(PATH_METHODS) & set(DECODER_METHODS)
    assert set(TRAVERSAL_ROWS) == set(R.TRAVERSALS)
    assert list(WALK_DRAWERS) == list(R.WALK_FIGURES)
    assert set(SCORERS) == set(R.SCORERS) == {ds.scorer for ds in R.DATASETS.values()} | {"realism"}
    walk_files = {f"{name}.png" for name in R.WALK_FIGURES} | {"spiral.gif"}
    assert set(R.WALK_REPORT) == walk_files
    for needs in R.WALK_FIGURES.values():
        assert set(needs) <= set(R.METHODS)


def _method_literal_groups(tree: ast.AST) -> list[tuple[int, list[str]]]:
    """Tuples, lists and sets holding two or more method-name string literals."""
    names = set(R.METHODS)
    exports = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)}
    found = []
    for node in ast.walk(tree):
        if id(node) in exports:  # __all__ names functions, some of which are named after their method
            continue
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            strings = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            hits = [s for s in strings if s in names]
            if len(hits) >= 2:
                found.append((node.lineno, hits))
    return found


def test_no_tuple_of_method_names_outside_the_registry() -> None:
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *SCRIPTS.glob("*.py")]:
        if path.name == "registry.py":
            continue
        for line, hits in _method_literal_groups(ast.parse(path.read_text())):
            offenders.append(f"{path.relative_to(REPO)}:{line} {hits}")
    pattern = re.compile(r"\(\s*\"(%s)\"\s*,\s*\"(%s)\"" % ("|".join(R.METHODS), "|".join(R.METHODS)))
    for path in [*RULES.glob("*.smk"), REPO / "Snakefile"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}")
    assert offenders == []


# --------------------------------------------------------------------------- rules and scripts


def rule_blocks() -> dict[str, str]:
    """Rule name -> its text, from every .smk file and the Snakefile."""
    blocks: dict[str, str] = {}
    for path in [REPO / "Snakefile", *sorted(RULES.glob("*.smk"))]:
        parts = re.split(r"^rule (\w+):\n", path.read_text(), flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2]):
            blocks[name] = body.split("\n\n\n")[0]
    return blocks


def test_every_script_is_named_after_its_rule_and_thin() -> None:
    blocks = rule_blocks()
    scripted = {name for name, body in blocks.items() if "script:" in body}
    assert scripted == set(blocks) - TARGET_RULES
    for name in scripted:
        assert re.search(rf'script:\n\s+"\.\./scripts/{name}\.py"', blocks[name]), name
        assert "run:" not in blocks[name] and "log:" in blocks[name], name
    assert {p.stem for p in SCRIPTS.glob("*.py")} == scripted
    for path in SCRIPTS.glob("*.py"):
        text = path.read_text()
        assert "snakemake.rule" not in text and "sm.rule" not in text, path.name
        assert len(text.strip().splitlines()) <= 25, path.name
        calls = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ImportFrom) and n.module and
                 n.module.startswith("latentwalk") and n.module != "latentwalk.core.logs"]
        assert len(calls) == 1 and len(calls[0].names) == 1, (path.name, "must call one package function")
        assert calls[0].module.count(".") == 2, (path.name, "a function of a module of one subpackage")


def test_no_package_module_over_450_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}


def test_the_tree_reads_as_the_pipeline_and_no_module_name_is_used_twice() -> None:
    """Domain subpackages, no stages layer, and every module and subpackage name in one place only."""
    subpackages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert subpackages == ["core", "data", "figures", "measure", "model", "report", "walks"]
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py"]
    names = [p.stem for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"] + subpackages
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def _functions(path: Path) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_no_function_takes_more_than_eight_parameters() -> None:
    wide = {}
    for path in PACKAGE.rglob("*.py"):
        for node in _functions(path):
            args = node.args
            names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)] + \
                [a.arg for a in (args.vararg, args.kwarg) if a is not None]
            names = [n for n in names if n not in ("self", "cls")]
            if len(names) > 8:
                wide[f"{path.relative_to(PACKAGE)}:{node.name}"] = len(names)
    assert wide == {}


def test_package_modules_import_the_package_at_their_top() -> None:
    """Every import of the package sits at a module's top, so what a module's import loads is what its functions
    use, and the derived rule sources (latentwalk.core.sources) see every dependency."""
    inside = []
    for path in PACKAGE.rglob("*.py"):
        for node in _functions(path):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and (sub.level or (sub.module or "").startswith("latentwalk")):
                    inside.append(f"{path.relative_to(PACKAGE)}:{sub.lineno}")
                elif isinstance(sub, ast.Import) and any(a.name.startswith("latentwalk") for a in sub.names):
                    inside.append(f"{path.relative_to(PACKAGE)}:{sub.lineno}")
    assert inside == []


# --------------------------------------------------------------------------- captions


def test_every_caption_file_is_used_and_walk_captions_match_the_registry() -> None:
    sources = "\n".join(p.read_text() for p in [REPO / "Snakefile", *RULES.glob("*.smk")])
    used = set(re.findall(r'\.\./report/(\w+\.rst)', sources)) | {"workflow.rst"}
    used |= {f"{m}.rst" for m in re.findall(r'run_figure\(\s*"\w+",\s*"(\w+)\.rst"', sources)}
    assert {p.name for p in REPORT.glob("*.rst")} == used
    blocks = re.findall(r'{% (?:el)?if figure == "([\w.]+)" %}', (REPORT / "walk_figures.rst").read_text())
    assert sorted(blocks) == sorted(R.WALK_REPORT) and len(blocks) == len(set(blocks))
    blocks = re.findall(r'{% (?:el)?if figure == "(\w+)"', (REPORT / "geometry_figures.rst").read_text())
    assert sorted(blocks) == sorted(R.GEOMETRY_REPORT) and len(blocks) == len(set(blocks))


# --------------------------------------------------------------------------- exact reruns

#: Rules whose jobs run a model: the only ones that may import torch.
TORCH_RULES = {"train", "import_model", "encode", "decoder_paths", "decode", "project", "acai_protocol", "acai_table"}


def _job_imports(rule: str) -> tuple[list[str], bool]:
    """What rule ``rule``'s job imports, measured: its script's imports run in a fresh interpreter, which then lists
    the package modules it loaded (as files of this checkout) and whether torch came with them."""
    tree = ast.parse((SCRIPTS / f"{rule}.py").read_text())
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, ast.ImportFrom | ast.Import)]
    code = "\n".join([*imports, "import sys, json",
                      "files = sorted({m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'latentwalk'})",
                      "print(json.dumps([files, 'torch' in sys.modules]))"])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO / "workflow")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    files, torch_loaded = json.loads(proc.stdout)
    return sorted(os.path.relpath(f, REPO) for f in files), torch_loaded


def _scripted_rules() -> list[str]:
    return sorted(p.stem for p in SCRIPTS.glob("*.py"))


@pytest.fixture(scope="module")
def job_imports() -> dict[str, tuple[list[str], bool]]:
    """Every rule's measured job imports, two interpreters at a time."""
    from concurrent.futures import ThreadPoolExecutor

    rules = _scripted_rules()
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(rules, pool.map(_job_imports, rules)))


def test_every_rule_lists_exactly_the_package_sources_its_job_imports(job_imports: dict[str, tuple[list[str], bool]]) -> None:
    """Editing a package file reruns exactly the jobs that import it: each rule's derived sources (its `src` input,
    latentwalk.core.sources) are the package files its job really loads."""
    blocks = rule_blocks()
    for rule in _scripted_rules():
        assert f'src=sources("{rule}")' in blocks[rule], rule
    derived = {rule: script_sources(SCRIPTS / f"{rule}.py", REPO / "workflow", start=REPO) for rule in job_imports}
    assert derived == {rule: files for rule, (files, _) in job_imports.items()}


def test_only_the_jobs_that_run_a_model_import_torch(job_imports: dict[str, tuple[list[str], bool]]) -> None:
    assert {rule for rule, (_, torch_loaded) in job_imports.items() if torch_loaded} == TORCH_RULES


def test_common_smk_holds_validation_runs_targets_and_resources_only() -> None:
    """common.smk stays short; an input function or parameter lookup that one rule uses sits beside that rule."""
    common = (RULES / "common.smk").read_text()
    assert len(common.splitlines()) <= 200
    assert "\nrule " not in common


# --------------------------------------------------------------------------- list-rules


def _list_rules(workdir: Path, *config: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--list-rules", "--workflow-profile", "none", *config],
                          cwd=workdir, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.workflow
def test_list_rules_does_not_depend_on_the_config(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(REPO / "workflow", work / "workflow", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Snakefile", "config.yaml"):
        shutil.copy2(REPO / name, work / name)
    default = _list_rules(work)
    small = _list_rules(work, "--config", "datasets=[digits]", "latent_dims=[2]")
    other = _list_rules(work, "--config", "models=[ae]", "latent_dims=[3]", "paths={methods: [lerp]}")
    assert default == small == other
    assert set(default.split()) == set(rule_blocks())


def test_parsing_the_workflow_imports_no_torch() -> None:
    """Every Snakemake start (on a cluster, every job is one) parses the Snakefile and its rule files: the package
    modules they import must not load torch, about a second of every start."""
    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    modules = sorted({m for f in files for m in re.findall(r"^\s*(?:from|import) (latentwalk[\w.]*)", f.read_text(), re.M)})
    assert len(modules) > 5, modules
    code = "\n".join([*(f"import {m}" for m in modules), "import sys",
                       "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", (modules, out[:300])


# --------------------------------------------------------------------------- environments, lint, formatting

#: Pins of constraints.txt that only the tests need (not in the jobs' conda environment).
TEST_ONLY = {"pytest", "hypothesis", "iniconfig", "pluggy", "sortedcontainers", "snakefmt", "black", "click",
             "mypy_extensions", "pathspec", "pytokens", "shfmt-py"}


def _pins(lines: list[str]) -> dict[str, str]:
    return dict(line.strip().split("==") for line in lines if "==" in line and not line.strip().startswith("#"))


def test_conda_environment_pins_the_constraints() -> None:
    """The jobs' conda environment holds every runtime pin of constraints.txt, at the same version, and nothing else."""
    env = yaml.safe_load((REPO / "workflow" / "envs" / "latentwalk.yaml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    python = next(item for item in env["dependencies"] if isinstance(item, str) and item.startswith("python="))
    constraints = _pins((REPO / "constraints.txt").read_text().splitlines())
    assert _pins(pip) == {name: version for name, version in constraints.items() if name not in TEST_ONLY}
    assert set(TEST_ONLY) <= set(constraints)
    assert python == "python=3.11"


def test_every_rule_with_code_uses_the_conda_environment() -> None:
    blocks = rule_blocks()
    for name, body in blocks.items():
        if "script:" in body:
            assert re.search(r"conda:\n\s+CONDA_ENV\n", body), name
    assert not (SCRIPTS / "latentwalk").exists()  # jobs find the package on PYTHONPATH, set by the Snakefile


#: The one lint kept on purpose: each rule's input functions and parameter lookups sit beside the rule in its stage's
#: file (Snakemake's linter would collect them in one common file, far from the rules that use them).
DELIBERATE_LINT = "Mixed rules and functions in same snakefile."


@pytest.mark.workflow
def test_lint_finds_nothing_but_the_deliberate_one() -> None:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--workflow-profile", "none"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    text = proc.stdout + proc.stderr
    lints = re.findall(r"^\s+\* (.+?):?$", text, flags=re.M)
    assert lints and set(lints) == {DELIBERATE_LINT}, text[-3000:]
    linted = set(re.findall(r"^Lints for snakefile .*/(\w+\.smk):$", text, flags=re.M))
    assert linted == {p.name for p in RULES.glob("*.smk") if re.search(r"^def ", p.read_text(), flags=re.M) and
                      re.search(r"^rule ", p.read_text(), flags=re.M)}


def test_snakefmt_is_clean() -> None:
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    assert snakefmt, "snakefmt is a test dependency (pip install -e '.[test]')"
    proc = subprocess.run([snakefmt, "--check", "--compact-diff", "Snakefile", "workflow/rules"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
