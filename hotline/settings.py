"""One typed reader of the environment, and the catalogue of every variable
the project's code reads (hotline/, connectors/, handoff/, voice/).

Each variable is declared once with its type, its default and one line of
documentation; modules read it with ``get(NAME)`` (or ``get(NAME, env)``
with a mapping that tests build). A value that does not parse stops the
process with the variable's name instead of being silently replaced by the
default: a deployer who typed RATE_LIMIT_MESSAGES=2O should learn it at
start, not from citizens.

Secrets (tokens, passwords, keys) are catalogued like the rest, but their
values are never printed; where a secret may also come from a file
(hotline.secret_files) or a channel's credentials.yml block, that reader
keeps its order and only reads the environment through here.

    python -m hotline.settings      prints every variable, its default and its doc
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional


class SettingError(ValueError):
    """An environment variable holds a value of the wrong type."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on", "да"):
        return True
    if value in ("0", "false", "no", "off", "нет"):
        return False
    raise ValueError(raw)


@dataclass(frozen=True)
class Setting:
    name: str
    cast: Callable[[str], Any]
    default: Any
    doc: str
    # Set to the empty string means "none" rather than "the default".
    keep_empty: bool = False


CATALOGUE: Dict[str, Setting] = {}


def _declare(name: str, cast: Callable[[str], Any], default: Any, doc: str, keep_empty: bool = False) -> None:
    CATALOGUE[name] = Setting(name, cast, default, doc, keep_empty)


# Databases
_declare("DATABASE_URL", str, "sqlite:///var/status.db",
         "the project's database (status store, handoff queue, audit); relative SQLite paths from the repo root")
_declare("TRACKER_DATABASE_URL", str, "sqlite:///var/tracker.db",
         "Rasa's tracker store, for retention jobs and the trainers' workbench")
# Channels' guard (hotline.rasa.channels)
_declare("MAX_MESSAGE_CHARS", int, 1000, "longer messages get a polite answer and are not processed")
_declare("RATE_LIMIT_MESSAGES", int, 20, "messages one conversation may send per window")
_declare("RATE_LIMIT_WINDOW_SECONDS", int, 60, "the rate limit's window")
_declare("REDIS_URL", str, "",
         "shared rate-limit counters and widget socket.io emits of all Rasa processes; empty: each process alone")
# Rasa hooks (hotline.rasa.hooks)
_declare("ACTION_TIMEOUT_SECONDS", float, 10.0, "a custom action taking longer gets the polite degraded reply")
_declare("HOTLINE_CACHED_ACTION_VALIDATION", _bool, True,
         "validate action replies with one compiled schema (0: Rasa's own, for comparison)")
_declare("PG_CONNECT_TIMEOUT", int, 5, "seconds before a PostgreSQL connection attempt fails")
_declare("HOTLINE_FAST_TRACKER_STORE", _bool, True,
         "one read and one insert of new events per message (0: Rasa's save, for comparison)")
_declare("HOTLINE_ACTION_DOMAIN_RESPONSES", _bool, False,
         "send the domain's response texts with every custom-action call (Rasa's default; off: ~96 % smaller)")
_declare("HOTLINE_POOLED_HTTP", _bool, True, "one pooled HTTP session to the action server (0: Rasa's own)")
# Health, logs
_declare("HEALTH_CHECK_TIMEOUT", float, 2.0, "seconds each dependency probe of /ops/health may take")
_declare("ACTION_HEALTH_URL", str, "", "the action server's /health, probed by each Rasa instance")
_declare("HOTLINE_SERVICE", str, "hotline", "service name in JSON log lines and health answers")
_declare("HOTLINE_INSTANCE", str, "", "instance name in JSON log lines and health answers (default: the pid)")
_declare("HOTLINE_JSON_LOGS", _bool, False, "JSON log lines without personal data (hotline.ops.jsonlog)")
_declare("LOG_LEVEL", str, "INFO", "log level of the JSON logs")
# Action server
_declare("ACTION_PORT", int, 5055, "the action server's port")
_declare("ACTION_HOST", str, "127.0.0.1", "the action server's address (loopback by default)")
# Retention (hotline.ops.retention)
_declare("RETENTION_DAYS", int, 90, "conversations and handoff tickets older than this are purged")
_declare("APPLICATION_RETENTION_DAYS", int, 365, "finished applications unchanged this long are purged (0 keeps)")
_declare("RETENTION_OPERATOR", str, "", "who runs a retention command, for the audit row (default: the OS user)")
# Channel inbox (connectors/inbox.py)
_declare("INBOX_LEASE_SECONDS", float, 30.0, "how long a process owns an accepted update before another may retry it")
# Trainers' workbench (workbench/, issue 15)
_declare("WORKBENCH_HOST", str, "127.0.0.1", "the trainers' workbench address (loopback by default: an internal tool)")
_declare("WORKBENCH_PORT", int, 5078, "the trainers' workbench port")
_declare("WORKBENCH_PROJECT_DIR", str, "",
         "the project copy whose data/, domain.yml and tests/ the workbench edits (default: this repository)")
