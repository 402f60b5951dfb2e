"""The package's source files a rule's script loads: its rerun triggers, derived from the imports.

Snakemake reruns a job when one of its input files changes; listing the package modules its script loads as
inputs (``src=sources("train")`` in a rule) makes an edit rerun exactly the jobs whose code imports the edited
module. The list is derived here, never written by hand: from the script's ``from latentwalk... import``
statements, then transitively from each module's imports of the package (every package module imports what it
needs at its top), with the ``__init__.py`` of each package on the way.
"""

from __future__ import annotations

import ast
import os
from functools import cache
from pathlib import Path

__all__ = ["module_file", "imported_modules", "script_sources"]

#: The importable package's name: the folder ``<root>/latentwalk``.
PACKAGE = "latentwalk"


def module_file(root: Path, module: str) -> Path | None:
    """The file of package module ``module`` (``latentwalk.walks.generate``) under ``root``: the module's ``.py``
    or a package's ``__init__.py``; None for a name that is not a module (a function imported from one)."""
    path = root.joinpath(*module.split("."))
    if path.is_dir():
        return path / "__init__.py"
    file = path.with_suffix(".py")
    return file if file.is_file() else None


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """The package modules (and candidate submodules) an import statement anywhere in ``tree`` names."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing module's package
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == PACKAGE:
                found.add(target)
                found |= {f"{target}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return found


@cache
def _file_imports(file: Path, module: str) -> list[str]:
    """:func:`_imports` of package module ``module``'s ``file``, sorted; each file parsed once per process (every
    rule's sources walk the same modules)."""
    return sorted(_imports(ast.parse(file.read_text(encoding="utf-8")), module, file.name == "__init__.py"))


@cache
def imported_modules(root: Path, entry: str) -> frozenset[str]:
    """Every package module that importing ``entry`` loads: ``entry``, the packages above it, and transitively
    what each of them imports from the package (names that are not modules are dropped)."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for k in range(1, len(parts) + 1):
            name = ".".join(parts[:k])
            file = module_file(root, name)
            if name in seen or file is None:
                continue
            seen.add(name)
            todo += _file_imports(file, name)
    return frozenset(seen)


def script_sources(script: str | os.PathLike[str], root: str | os.PathLike[str], start: str | None = None) -> list[str]:
    """The package files rule script ``script`` loads, sorted, as paths relative to ``start`` (default: the working
    directory, as Snakemake's inputs are); ``root`` is the folder that holds the package."""
    folder = Path(root)
    tree = ast.parse(Path(script).read_text(encoding="utf-8"))
    modules: set[str] = set()
    for entry in sorted(_imports(tree, "__main__", False)):
        modules |= imported_modules(folder, entry)
    files = {module_file(folder, module) for module in modules}
    return sorted(os.path.relpath(file, start) for file in files if file is not None)
