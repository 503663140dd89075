"""Word count of every response, chat and voice, before and after issue 12.

    .venv/bin/python bench/answers_report.py [--before f91fc0f] [--after WORKTREE]

«Before» is domain.yml at a git revision (main before the answers were
shortened, f91fc0f), «after» the working tree's domain.yml. Counts are of
the longest variation, rendered with the deployment defaults (the contact
slots) and one word for what an action fills in (hotline/answer_text.py).
Prints a Markdown table and the totals.
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

from hotline.answer_text import counts
from hotline.paths import ROOT

CHAT_LIMIT = 80


def domain_at(revision: str) -> Dict[str, Any]:
    text = subprocess.run(["git", "show", f"{revision}:domain.yml"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    return yaml.safe_load(text)


def _cell(value: Optional[int]) -> str:
    return "—" if value is None else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="f91fc0f", help="git revision of the earlier domain.yml")
    parser.add_argument("--after", default=str(ROOT / "domain.yml"), help="domain.yml to compare")
    args = parser.parse_args()
    before = counts(domain_at(args.before))
    after = counts(yaml.safe_load(Path(args.after).read_text(encoding="utf-8")))
    print("| response | chat before | chat after | voice before | voice after |")
    print("|---|---:|---:|---:|---:|")
    for name in sorted(set(before) | set(after)):
        b_chat, b_voice = before.get(name, (None, None))
        a_chat, a_voice = after.get(name, (None, None))
        print(f"| {name} | {_cell(b_chat)} | {_cell(a_chat)} | {_cell(b_voice)} | {_cell(a_voice)} |")
    for label, table in (("before", before), ("after", after)):
        chats = [c for c, _ in table.values()]
        voiced = sum(1 for _, v in table.values() if v is not None)
        over = sum(1 for c in chats if c > CHAT_LIMIT)
        print(f"\n{label}: {len(table)} responses; chat words total {sum(chats)}, longest {max(chats)}, "
              f"over {CHAT_LIMIT}: {over}; with a voice variation: {voiced}")


if __name__ == "__main__":
    main()
