"""What the trainer's browser journey (test_trainer_journey_browser.py) and
the documentation's screenshots (scripts/workbench_screenshots.py) share: the
messages citizens wrote that the running model gets wrong, how they reach the
tracker store, and the project copy the workbench edits."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Dict

from connectors.conversation_ids import rest_conversation_id
from hotline.paths import ROOT

# What citizens wrote, and the label a trainer gives it. The model trained on
# the repository's data gets all three wrong (the journey checks it first):
# «похвалить» reads as faq/email, «не хочу с машиной» as deny, «перезвонят»
# as faq/working_hours.
MISUNDERSTOOD = (
    ("хочу похвалить девушку из поддержки", "leave_feedback"),
    ("не хочу с машиной говорить", "request_operator"),
    ("через какое время мне перезвонят", "faq/wait_time"),
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=ci", "-c", "user.email=ci@localhost", *args],
                          check=True, capture_output=True, text=True).stdout


def as_repository(project: Path) -> Path:
    """Make a project copy a git repository on a deployed branch, so the
    «Изменения» page has a HEAD to show the trainer's diff against."""
    git(project, "init", "-q", "-b", "production")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "deployed")
    return project


def project_copy(target: Path) -> Path:
    """The files the workbench reads and edits, copied out of the repository."""
    shutil.copytree(ROOT / "data", target / "data")
    (target / "tests").mkdir(parents=True)
    for name in ("test_stories.yml", "nlu_heldout.yml"):
        shutil.copy2(ROOT / "tests" / name, target / "tests" / name)
    for name in ("domain.yml", "config.yml"):
        shutil.copy2(ROOT / name, target / name)
    return as_repository(target)


def understood(servers, sender: str) -> str:
    """The intent (or faq/<key>) the Rasa server gave the last message of a
    REST sender (whose conversation is rest_<sender>)."""
    events = servers.tracker(rest_conversation_id(sender))["events"]
    parse = next(e["parse_data"] for e in reversed(events) if e["event"] == "user")
    intent = parse.get("intent", {}).get("name")
    assert intent, f"no intent in the tracker of {sender}: {parse}"
    if intent == "faq":
        return parse["response_selector"]["faq"]["response"]["intent_response_key"]
    return intent


def citizens_write(servers, prefix: str = "journey_") -> Dict[str, str]:
    """Each message written twice over REST, as a citizen does who got a
    wrong answer (the inbox lists the first as «repeated»); what the running
    model understood each as."""
    understood_as = {}
    for number, (text, _) in enumerate(MISUNDERSTOOD):
        sender = f"{prefix}{number}"
        servers.send(sender, text)
        servers.send(sender, text)
        understood_as[text] = understood(servers, sender)
    return understood_as


# --- the inbox in the browser (Playwright pages) ---

def inbox_group(page, text: str):
    """The inbox group whose text is `text` (as the page shows it, in «»)."""
    return page.locator("li.inbox-group", has=page.locator("h2.group-text", has_text=f"«{text}»"))


def choose_label(page, base: str, text: str, label: str):
    page.goto(f"{base}/inbox")
    group = inbox_group(page, text)
    group.locator("select[name=intent]").select_option(label)
    return group


def label_in_inbox(page, base: str, text: str, label: str) -> None:
    """Label a group as a trainer does; the group is not offered again."""
    choose_label(page, base, text, label).locator("button[id^='label-submit-']").click()
    page.wait_for_selector("#inbox-notice")
    assert inbox_group(page, text).count() == 0, f"«{text}» still offered after labelling"
