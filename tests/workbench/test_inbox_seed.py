"""The seeded tracker database (fakes/tracker_seed.py) is Rasa's own format
and its messages for labelling are new to the training and held-out data."""
from __future__ import annotations

import asyncio
import glob

import yaml

from helpers import ROOT
from hotline.nlu.examples import near_copy, plain
from fakes.tracker_seed import LABELLABLE, MISUNDERSTOOD, NAME_1, _store, seed_tracker


def _all_examples():
    for path in sorted(glob.glob(str(ROOT / "data" / "nlu" / "*.yml"))) + [str(ROOT / "tests" / "nlu_heldout.yml")]:
        for block in yaml.safe_load(open(path, encoding="utf-8")).get("nlu", []):
            for line in (block.get("examples") or "").splitlines():
                if line.startswith("- "):
                    yield plain(line[2:])


def test_rasa_reads_the_seeded_conversations_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    seed_tracker(url)
    store = _store(url)
    tracker = asyncio.run(store.retrieve_full_tracker("web_5a1b"))
    users = [e for e in tracker.events if e.type_name == "user"]
    assert [e.text for e in users][2] == NAME_1
    assert tracker.latest_message.intent["name"] == "nlu_fallback"
    assert {m.conversation_id for m in MISUNDERSTOOD} <= set(asyncio.run(store.keys()))
    store.engine.dispose()


def test_messages_for_labelling_are_not_in_training_or_held_out_data():
    known = list(_all_examples())
    for text, _ in LABELLABLE:
        copies = [k for k in known if near_copy(plain(text), k)]
        assert not copies, (text, copies[:3])
