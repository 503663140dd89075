"""The import rule of docs/architecture.md, read from the code: imports
point down, so a module added in the wrong place fails here, not in a
maintainer's head. Imports inside functions count as much as top-level ones."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

from hotline.paths import ROOT

PRODUCT = ("actions", "connectors", "voice", "handoff", "hotline", "workbench")
PROJECT = PRODUCT + ("fakes", "tests")


def imports_of(path: Path) -> Set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def project_imports(folder: str) -> Dict[str, Set[str]]:
    """file → the top-level project packages it imports, other than its own."""
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        packages = {name.split(".")[0] for name in imports_of(path)} & set(PROJECT) - {folder}
        if packages:
            found[str(path.relative_to(ROOT))] = packages
    return found


def test_the_reader_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from handoff.repository import audit\n")
    assert imports_of(module) == {"os", "handoff.repository"}


def test_hotline_imports_no_package_above_it():
    upward = project_imports("hotline")
    assert upward == {}, f"hotline/ must not import the packages built on it: {upward}"


def test_the_database_base_imports_nothing_of_the_project():
    project = {name for name in imports_of(ROOT / "hotline" / "db" / "base.py")
               if name.split(".")[0] in PROJECT}
    assert project == set()


def test_no_product_package_imports_the_test_doubles_or_the_tests():
    wrong = {path: packages & {"fakes", "tests"}
             for folder in PRODUCT for path, packages in project_imports(folder).items()
             if packages & {"fakes", "tests"}}
    assert wrong == {}


def test_fakes_and_benchmarks_do_not_import_the_test_suite():
    wrong = {path for folder in ("fakes", "bench") for path, packages in project_imports(folder).items()
             if "tests" in packages}
    assert wrong == set()
