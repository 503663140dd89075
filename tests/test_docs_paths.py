"""docs/architecture.md names files and modules; each must exist, so the map
fails here the day a module moves and the page is not updated."""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

from hotline.paths import ROOT

DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("actions", "connectors", "voice", "handoff", "hotline", "workbench", "fakes", "tests")
PATH_SUFFIXES = (".py", ".yml", ".yaml", ".md", ".toml", ".ini", ".html", ".json")


def code_spans(text: str) -> List[str]:
    """Inline `code` of the prose and tables, and the text of the ``` blocks."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    return re.findall(r"`([^`\n]+)`", prose) + blocks


def file_paths(span: str) -> List[str]:
    """`voice/audiosocket/service.py`, `deploy/kubernetes`, `credentials.yml`; words that do not start
    at a top-level file or folder are not repository paths (`tables/status` inside hotline/db/)."""
    found = tree_paths(span)
    for word in re.findall(r"[\w./<>\-*]+", span):
        word = word.rstrip(".,;:")
        first = word.split("/")[0]
        if first and ("/" in word or word.endswith(PATH_SUFFIXES)) and (ROOT / first).exists():
            found.append(word)
    return list(dict.fromkeys(found))


def tree_paths(block: str) -> List[str]:
    """A drawn tree: a line's first word that ends in / or a file suffix, under the folder above it
    with less indentation (`hotline/` then `  db/` is hotline/db/)."""
    found, parents = [], []  # parents: (indent, folder)
    for line in block.splitlines():
        match = re.match(r"( *)([\w.<>\-]+(?:/[\w.<>\-]+)*/?)(?:,|\s|$)", line)
        if not match or not (match.group(2).endswith("/") or match.group(2).endswith(PATH_SUFFIXES)):
            continue
        indent, name = len(match.group(1)), match.group(2)
        while parents and parents[-1][0] >= indent:
            parents.pop()
        if not parents and not (ROOT / name.split("/")[0]).exists():
            continue
        path = "".join(folder for _, folder in parents) + name
        found.append(path)
        if name.endswith("/"):
            parents.append((indent, name))
    return found


def module_names(span: str) -> List[str]:
    """`hotline.rasa.channels`, `python -m voice.audiosocket`, `hotline.nlu.*`, `workbench.app.FEATURES`."""
    pattern = r"\b((?:%s)(?:\.[A-Za-z_]\w*|\.\*)+)" % "|".join(PACKAGES)
    return [name for name in re.findall(pattern, span) if not name.endswith(PATH_SUFFIXES)]


def path_exists(path: str) -> bool:
    pattern = re.sub(r"<[^>]*>", "*", path.rstrip("/"))
    return any(ROOT.glob(pattern)) if "*" in pattern else (ROOT / pattern).exists()


def module_file(dotted: str) -> Optional[Path]:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def module_exists(name: str) -> bool:
    """A module or package, or an attribute defined in one (`workbench.app.FEATURES`)."""
    name = name[:-2] if name.endswith(".*") else name
    if module_file(name):
        return True
    parent, _, attribute = name.rpartition(".")
    source = module_file(parent)
    return bool(source) and re.search(r"^\s*(?:class |def |async def )?%s\b" % re.escape(attribute),
                                      source.read_text(encoding="utf-8"), flags=re.M) is not None


def test_the_spans_are_read_the_way_the_page_writes_them():
    spans = code_spans("Процесс `python -m voice.audiosocket` — модуль `voice/audiosocket/service.py`.\n"
                       "```\nhotline/\n  db/  hotline.db.base\n```\n")
    assert module_names(spans[0]) == ["voice.audiosocket"]
    assert file_paths(spans[1]) == ["voice/audiosocket/service.py"]
    assert module_names(spans[2]) == ["hotline.db.base"]
    assert file_paths(spans[2]) == ["hotline/", "hotline/db/"]


def test_a_stale_name_is_caught():
    assert not module_exists("hotline.ops.supervisor_of_nothing")
    assert not module_exists("handoff.repository.no_such_function")
    assert not path_exists("voice/audiosocket.py")
    assert module_exists("workbench.app.FEATURES") and path_exists("workbench/pages/<раздел>.py")


def test_every_file_and_module_the_architecture_page_names_exists():
    spans = code_spans(DOC.read_text(encoding="utf-8"))
    paths = sorted({p for span in spans for p in file_paths(span)})
    modules = sorted({m for span in spans for m in module_names(span)})
    assert len(paths) > 5 and len(modules) > 20, "the page's names are no longer found: update this test"
    missing = [p for p in paths if not path_exists(p)] + [m for m in modules if not module_exists(m)]
    assert not missing, f"docs/architecture.md names what does not exist: {missing}"
