"""Screenshots of the trainers' workbench for docs/TRAINING.md (docs/img/workbench-*.png).

    .venv/bin/python scripts/workbench_screenshots.py [--out docs/img] [--no-training]

Plays the trainer's sitting on a temporary copy of the project, never on the
repository: a seeded tracker DB (fakes/tracker_seed.py) plus three real
conversations with a Rasa server of its own (the current model; `make train`
first), a trainer account, the workbench started as `make run` starts it
(`python -m workbench`). Labels three messages, trains (a few minutes on two
cores), opens the report and activates. `--no-training` stops before the
training and needs no Rasa server. The pictures are 1200 px wide with a
palette of 256 colours: a few tens of kilobytes each.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from hotline.ops.local_servers import LocalServers, wait_for
from hotline.ops.ports import free_port
from hotline.paths import ROOT

# The seeded tracker DB, the journey's messages and the Chromium launch are
# the browser tests' (tests/ is not an installed package).
sys.path.insert(0, str(ROOT))
from tests.a11y.axe import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.workbench.journey import MISUNDERSTOOD, choose_label, citizens_write, label_in_inbox, project_copy  # noqa: E402

WIDTH, HEIGHT = 1200, 820
LOGIN, NAME, PASSWORD = "olga", "Ольга Петрова", "screenshots-only-password"


def shrink(path: Path, height: int) -> None:
    """Cut at `height` (no empty page below short content) and keep a
    256-colour palette: the pages are flat colours and text, so this keeps
    them sharp at a fraction of the size."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.crop((0, 0, image.width, min(image.height, height)))
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


class Shooter:
    def __init__(self, page, out: Path) -> None:
        self.page, self.out = page, out
        self.taken = []

    def __call__(self, name: str, element: Optional[str] = None) -> None:
        if element:
            self.page.locator(element).first.scroll_into_view_if_needed()
        path = self.out / f"workbench-{name}.png"
        self.page.screenshot(path=str(path))
        bottom = self.page.evaluate("() => Math.ceil(document.querySelector('main').getBoundingClientRect().bottom)")
        shrink(path, bottom + 16)
        self.taken.append(path)
        print(f"{path}  {path.stat().st_size // 1024} KiB", flush=True)


def start_workbench(project: Path, accounts: str, tracker: str, rasa: Optional[LocalServers]) -> tuple:
    port = free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": tracker, "HANDOFF_SECURE_COOKIES": "0",
           "HANDOFF_RASA_URL": rasa.url if rasa else "http://127.0.0.1:9", "PYTHONUNBUFFERED": "1"}
    if rasa:
        env["RASA_API_TOKEN"] = rasa.api_key
    log = open(project.parent / "workbench.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "workbench", "--port", str(port), "--database-url", accounts,
                                "--project-dir", str(project)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    wait_for(f"http://127.0.0.1:{port}/login", 120, process)
    return process, f"http://127.0.0.1:{port}"


def journey(base: str, out: Path, train: bool) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --lang: the date fields show «дд.мм.гггг», as a trainer's browser does.
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS + ["--lang=ru-RU"])
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="ru-RU")
        context.set_default_timeout(30_000)
        page = context.new_page()
        shot = Shooter(page, out)

        page.goto(f"{base}/login")
        page.fill("#login", LOGIN)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#current-trainer")
        shot("index")

        page.goto(f"{base}/inbox")
        shot("inbox")
        choose_label(page, base, *MISUNDERSTOOD[0]).scroll_into_view_if_needed()
        shot("inbox-label")
        for text, label in MISUNDERSTOOD:
            label_in_inbox(page, base, text, label)

        # The seeded conversation with a name, SNILS, a phone and a date in free text: masked.
        page.goto(f"{base}/conversations?channel=rest&fallback=yes")
        page.locator("#conversations-table a").first.click()
        page.wait_for_selector("#tags")
        shot("conversation")

        page.goto(f"{base}/responses/edit?name=utter_faq/wait_time")
        shot("response-edit")

        if train:
            page.goto(f"{base}/training")
            page.click("#start-training")
            page.wait_for_selector("#job-progress")
            # The page refreshes itself: wait for the training step, when
            # the progress bar and the log have something to show.
            page.wait_for_selector("#step-train:has-text('выполняется')", timeout=600_000)
            page.wait_for_timeout(8_000)
            shot("training-job")
            deadline = time.monotonic() + 1800
            while not page.locator("#report-link").is_visible():
                if time.monotonic() > deadline or page.locator("#job-error").is_visible():
                    raise SystemExit(f"training did not finish: {page.locator('#job-log').text_content()[-2000:]}")
                page.wait_for_timeout(3000)
            page.click("#report-link")
            page.wait_for_selector("#metrics")
            shot("report")
            shot("report-new-examples", "#new-examples")
            shot("report-confusion", "#confusion-picture")
            page.click("#activate")
            page.wait_for_load_state()
            shot("activated")

        page.goto(f"{base}/changes")
        shot("changes")
        browser.close()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--no-training", action="store_true", help="stop before the training (no Rasa server)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from handoff.admin import add_operator
    from hotline.db.engine import init_db
    from hotline.nlu.training import model_path
    from fakes.tracker_seed import seed_tracker

    with tempfile.TemporaryDirectory(prefix="workbench-shots-") as tmp:
        tmp = Path(tmp)
        project = project_copy(tmp / "project")
        accounts = f"sqlite:///{tmp / 'accounts.db'}"
        init_db(accounts)
        add_operator(LOGIN, NAME, PASSWORD, is_operator=False, is_trainer=True, via="cli", url=accounts)
        (tmp / "rasa").mkdir()
        tracker = f"sqlite:///{tmp / 'rasa' / 'tracker.db'}"
        seed_tracker(tracker)
        rasa = None
        if not args.no_training:
            model = model_path()
            if not model.exists():
                print(f"{model.relative_to(ROOT)} is missing: run `make train` first", file=sys.stderr)
                return 2
            rasa = LocalServers(tmp / "rasa", model)
        workbench = None
        try:
            if rasa:
                citizens_write(rasa)
            workbench, base = start_workbench(project, accounts, tracker, rasa)
            journey(base, args.out, train=rasa is not None)
        finally:
            if workbench:
                workbench.terminate()
                workbench.wait(30)
            if rasa:
                rasa.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
