"""Which policy decides each action of the conversation tests (issue 13).

    .venv/bin/python bench/dialogue_policies.py [MODEL ...]

Replays tests/test_stories.yml against each model the way `rasa test core`
does (NLU included) and counts, per policy, the actions it predicted and how
many of those were right. Tells whether TEDPolicy decides anything the rules
and memorised stories would not.
"""
from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

from hotline.paths import ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


async def count(model: str) -> tuple[Counter, Counter]:
    import logging

    from rasa.core.agent import Agent
    from rasa.core.test import _create_data_generator, _predict_tracker_actions
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(model)
    generator = _create_data_generator(str(ROOT / "tests" / "test_stories.yml"), agent,
                                       use_conversation_test_files=True)
    decided, right = Counter(), Counter()
    for tracker in generator.generate_story_trackers():
        _, _, actions, _ = await _predict_tracker_actions(tracker, agent)
        for action in actions:
            policy = (action["policy"] or "none").split("_")[-1]
            decided[policy] += 1
            right[policy] += action["action"] == action["predicted"]
    return decided, right


def main() -> int:
    from hotline.nlu.training import model_path

    models = sys.argv[1:] or [str(model_path())]
    for model in models:
        decided, right = asyncio.run(count(model))
        total = sum(decided.values())
        print(f"\n{Path(model).name}: {total} predicted actions in tests/test_stories.yml")
        for policy, n in decided.most_common():
            print(f"  {policy:<22}{n:>5} ({n / total:.0%}), right {right[policy]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
