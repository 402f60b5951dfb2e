"""The shape of the workflow, checked: one registry of names, thin scripts named after their rules,
per-method behaviour in mappings keyed by the registry, captions mapped explicitly, and every rule's
package sources (its rerun triggers) equal to the imports its code really makes.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from latentwalk.core import registry as R
from latentwalk.figures.walk_figures import TRAVERSAL_ROWS, WALK_DRAWERS
from latentwalk.measure.path_stats import SCORERS
from latentwalk.walks.generate import PATH_METHODS

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
    assert props["datasets"]["items"]["enum"] == list(R.DATASETS)
    assert props["models"]["items"]["enum"] == list(R.MODELS)
    paths = props["paths"]["properties"]
    assert paths["methods"]["items"]["enum"] == list(R.METHODS)
    assert paths["methods"]["default"] == list(R.METHODS)
    assert paths["prior_pairs"]["properties"]["variants"]["items"]["enum"] == list(R.PRIOR_VARIANTS)
    assert set(props["model"]["properties"]["likelihood"]["properties"]) == set(R.DATASETS)
    assert set(props["train"]["properties"]["epochs"]["properties"]) == set(R.DATASETS)
    for method in R.METHODS:  # every method has its settings section
        assert method in paths, method
    assert props["data"]["properties"]["lines"]["properties"]["renderer"]["enum"] == list(R.LINE_RENDERERS)
    assert props["model"]["properties"]["architecture"]["enum"] == list(R.ARCHITECTURES)
    assert props["acai_benchmark"]["properties"]["architecture"]["enum"] == list(R.ARCHITECTURES)
    assert props["acai_benchmark"]["properties"]["models"]["items"]["enum"] == list(R.BENCHMARK_MODELS)
    explorer = props["explorer"]["properties"]
    assert explorer["projection"]["enum"] == list(R.PROJECTIONS) == props["figures"]["properties"]["scatter_projection"]["enum"]
    assert set(explorer["overlays"]["items"]["enum"]) == set(R.EXPLORER_OVERLAYS) and set(R.EXPLORER_OVERLAYS) <= set(R.METHODS)


def test_wildcard_constraints_come_from_the_registry() -> None:
    text = (REPO / "Snakefile").read_text()
    assert "**WILDCARD_CONSTRAINTS" in text
    assert set(R.WILDCARD_CONSTRAINTS["dataset"].split("|")) == set(R.DATASETS)
    model = re.compile(R.WILDCARD_CONSTRAINTS["model"])
    assert {name.split("-b")[0] for name in R.WILDCARD_CONSTRAINTS["model"].split("|")} == set(R.MODELS)
    fixed = [name for name in R.MODELS if name not in R.SWEPT_KINDS]
    assert all(model.fullmatch(name) for name in fixed)
    assert all(model.fullmatch(R.model_name(kind, 4.0)) and not model.fullmatch(kind) for kind in R.SWEPT_KINDS)


def test_per_method_mappings_are_keyed_by_the_registry() -> None:
    assert list(PATH_METHODS) == list(R.METHODS)
    assert set(TRAVERSAL_ROWS) == set(R.TRAVERSALS)
    assert list(WALK_DRAWERS) == list(R.WALK_FIGURES)
    assert set(SCORERS) == set(R.SCORERS) == {ds.scorer for ds in R.DATASETS.values()}
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
                 n.module.startswith("latentwalk") and n.module != "latentwalk.logs"]
        assert len(calls) == 1 and len(calls[0].names) == 1, (path.name, "must call one package function")


def test_no_package_module_over_500_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


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


def _module_file(module: str) -> Path:
    """latentwalk.stages.paths -> workflow/latentwalk/stages/paths.py (or the package's __init__.py)."""
    rel = module.split(".")[1:]
    path = PACKAGE.joinpath(*rel)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _resolve(node: ast.ImportFrom | ast.Import, module: str) -> list[str]:
    """The latentwalk modules an import statement inside ``module`` loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("latentwalk")]
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level] if not _module_file(module).name == "__init__.py" else base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("latentwalk"):
        return []
    out = [target]
    for alias in node.names:  # `from .. import paths` imports a submodule
        candidate = f"{target}.{alias.name}"
        if (PACKAGE.joinpath(*candidate.split(".")[1:])).with_suffix(".py").exists():
            out.append(candidate)
    return out


def _with_parents(module: str) -> set[str]:
    """A module and the packages whose __init__ importing it runs."""
    parts = module.split(".")
    return {".".join(parts[:k]) for k in range(1, len(parts) + 1)}


def _imports_anywhere(module: str) -> set[str]:
    tree = ast.parse(_module_file(module).read_text())
    return {m for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) for m in _resolve(n, module)}


def _closure(modules: set[str]) -> set[str]:
    """Every latentwalk module loaded, transitively, by importing ``modules`` and calling anything in them."""
    seen: set[str] = set()
    todo = [p for m in modules for p in _with_parents(m)]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += [p for m in _imports_anywhere(module) for p in _with_parents(m)]
    return seen


def _function_imports(module: str, function: str) -> set[str]:
    """What calling ``module.function`` imports: module-level imports, plus imports inside the function and inside
    every top-level function or assignment of the module it reaches by name (transitively)."""
    tree = ast.parse(_module_file(module).read_text())
    defs = {}
    top_level: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defs[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defs[target.id] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            top_level |= set(_resolve(node, module))
    found, todo, imports = set(), [function], set(top_level)
    while todo:
        name = todo.pop()
        if name in found or name not in defs:
            continue
        found.add(name)
        for node in ast.walk(defs[name]):
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports |= set(_resolve(node, module))
                for target in _resolve(node, module):  # a function of another stage: what calling it imports
                    if isinstance(node, ast.ImportFrom) and target.startswith("latentwalk.stages.") and target != module:
                        for alias in node.names:
                            imports |= _function_imports(target, alias.name)
            elif isinstance(node, ast.Name):
                todo.append(node.id)
    return imports | {module}


def rule_sources(rule: str) -> set[str]:
    """The package files rule ``rule``'s script loads, derived from the code."""
    tree = ast.parse((SCRIPTS / f"{rule}.py").read_text())
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("latentwalk"):
            if node.module.startswith("latentwalk.stages."):
                for alias in node.names:
                    modules |= _function_imports(node.module, alias.name)
            else:
                modules |= _imports_anywhere(node.module) | {node.module}
    stage_entry = {m for m in modules if m.startswith("latentwalk.stages.")}
    loaded = {p for m in stage_entry for p in _with_parents(m)}
    loaded |= _closure(modules - stage_entry)
    return {str(_module_file(m).relative_to(REPO)) for m in loaded}


def declared_sources(blocks: dict[str, str]) -> dict[str, set[str]]:
    """Rule -> the package files listed by its src(...) input (src() always adds __init__ and logs)."""
    out = {}
    for rule, body in blocks.items():
        match = re.search(r"src=src\(([^)]*)\)", body)
        if match is None:
            continue
        names = ["__init__", "logs", *re.findall(r'"([\w/]+)"', match.group(1))]
        out[rule] = {f"workflow/latentwalk/{name}.py" for name in names}
    return out


def test_src_module_exists_for_the_checker() -> None:
    """Guards the helpers below: a stage's derived sources include its own module and the package init."""
    assert "workflow/latentwalk/stages/paths.py" in rule_sources("generate_paths")
    assert "workflow/latentwalk/__init__.py" in rule_sources("generate_paths")
    assert "workflow/latentwalk/training.py" in rule_sources("generate_paths")  # via the geodesic method
    assert "workflow/latentwalk/paths.py" not in rule_sources("plot_geometry")  # function-level, not module-level
    assert "workflow/latentwalk/figures_quality.py" in rule_sources("plot_view_walks")  # via another stage's function
    assert "workflow/latentwalk/views.py" not in rule_sources("plot_walks")


def test_every_rule_lists_exactly_the_package_sources_it_imports() -> None:
    """Editing a package file reruns exactly the rules whose code imports it: src(...) = the derived closure."""
    blocks = rule_blocks()
    declared = declared_sources(blocks)
    assert set(declared) == set(blocks) - TARGET_RULES
    mismatches = {}
    for rule, files in declared.items():
        derived = rule_sources(rule)
        if derived != files:
            mismatches[rule] = {"missing": sorted(derived - files), "extra": sorted(files - derived)}
    assert mismatches == {}


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


def test_every_rule_with_code_uses_the_conda_environment_and_scripts_find_the_package() -> None:
    blocks = rule_blocks()
    for name, body in blocks.items():
        if "script:" in body:
            assert re.search(r"conda:\n\s+CONDA_ENV\n", body), name
    link = SCRIPTS / "latentwalk"
    assert link.is_symlink() and link.resolve() == (REPO / "workflow" / "latentwalk").resolve()


@pytest.mark.workflow
def test_lint_is_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--workflow-profile", "none"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr, \
        (proc.stdout + proc.stderr)[-3000:]


def test_snakefmt_is_clean() -> None:
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    assert snakefmt, "snakefmt is a test dependency (pip install -e '.[test]')"
    proc = subprocess.run([snakefmt, "--check", "--compact-diff", "Snakefile", "workflow/rules"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
