"""The response editor in Chromium: «Прослушать» plays the text as typed,
and two tabs saving the same text — the second is told, keeps its text and
sees the first one's."""
from __future__ import annotations

import pytest

from helpers import ROOT
from tests.a11y.axe import browser_context
from tests.workbench.conftest import PASSWORD
from workbench import responses as editor


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login", "olga")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#current-trainer")


@pytest.mark.timeout(180)
def test_listen_and_two_tabs_on_one_text(browser, workbench, make_account, project_dir):
    make_account("olga")
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8")
    index = next(v.index for v in editor.find(domain, "utter_thank").variations if v.voice)
    context = browser_context(browser)
    try:
        first, second = context.new_page(), context.new_page()
        _sign_in(first, workbench.url)
        for page in (first, second):
            page.goto(f"{workbench.url}/responses/edit?name=utter_thank")

        first.fill(f"#text-{index}", "Пожалуйста! Чем ещё могу помочь вам сегодня?")
        first.click(f"#listen-{index}")
        first.wait_for_function(f"document.getElementById('player-{index}').src.includes('/api/responses/preview/')")
        duration = first.evaluate(f"""() => new Promise(resolve => {{
            const a = document.getElementById('player-{index}');
            if (a.readyState >= 1) resolve(a.duration);
            a.addEventListener('loadedmetadata', () => resolve(a.duration));
            a.load();
        }})""")
        assert duration > 1.5  # Chromium decoded the WAV: seconds of speech

        first.click(f"#save-{index}")
        first.wait_for_selector(f"#saved-{index}")
        second.fill(f"#text-{index}", "Рада помочь! Что-нибудь ещё?")
        second.click(f"#save-{index}")
        second.wait_for_selector(f"#error-{index}")
        assert "изменил другой тренер" in second.inner_text(f"#error-{index}")
        assert second.input_value(f"#text-{index}") == "Рада помочь! Что-нибудь ещё?"
        assert "Чем ещё могу помочь вам сегодня?" in second.inner_text(f"#theirs-{index}")
        second.click(f"#save-{index}")  # seen and decided: saved
        second.wait_for_selector(f"#saved-{index}")
        assert "Рада помочь! Что-нибудь ещё?" in (project_dir / "domain.yml").read_text(encoding="utf-8")
    finally:
        context.close()
