"""The WCAG 2.1 AA audit of a page in the browser: axe-core (npm, pinned in
package-lock.json, installed into node_modules/ by `make setup`) injected into
a Playwright page.

    from tests.a11y.axe import assert_accessible, browser_context
    assert_accessible(page, "console: queue")

The pages' Content-Security-Policy forbids injected scripts, so the audit
needs a browser context made with ``bypass_csp=True`` (``browser_context``).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what the issue asks the pages to pass.
WCAG21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def chromium_path() -> str:
    """Debian's Chromium ($CHROMIUM overrides); `make test` installs it."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not Path(path).exists():
        raise RuntimeError("Chromium not found: run `make test` as root or `apt-get install -y chromium`")
    return path


def axe_source() -> str:
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS.relative_to(ROOT)} is missing: run `make setup` (npm ci; "
                           "node and npm are the Debian packages nodejs and npm)")
    return AXE_JS.read_text(encoding="utf-8")


def browser_context(browser: Any, **options: Any) -> Any:
    """A context the audit can inject axe-core into (pages keep their CSP
    headers, the browser just does not enforce them on injected scripts)."""
    defaults = {"viewport": {"width": 1280, "height": 860}, "locale": "ru-RU", "bypass_csp": True}
    context = browser.new_context(**{**defaults, **options})
    context.set_default_timeout(20_000)
    return context


def run_axe(page: Any, include: Optional[str] = None, tags: Sequence[str] = WCAG21_AA) -> List[Dict[str, Any]]:
    """The violations axe-core finds on the page as it is now (or in the
    element ``include`` selects)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
        if not page.evaluate("() => typeof window.axe === 'object'"):
            raise RuntimeError("axe-core was not injected: make the context with bypass_csp=True "
                               "(tests.a11y.axe.browser_context)")
    result = page.evaluate(
        """async ([include, tags]) => {
            const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
            return await axe.run(include ? {include: [include]} : document, options);
        }""",
        [include, list(tags)],
    )
    return result["violations"]


def describe(violations: List[Dict[str, Any]]) -> str:
    """One paragraph per rule: what is wrong, where, and axe's own advice."""
    lines: List[str] = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact') or 'n/a'}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"]:
            target = " ".join(json.dumps(t, ensure_ascii=False) if not isinstance(t, str) else t
                              for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {summary}")
            lines.append(f"        {node['html'][:160]}")
    return "\n".join(lines)


def assert_accessible(page: Any, name: str, include: Optional[str] = None) -> None:
    violations = run_axe(page, include)
    if violations:
        count = sum(len(v["nodes"]) for v in violations)
        raise AssertionError(f"{name} ({page.url}): {count} WCAG 2.1 AA violation(s)\n{describe(violations)}")


class Audit:
    """Audits several pages of a walk-through and fails once at the end with
    every page's violations, so one run shows all there is to fix."""

    def __init__(self) -> None:
        self.failures: List[str] = []
        self.pages: List[str] = []

    def check(self, page: Any, name: str, include: Optional[str] = None) -> None:
        self.pages.append(name)
        try:
            assert_accessible(page, name, include)
        except AssertionError as failure:
            self.failures.append(str(failure))

    def assert_clean(self) -> None:
        if self.failures:
            raise AssertionError(f"{len(self.failures)} of {len(self.pages)} page(s) fail the audit:\n\n"
                                 + "\n\n".join(self.failures))
