"""Data subject requests find and delete the lockout's counters, whose keys
hash the conversation id (hotline/status/lockout.py)."""
from __future__ import annotations

from hotline.status.lockout import check
from hotline.ops.retention import Retention, Subject


def test_requests_reach_the_counters_of_a_number_and_of_a_conversation(store, tmp_path):
    check("AB-987654321", "rest_c1", lambda conn: None, url=store)
    check("1234567890", "rest_c1", lambda conn: None, url=store)
    check("1234567890", "rest_c2", lambda conn: None, url=store)
    retention = Retention(store, f"sqlite:///{tmp_path / 'tracker.db'}", operator="test")

    by_number = retention.find(Subject("application", application="ab 987654321")).attempt_keys
    assert len(by_number) == 2 and all("AB-987654321" in k for k in by_number)

    by_conversation = retention.find(Subject("conversation", channel="rest", conversation="rest_c1")).attempt_keys
    assert len(by_conversation) == 2 and all("|conversation:" in k for k in by_conversation)
    assert "rest_c1" not in " ".join(by_conversation)  # the id itself is never a key

    deleted = retention.delete(Subject("conversation", channel="rest", conversation="rest_c1"))
    assert deleted["status_check_attempts"] == 2
    assert len(retention.find(Subject("application", application="1234567890")).attempt_keys) == 2
