"""Hooks into the Rasa 3.6 server, in every profile.

Installed once per Rasa process by the channels
(hotline.rasa.channels, listed in credentials.yml), before the
agent — and with it the tracker store — is created:

1. **Graceful degradation of custom actions.** When the action server is
   unreachable, times out or fails, Rasa 3.6 logs «Bot will continue, but the
   actions events are lost» and the citizen hears nothing. Rasa has no
   plug-in point for this (the action endpoint is a plain URL and the
   MessageProcessor is not configurable), so ``RemoteAction.run`` is wrapped:
   a failure becomes a polite Russian reply (``DEGRADED_TEXT``, kept here and
   not in domain.yml so that it works without the action server and without
   retraining) and the conversation goes on with Rasa's own responses.
   * ``action_session_start`` falls back to Rasa's default session start, so
     a new conversation still begins normally;
   * a failing ``validate_<form>`` stops the form (``ActiveLoop(None)``): the
     citizen is not asked for data that cannot be checked now;
   * one polite reply per turn, and the assistant listens next
     (``FollowupAction(action_listen)``) instead of predicting more actions
     that need the same unavailable server;
   * a rejection by the action server (HTTP 400, form validation) is normal
     Rasa flow and is passed on unchanged;
   * the call is bounded by ``ACTION_TIMEOUT_SECONDS`` (default 10 s; Rasa's
     own limit is 5 minutes).
2. **Turn metrics** (hotline.ops.metrics): intents, fallbacks and handoffs are
   counted from the events of each turn after Rasa's prediction loop.
4. **Action-reply validation without recompiling the schema.** Rasa checks
   every action server reply with ``jsonschema.validate(reply, schema)``,
   which re-checks and recompiles Rasa's large events schema on every call:
   15 ms per call alone and far more under load — in the load profile
   (bench/load.py) about 70 % of a busy instance's CPU, 7.6 msg/s per
   instance instead of 25. The same schema is validated with one validator
   built once (~0.7 ms), and each event only against the branch of its own
   type (_valid_by_event_type); the error message is Rasa's.
   HOTLINE_CACHED_ACTION_VALIDATION=0 restores Rasa's own (for comparison).
5. **One HTTP connection pool per endpoint** for action-server calls
   (hotline.rasa.http_pool): Rasa opens a new aiohttp session per call.
6. **The domain without its responses to the action server.** Rasa 3.6
   sends the whole domain with every custom-action call: 122 KB of JSON
   here, 96 % of it the response texts, which the actions never read (an
   action names a response; Rasa renders it). Encoding it cost Rasa ~2.5 ms
   and decoding it cost the action server ~5.5 ms per call. The domain goes
   without ``responses``; intents, slots, forms and actions stay (the form
   validators read them). HOTLINE_ACTION_DOMAIN_RESPONSES=1 sends Rasa's
   whole domain again (for comparison, or for an action that reads texts).
3. **PostgreSQL restarts.** Rasa's SQLTrackerStore creates its engine
   without ``pool_pre_ping``; after a database restart the first use of each
   pooled connection would fail (Rasa then answers from a throw-away
   in-memory tracker). ``create_engine_kwargs`` is extended with
   ``pool_pre_ping=True`` for PostgreSQL, so a restart costs one ping.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional

from hotline import texts
from hotline.ops import metrics
from hotline.rasa import http_pool
from hotline.rasa.version_guard import require_rasa
from hotline import settings

logger = logging.getLogger(__name__)

DEGRADED_TEXT = texts.DEGRADED
DEGRADED_PHONE_SUFFIX = texts.DEGRADED_PHONE
DEGRADED_METADATA_KEY = "hotline_degraded"
ACTION_TIMEOUT_SECONDS = settings.get("ACTION_TIMEOUT_SECONDS")

_installed = False


def install() -> None:
    """Install all hooks (idempotent)."""
    global _installed
    if _installed:
        return
    require_rasa(__name__)
    from hotline.ops import jsonlog

    jsonlog.configure_if_requested()
    _install_pool_pre_ping()
    http_pool.install()
    if settings.get("HOTLINE_CACHED_ACTION_VALIDATION"):  # 0: Rasa's own, for comparison
        _install_cached_action_validation()
    _install_remote_action_wrapper()
    if not settings.get("HOTLINE_ACTION_DOMAIN_RESPONSES"):
        _install_domain_without_responses()
    _install_turn_metrics()
    _installed = True
    logger.info("production hooks installed (action degradation, turn metrics, pool_pre_ping, "
                "cached action-reply validation, domain without responses to the action server)")


# --- 3. PostgreSQL -------------------------------------------------------------

def _install_pool_pre_ping() -> None:
    import rasa.core.tracker_store as tracker_store

    original = tracker_store.create_engine_kwargs

    def create_engine_kwargs(url: Any) -> dict:
        kwargs = dict(original(url))
        if tracker_store.is_postgresql_url(url):
            kwargs["pool_pre_ping"] = True
            kwargs.setdefault("connect_args", {}).setdefault(
                "connect_timeout", settings.get("PG_CONNECT_TIMEOUT"))
        return kwargs

    create_engine_kwargs.__wrapped__ = original  # type: ignore[attr-defined]
    tracker_store.create_engine_kwargs = create_engine_kwargs


# --- 4. action-reply validation --------------------------------------------------

def _install_cached_action_validation() -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, "_hotline_wrapped", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    is_valid = _valid_by_event_type(schema, validator_class)

    def _validate_action_result(self: RemoteAction, result: Any) -> bool:
        try:
            if is_valid is None or not is_valid(result):
                validator.validate(result)  # Rasa's error for an invalid reply
            return True
        except jsonschema.ValidationError as e:
            e.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    _validate_action_result._hotline_wrapped = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


def _valid_by_event_type(schema: dict, validator_class: Any) -> Optional[Any]:
    """A check equal to ``schema`` that picks each event's branch by its type.

    Rasa's schema validates every event against ``oneOf`` 23 branches, each
    pinned to one ``event`` constant: jsonschema tries all 23 per event,
    ~12 % of a busy Rasa's CPU in bench/load.py. An event satisfies that
    ``oneOf`` exactly when it satisfies the branch of its own type, so each
    event is checked against ``allOf: [the common part, its branch]``.
    None when the schema no longer has that shape (then the full check runs).
    """
    try:
        events = schema["properties"]["events"]
        items = events["items"]
        branches = {branch["properties"]["event"]["const"]: branch for branch in items["oneOf"]}
    except (KeyError, TypeError):
        return None
    if len(branches) != len(items["oneOf"]) or "event" not in items.get("required", ()):
        return None
    common = {key: value for key, value in items.items() if key != "oneOf"}
    by_type = {name: validator_class({"allOf": [common, branch]}) for name, branch in branches.items()}
    outer = validator_class({**schema, "properties": {**schema["properties"],
                                                      "events": {k: v for k, v in events.items() if k != "items"}}})

    def is_valid(result: Any) -> bool:
        if not outer.is_valid(result):
            return False
        for event in (result.get("events") or []) if isinstance(result, dict) else []:
            check = by_type.get(event.get("event")) if isinstance(event, dict) else None
            if check is None or not check.is_valid(event):
                return False
        return True

    return is_valid


# --- 6. what the action server gets --------------------------------------------

def _install_domain_without_responses() -> None:
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._action_call_format, "_hotline_wrapped", False):
        return
    original = RemoteAction._action_call_format

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict:
        body = original(self, tracker, domain)
        if "domain" in body:
            # Domain.as_dict() is cached by Rasa: a shallow copy, never a change to it.
            body["domain"] = {key: value for key, value in body["domain"].items() if key != "responses"}
        return body

    _action_call_format._hotline_wrapped = True  # type: ignore[attr-defined]
    _action_call_format.__wrapped__ = original  # type: ignore[attr-defined]
    RemoteAction._action_call_format = _action_call_format  # type: ignore[assignment]


# --- 1. degradation ------------------------------------------------------------

def _failure_kind(error: BaseException) -> str:
    from aiohttp import ClientConnectionError

    if isinstance(error, asyncio.TimeoutError):
        return "timeout"
    cause = error.__cause__ or error.__context__
    # rasa.utils.endpoints.ClientResponseError (not aiohttp's) carries .status.
    status = getattr(cause, "status", None)
    if isinstance(status, int):
        return "http_5xx" if status >= 500 else "http_4xx"
    if isinstance(cause, (ClientConnectionError, OSError)) or "Couldn't connect" in str(error):
        return "unreachable"
    return "error"


def _already_degraded_this_turn(tracker: Any) -> bool:
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get(DEGRADED_METADATA_KEY):
            return True
    return False


def degraded_reply(tracker: Any) -> Any:
    from rasa.shared.core.events import BotUttered

    text = DEGRADED_TEXT
    phone = None
    try:
        # A caller is on the line already: never told to call it.
        if tracker.get_latest_input_channel() != "voice":
            phone = tracker.get_slot("hotline_phone")
    except Exception:
        phone = None
    if phone:
        text += DEGRADED_PHONE_SUFFIX.format(phone=phone)
    return BotUttered(text, metadata={DEGRADED_METADATA_KEY: True})


async def degraded_events(action_name: str, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
    from rasa.core.actions.action import ActionSessionStart
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActiveLoop, FollowupAction

    if action_name == "action_session_start":
        metrics.DEGRADED.labels("session_start_default").inc()
        return await ActionSessionStart().run(output_channel, nlg, tracker, domain)
    events: List[Any] = []
    if not _already_degraded_this_turn(tracker):
        metrics.DEGRADED.labels("action_failed").inc()
        events.append(degraded_reply(tracker))
    if action_name.startswith("validate_") and tracker.active_loop_name:
        events.append(ActiveLoop(None))
    # Listen next: the policies would otherwise go on predicting actions
    # that need the same unavailable server.
    events.append(FollowupAction(ACTION_LISTEN_NAME))
    return events


def _install_remote_action_wrapper() -> None:
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    if getattr(RemoteAction.run, "_hotline_wrapped", False):
        return
    original = RemoteAction.run

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        try:
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain),
                                          ACTION_TIMEOUT_SECONDS)
        except ActionExecutionRejection:
            raise
        except Exception as error:  # noqa: BLE001 — every failure gets the polite reply
            kind = _failure_kind(error)
            metrics.ACTION_ERRORS.labels(metrics._label(self.name()), kind).inc()
            logger.warning("custom action %s failed (%s); the citizen gets the degraded reply",
                           self.name(), kind)
            return await degraded_events(self.name(), output_channel, nlg, tracker, domain)

    run._hotline_wrapped = True  # type: ignore[attr-defined]
    run.__wrapped__ = original  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[assignment]


# --- 2. turn metrics -----------------------------------------------------------

def turn_events(tracker: Any) -> List[dict]:
    """Serialised events of the latest turn: the last user message and after."""
    from rasa.shared.core.events import UserUttered

    tail: List[Any] = []
    for event in reversed(tracker.events):
        tail.append(event)
        if isinstance(event, UserUttered):
            break
    return [event.as_dict() for event in reversed(tail)]


def _install_turn_metrics() -> None:
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor._run_prediction_loop, "_hotline_wrapped", False):
        return
    original = MessageProcessor._run_prediction_loop

    async def _run_prediction_loop(self: MessageProcessor, output_channel: Any, tracker: Any) -> Optional[Any]:
        try:
            return await original(self, output_channel, tracker)
        finally:
            try:
                metrics.count_turn(turn_events(tracker))
            except Exception:  # metrics never break a conversation
                logger.debug("turn metrics failed", exc_info=True)

    _run_prediction_loop._hotline_wrapped = True  # type: ignore[attr-defined]
    MessageProcessor._run_prediction_loop = _run_prediction_loop  # type: ignore[assignment]