_declare("WORKBENCH_KEEP_MODELS", int, 5,
         "candidate models the workbench keeps in var/workbench/models besides the active and the previous one")
# Production supervisor (hotline.ops.supervisor)
_declare("PROD_DIR", str, "", "the production profile's working directory (default var/prod)")
_declare("RASA_INSTANCES", int, 2, "Rasa instances of the production profile")
_declare("PROD_NGINX_PORT", int, 8080, "nginx port of the production profile")
_declare("PROD_RASA_PORT", int, 5105, "first Rasa port (+1 per instance)")
_declare("PROD_ACTION_PORT", int, 5155, "first action server port (+1 per instance)")
_declare("PROD_ACTIONS_LB_PORT", int, 5150, "nginx's port in front of the action servers")
_declare("PROD_PG_PORT", int, 5433, "PostgreSQL port of the production profile")
_declare("PROD_REDIS_PORT", int, 6380, "Redis port of the production profile")
_declare("PG_PASSWORD", str, "", "secret: PostgreSQL password of the production profile (default: var/prod/secrets/)")
_declare("REDIS_PASSWORD", str, "", "secret: Redis password of the production profile (default: var/prod/secrets/)")
_declare("NGINX_REST_IP_RATE", int, 50, "REST requests per second per client address at nginx")
_declare("NGINX_REST_IP_BURST", int, 100, "burst above that rate")
_declare("HOTLINE_CREDENTIALS", str, "", "the credentials file Rasa opens (default credentials.yml)")
# Rasa server (hotline.rasa_server, hotline.rasa_api) and the pollers that feed its webhooks
_declare("RASA_PORT", int, 5005, "the local Rasa server's port (pollers' and the console's default target)")
_declare("RASA_HOST", str, "", "the address Rasa listens on (default: Rasa's own)")
_declare("RASA_API_TOKEN", str, "", "secret: Rasa's HTTP API key (default: var/rasa-api.secret)")
# Web widget (connectors/webchat, hotline.origins)
_declare("WEBCHAT_ALLOWED_ORIGINS", str, "", "page origins that may embed the widget, comma separated (default: the demo page)")
_declare("WEBCHAT_PORT", int, 8080, "the demo page's port (make run)")
_declare("WEBCHAT_SECRET", str, "", "secret: key signing widget sessions (default: var/webchat.secret)")
# Telegram (connectors/telegram; a credentials.yml value wins over these)
_declare("TELEGRAM_TOKEN", str, "", "secret: the bot's token; empty: the channel is off")
_declare("TELEGRAM_API_URL", str, "https://api.telegram.org", "the Bot API server")
_declare("TELEGRAM_WEBHOOK_URL", str, "", "public HTTPS URL of the webhook, registered at start (empty: not registered)")
_declare("TELEGRAM_WEBHOOK_SECRET", str, "", "secret: the webhook's secret token (default: derived from the token)")
_declare("TELEGRAM_FORWARD_URL", str, "", "where the poller forwards updates (default: the local Rasa's webhook)")
_declare("TELEGRAM_POLL_TIMEOUT", int, 25, "getUpdates long-poll timeout, seconds")
# MAX (connectors/max; a credentials.yml value wins over these)
_declare("MAX_TOKEN", str, "", "secret: the bot's token; empty: the channel is off")
_declare("MAX_API_URL", str, "https://platform-api.max.ru", "the MAX Bot API server")
_declare("MAX_WEBHOOK_URL", str, "", "public HTTPS URL of the webhook, subscribed at start (empty: not subscribed)")
_declare("MAX_WEBHOOK_SECRET", str, "", "secret: the subscription's secret (default: derived from the token)")
_declare("MAX_SEND_ATTEMPTS", int, 5, "attempts to send one message (429/5xx are retried)")
_declare("MAX_RETRY_BASE_DELAY", float, 0.5, "first pause between send attempts, seconds (doubles)")
_declare("MAX_FORWARD_URL", str, "", "where the poller forwards updates (default: the local Rasa's webhook)")
_declare("MAX_POLL_TIMEOUT", int, 25, "/updates long-poll timeout, seconds")
_declare("MAX_MARKER_FILE", str, "", "the poller's last forwarded marker (default var/max_polling.marker)")
# VK (connectors/vk; a credentials.yml value wins over these)
_declare("VK_TOKEN", str, "", "secret: the community's token; empty: the channel is off")
_declare("VK_GROUP_ID", int, None, "the community's id")
_declare("VK_CONFIRMATION", str, "", "secret: the string that confirms the Callback API address")
_declare("VK_SECRET", str, "", "secret: the Callback API secret key")
_declare("VK_API_URL", str, "", "the VK API server (default: VK's own)")
_declare("VK_API_VERSION", str, "5.199", "the VK API version")
_declare("VK_MODE", str, "callback", "callback (VK posts events) or longpoll (Bots Long Poll)")
_declare("VK_LONGPOLL_WAIT", int, 25, "Bots Long Poll wait, seconds")
_declare("VK_MAX_RETRIES", int, 5, "attempts of one API call on errors 6/9/10 and network failures")
_declare("VK_RETRY_BASE_DELAY", float, 0.5, "first pause between API attempts, seconds (doubles)")
# Contacts told to citizens (handoff.contacts; domain.yml has the defaults)
_declare("HOTLINE_PHONE", str, "", "the hotline's phone number (default: domain.yml)")
_declare("HOTLINE_HOURS", str, "", "the hotline's hours (default: domain.yml)")
_declare("OPERATOR_HOURS", str, "", "operators' hours as told (default: from HANDOFF_HOURS, else domain.yml)")
_declare("SUPPORT_EMAIL", str, "", "the support e-mail address (default: domain.yml)")
_declare("PORTAL_URL", str, "", "the portal's address (default: domain.yml)")
# Handoff (handoff.config)
_declare("HANDOFF_HOURS", str, "", "operators' hours, e.g. «пн-пт 09:00-18:00; сб 10:00-14:00» or 24/7 (empty: not told)")
_declare("HANDOFF_TZ", str, "Europe/Moscow", "the time zone of HANDOFF_HOURS")
_declare("HANDOFF_HOLIDAYS", str, "", "days without operators (dates, comma separated)")
_declare("HANDOFF_CALLBACKS", _bool, False, "offer a call back outside the hours")
_declare("HANDOFF_CHATS_PER_OPERATOR", int, 2, "chats one operator handles at once (wait estimate)")
_declare("HANDOFF_DEFAULT_HANDLING_MIN", float, 6.0, "handling time assumed before there are figures, minutes")
_declare("HANDOFF_WAIT_NOTICE_MIN", float, 3.0, "a waiting citizen hears again when the estimate grew this much, minutes")
_declare("HANDOFF_CONSOLE_HOST", str, "127.0.0.1", "the operators' console address (loopback by default)")
_declare("HANDOFF_CONSOLE_PORT", int, 5077, "the operators' console port")
_declare("HANDOFF_RASA_URL", str, "", "the Rasa server the console talks to (default http://localhost:$RASA_PORT)")
_declare("HANDOFF_SESSION_IDLE_MIN", float, 30.0, "a console session idle this long ends, minutes")
_declare("HANDOFF_SESSION_MAX_HOURS", float, 12.0, "a console session ends after this long, hours")
_declare("HANDOFF_SECURE_COOKIES", _bool, True, "console cookies only over HTTPS (0 for plain-HTTP localhost)")
_declare("HANDOFF_LOGIN_MAX_FAILURES", int, 5, "free sign-in failures per login and address")
_declare("HANDOFF_LOGIN_ADDRESS_MAX_FAILURES", int, 20, "free sign-in failures per address")
_declare("HANDOFF_LOGIN_LOCK_SEC", float, 60.0, "the first sign-in lock, seconds (doubles)")
_declare("HANDOFF_LOGIN_LOCK_MAX_MIN", float, 60.0, "the longest sign-in lock, minutes")
_declare("HANDOFF_LOGIN_FORGET_HOURS", float, 24.0, "sign-in failures this old are forgotten, hours")
_declare("HANDOFF_TRUSTED_PROXIES", str, "", "proxies whose X-Forwarded-For is believed (addresses or networks, comma separated)")
_declare("HANDOFF_WORKER_INTERVAL", float, 0.3, "the console's delivery worker's pause, seconds")
_declare("HANDOFF_TG_TOKEN", str, "", "secret: the operators' Telegram bot token (empty: no Telegram workspace)")
_declare("HANDOFF_TG_CHAT_ID", int, 0, "the operators' Telegram group (forum) id")
_declare("HANDOFF_TG_API_URL", str, "https://api.telegram.org", "the Bot API server of the operators' bot")
_declare("HANDOFF_SECRET", str, "", "secret: shared by the console and Rasa's handoff channel (default: var/handoff.secret)")
_declare("HANDOFF_PASSWORD", str, "", "secret: the password `handoff.admin add` gives (default: generated and printed once)")
_declare("HANDOFF_PICKUP_PER_CONVERSATION", int, 2, "concurrent REST pickup long polls per conversation")
_declare("HANDOFF_PICKUP_MAX_POLLS", int, 100, "concurrent REST pickup long polls per process")
# Phone (voice/)
_declare("VOICE_RASA_URL", str, "http://localhost:5005", "the Rasa server the phone server talks to")
_declare("VOICE_RASA_CHANNEL", str, "voice", "webhook: voice (voice/channel.py) or rest")
_declare("VOICE_MODELS_DIR", str, "", "where voice models are downloaded (default models/voice)")
_declare("VOICE_VOSK_MODEL", str, "", "the unpacked Vosk model directory (default $VOICE_MODELS_DIR/vosk-model-small-ru-0.22)")
_declare("VOICE_VOSK_SHA256", str, "", "the Vosk archive's pinned checksum (see voice.model_download --pin)")
_declare("VOICE_ASR_RATE", int, None, "rate the recogniser is fed (default: the model's); 8000 for a narrowband model")
_declare("VOICE_ASR_WARM", int, 2, "recognisers warmed at start (the first decode is slow)")
_declare("VOICE_TTS", str, "espeak", "speech synthesis: espeak or silero")
_declare("VOICE_SILERO_MODEL", str, "", "the Silero torch.package file (default $VOICE_MODELS_DIR/silero/v4_ru.pt)")
_declare("VOICE_SILERO_SHA256", str, "", "the Silero file's pinned checksum")
_declare("VOICE_SILERO_SPEAKER", str, "xenia", "aidar, baya, kseniya, xenia or eugene")
_declare("VOICE_SILERO_RATE", int, 8000, "8000, 24000 or 48000")
_declare("VOICE_TTS_CACHE", str, None, "directory of cached sentences (default var/voice/tts-cache; set empty: memory only)",
         keep_empty=True)
