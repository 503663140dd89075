"""`rasa data validate` that fails on every warning except Rasa's known
false positives, which it names (make validate).

Rasa 3.6 reports two things that are not problems in this project:
- «duplicated intents … faq»: it merges the retrieval intent from the NLU
  data into a domain that already lists it, then reports its own merge;
- «The utterance 'X' is not used in any story or rule» for responses that
  only custom actions and forms utter (form questions utter_ask_<slot>, and
  those listed in actions/responses.py). The validator looks at stories and
  rules only.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.responses import RESPONSES_UTTERED_BY_ACTIONS  # noqa: E402


def form_questions(project: Path = ROOT) -> set[str]:
    domain = yaml.safe_load((project / "domain.yml").read_text(encoding="utf-8"))
    return {f"utter_ask_{slot}" for form in (domain.get("forms") or {}).values()
            for slot in form.get("required_slots", [])}


def unexpected_warnings(output: str, project: Path = ROOT) -> list[str]:
    allowed = RESPONSES_UTTERED_BY_ACTIONS | form_questions(project)
    problems = []
    for match in re.finditer(r"UserWarning: (.*?)(?:\n\s+More info|\n\x1b|\n\S|\Z)", output, re.S):
        message = " ".join(match.group(1).split())
        unused = re.match(r"The utterance '([^']+)' is not used in any story or rule", message)
        if unused and unused.group(1) in allowed:
            continue
        if "duplicated intents have been found" in message and message.rstrip(".").endswith(": faq"):
            continue
        problems.append(message)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rasa data validate, failing on every unexpected warning")
    # The trainers' workbench validates the project copy it edits with this checkout's code.
    parser.add_argument("--project", type=Path, default=ROOT, help="the project copy (default: this one)")
    project = parser.parse_args(argv).project.resolve()
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--domain", "domain.yml",
         "--data", "data", "--config", "config.yml"],
        cwd=project, capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    problems = unexpected_warnings(output, project)
    for problem in problems:
        print(f"WARNING: {problem}")
    if result.returncode != 0:
        print(output[-5000:])
        return result.returncode
    print("rasa data validate: no warnings" if not problems else f"{len(problems)} warning(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
