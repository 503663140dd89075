"""Prometheus metrics of the Rasa server and the action server.

One registry per process (``REGISTRY``), exposed as text by
``GET /ops/metrics`` on every Rasa instance (hotline.rasa.channels.OpsChannel)
and every action server (hotline.action_server). Labels never carry
personal data or free text: channel names, intent names, action names and
fixed outcome words only, so the number of series stays bounded.

Rasa side:
    hotline_messages_total{channel,outcome}      outcome: handled, rate_limited,
                                                 dropped, too_long, error
    hotline_message_latency_seconds{channel}     whole turn, NLU to last reply
    hotline_intents_total{intent}
    hotline_fallbacks_total{kind}                nlu (nlu_fallback), core
                                                 (action_default_fallback)
    hotline_handoffs_total{reason}               request_operator, fallback,
                                                 operator_contacts, paused
    hotline_action_errors_total{action,kind}     unreachable, timeout,
                                                 http_5xx, http_4xx, error
    hotline_degraded_replies_total{reason}
    hotline_dependency_fallback_total{dependency} redis lock store/limiter
                                                 fell back to in-process
Action server:
    hotline_action_requests_total{action,status}
    hotline_action_latency_seconds{action}
    hotline_status_locks_total{scope,duration}   scope: conversation (one
                                                 conversation locked on a
                                                 number), number (daily cap
                                                 reached: alert); duration 15m, 1h, 24h
"""
from __future__ import annotations

from typing import Iterable, Optional

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# No *_created series: they double the output and nobody graphs them.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Turn latencies on this hardware are tens to hundreds of milliseconds.
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0)

MESSAGES = Counter("hotline_messages", "Incoming citizen messages by channel and outcome",
                   ["channel", "outcome"], registry=REGISTRY)
LATENCY = Histogram("hotline_message_latency_seconds", "Time to handle one incoming message",
                    ["channel"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)
INTENTS = Counter("hotline_intents", "Recognised intents of incoming messages", ["intent"], registry=REGISTRY)
FALLBACKS = Counter("hotline_fallbacks", "Messages the assistant did not understand", ["kind"],
                    registry=REGISTRY)
HANDOFFS = Counter("hotline_handoffs", "Conversations sent towards a human operator", ["reason"],
                   registry=REGISTRY)
ACTION_ERRORS = Counter("hotline_action_errors", "Custom actions that failed on the Rasa side",
                        ["action", "kind"], registry=REGISTRY)
DEGRADED = Counter("hotline_degraded_replies", "Polite replies sent instead of a failed action",
                   ["reason"], registry=REGISTRY)
DEPENDENCY_FALLBACK = Counter("hotline_dependency_fallback",
                              "Operations served by an in-process fallback because a dependency failed",
                              ["dependency"], registry=REGISTRY)
ACTION_REQUESTS = Counter("hotline_action_requests", "Action server calls by action and HTTP status",
                          ["action", "status"], registry=REGISTRY)
STATUS_LOCKS = Counter("hotline_status_locks", "Status-check lockouts (number = daily cap reached, alert)",
                       ["scope", "duration"], registry=REGISTRY)
ACTION_LATENCY = Histogram("hotline_action_latency_seconds", "Action server time per action call",
                           ["action"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)

NLU_FALLBACK_INTENT = "nlu_fallback"
CORE_FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
# Names that mean "a person should take over"; the handoff issue adds its own
# action names here when it exists (any action whose name contains "handoff").
HANDOFF_INTENTS = frozenset({"request_operator"})
HANDOFF_ACTIONS = frozenset({"utter_operator_contacts"})

_MAX_LABEL = 64


def _label(value: Optional[str], default: str = "unknown") -> str:
    """A label value from a closed vocabulary (intent or action names)."""
    text = str(value or default)
    return text[:_MAX_LABEL]


def render() -> bytes:
    return generate_latest(REGISTRY)


def count_turn(events: Iterable[dict]) -> None:
    """Count intents, fallbacks and handoffs of one turn.

    ``events`` are the serialised events of the turn: the user message and
    everything the assistant did after it (see hotline.rasa.hooks).
    """
    handoff: Optional[str] = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            INTENTS.labels(_label(intent)).inc()
            if intent == NLU_FALLBACK_INTENT:
                FALLBACKS.labels("nlu").inc()
            if intent in HANDOFF_INTENTS:
                handoff = handoff or "request_operator"
        elif kind == "action":
            name = event.get("name") or ""
            if name in CORE_FALLBACK_ACTIONS:
                FALLBACKS.labels("core").inc()
            if name in HANDOFF_ACTIONS or "handoff" in name:
                handoff = handoff or "operator_contacts"
        elif kind == "slot" and event.get("name") == "fallback_stage" and event.get("value") == "human":
            handoff = "fallback"
        elif kind == "pause":
            handoff = handoff or "paused"
    if handoff:
        HANDOFFS.labels(handoff).inc()
