"""The audit helper itself: it finds what it must find and says it readably,
so that a passing page audit means something."""
from __future__ import annotations

import pytest

from tests.a11y.axe import CHROMIUM_ARGS, assert_accessible, browser_context, chromium_path

BAD = """<!doctype html><html lang="ru"><head><title>Плохая страница</title></head><body><main>
<h1>Очередь</h1>
<p style="color:#9aa4ae;background:#fff">Очередь обновляется сама.</p>
<input id="unlabelled">
</main></body></html>"""
GOOD = """<!doctype html><html lang="ru"><head><title>Хорошая страница</title></head><body><main>
<h1>Очередь</h1>
<p style="color:#4d5766;background:#fff">Очередь обновляется сама.</p>
<label for="labelled">Логин</label><input id="labelled">
</main></body></html>"""


@pytest.mark.timeout(60)
def test_audit_names_each_violation_and_passes_a_clean_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser_context(browser).new_page()
            page.set_content(BAD)
            with pytest.raises(AssertionError) as failure:
                assert_accessible(page, "bad page")
            report = str(failure.value)
            assert "bad page" in report and "2 WCAG 2.1 AA violation(s)" in report
            assert "color-contrast (serious)" in report and "#9aa4ae" in report
            assert "label (critical)" in report and "#unlabelled" in report
            page.set_content(GOOD)
            assert_accessible(page, "good page")
        finally:
            browser.close()