_declare("VOICE_HOST", str, "127.0.0.1", "the AudioSocket listener's address (the dispositions' too)")
_declare("VOICE_PORT", int, 9092, "the AudioSocket listener's port")
_declare("VOICE_HTTP_PORT", int, 9093, "call dispositions for the dialplan (0: off)")
_declare("VOICE_ALLOWED_PEERS", str, "127.0.0.1,::1", "PBX addresses allowed to connect, comma separated")
_declare("VOICE_MAX_CALLS", int, 4, "concurrent calls; more hear a busy prompt")
_declare("VOICE_CHANNEL_TOKEN", str, "", "secret: the phone server's key to Rasa's voice webhook (default: var/voice-channel.secret)")
_declare("VOICE_NO_INPUT_S", float, 8.0, "silence before the re-prompt, seconds")
_declare("VOICE_END_SILENCE_MS", int, 700, "silence that ends the caller's turn, ms")
_declare("VOICE_BARGE_IN_MS", int, 100, "speech that interrupts the bot, ms")


def get(name: str, env: Optional[Mapping[str, str]] = None) -> Any:
    """The typed value of a catalogued variable; unset or empty gives the default."""
    setting = CATALOGUE[name]
    raw = (os.environ if env is None else env).get(name)
    raw = None if raw is None else str(raw)
    if raw is not None and raw.strip() == "" and setting.keep_empty:
        return ""
    if raw is None or raw.strip() == "":
        return setting.default
    try:
        return setting.cast(raw.strip())
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a valid {setting.cast.__name__.strip('_')}: {setting.doc}") from None


def main() -> int:
    for setting in CATALOGUE.values():
        print(f"{setting.name:34} {str(setting.default)!r:28} {setting.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
