"""VK API client for the channel: `vk_api` (python273/vk_api) driven from
asyncio, with bounded retries and logs that never carry a token or a message.

`vk_api` is synchronous (requests); every call runs in a small thread pool.
The library posts to a fixed ``https://api.vk.ru/method/<name>``; a transport
adapter mounted on its `requests` session sends those calls to `api_url`
instead when one is configured (``VK_API_URL``: a self-hosted proxy, or the
local fake VK in the tests), and gives every call a timeout.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Dict, Iterable, List, Optional, Sequence

import requests
import vk_api
from jconfig.memory import MemoryConfig
from requests.adapters import HTTPAdapter
from vk_api.bot_longpoll import VkBotLongPoll

from connectors.vk.keyboard import PayloadStore, build_keyboards
from connectors.vk.text import split_text
from hotline import texts

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "5.199"
# The method URL prefixes vk_api uses (11.10 uses vk.ru, older ones vk.com).
LIBRARY_METHOD_URLS = ("https://api.vk.ru/method/", "https://api.vk.com/method/")

# Too many requests per second, flood control, internal server error.
RETRYABLE_CODES = {6: "too many requests per second", 9: "flood control", 10: "internal server error"}


def method_base_url(api_url: Optional[str]) -> Optional[str]:
    """``https://host[/prefix]`` or ``.../method/`` → ``.../method/``."""
    if not api_url:
        return None
    base = api_url.strip().rstrip("/")
    if not base.endswith("/method"):
        base += "/method"
    return base + "/"


def peer_ref(peer_id: Any) -> str:
    """A short, stable stand-in for a peer id in log lines (not the id)."""
    return "peer#" + hashlib.sha256(str(peer_id).encode()).hexdigest()[:8]


class Redactor:
    """Removes secrets from text bound for a log line."""

    _QUERY_SECRETS = re.compile(r"((?:access_token|key|secret|token)=)[^&\s'\"]+", re.I)

    def __init__(self, *secrets_: Optional[str]) -> None:
        self._secrets = [s for s in secrets_ if s and len(s) >= 4]

    def add(self, secret: Optional[str]) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)

    def __call__(self, text: Any) -> str:
        text = self._QUERY_SECRETS.sub(r"\1***", str(text))
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class VKApiError(Exception):
    """A VK API error after retries; carries no token and no parameters."""

    def __init__(self, method: str, code: Optional[int], message: str) -> None:
        super().__init__(f"{method}: [{code}] {message}")
        self.method = method
        self.code = code
        self.message = message


class _MethodURLAdapter(HTTPAdapter):
    """Sends vk_api's fixed method URLs to another base URL; adds timeouts."""

    def __init__(self, base_url: Optional[str], timeout: Any) -> None:
        super().__init__(pool_connections=4, pool_maxsize=8)
        self._base_url = base_url
        self._timeout = timeout

    def send(self, request, **kwargs):  # type: ignore[override]
        if self._base_url:
            for prefix in LIBRARY_METHOD_URLS:
                if request.url.startswith(prefix):
                    request.url = self._base_url + request.url[len(prefix):]
                    break
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def _api_session(base_url: Optional[str], timeout: Any) -> requests.Session:
    session = requests.Session()
    adapter = _MethodURLAdapter(base_url, timeout)
    for prefix in LIBRARY_METHOD_URLS:
        session.mount(prefix, adapter)
    return session


def new_random_id() -> int:
    """messages.send's `random_id`: a random non-zero 31-bit number.

    Generated once per message and reused by its retries, so VK drops a
    duplicate if an attempt that looked failed had in fact gone through.
    """
    return secrets.randbelow(2 ** 31 - 1) + 1


class VKClient:
    """The community's VK API: sends messages, opens Bots Long Poll."""

    def __init__(
        self,
        token: str,
        group_id: Optional[int] = None,
        api_url: Optional[str] = None,
        api_version: str = DEFAULT_API_VERSION,
        *,
        max_retries: int = 5,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 8.0,
        timeout: Any = (5, 30),
        workers: int = 4,
    ) -> None:
        if not token:
            raise ValueError("VK community token is empty (set VK_TOKEN)")
        self.group_id = group_id
        self.api_version = api_version
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self.redact = Redactor(token)
        self.payloads = PayloadStore()
        self._base_url = method_base_url(api_url)
        self._vk = vk_api.VkApiGroup(
            token=token, api_version=api_version, config=MemoryConfig,
            session=_api_session(self._base_url, timeout),
        )
        # The library sleeps and retries error 6 itself, without a bound;
        # errors 6, 9 and 10 are retried here instead, with a bounded backoff.
        self._vk.error_handlers.pop(vk_api.vk_api.TOO_MANY_RPS_CODE, None)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vk-api")

    @classmethod
    def from_env(cls, environ: Optional[Dict[str, str]] = None, **overrides: Any) -> "VKClient":
        from hotline import settings

        return cls(
            token=settings.get("VK_TOKEN", environ),
            group_id=settings.get("VK_GROUP_ID", environ),
            api_url=settings.get("VK_API_URL", environ) or None,
            api_version=settings.get("VK_API_VERSION", environ),
            **overrides,
        )

    # --- calls -----------------------------------------------------------

    def call_sync(self, method: str, params: Optional[Dict[str, Any]] = None) -> Any:
        """One call through vk_api, no retries (for worker threads)."""
        return self._vk.method(method, dict(params or {}))

    async def call(self, method: str, **params: Any) -> Any:
        """Call an API method; errors 6, 9, 10, network errors and HTTP 5xx
        are retried with exponential backoff (bounded), others raised."""
        loop = asyncio.get_running_loop()
        for attempt in range(self.max_retries + 1):
            try:
                return await loop.run_in_executor(self._executor, partial(self.call_sync, method, params))
            except vk_api.ApiError as error:
                code, text = error.code, str(error.error.get("error_msg", ""))
                retryable = code in RETRYABLE_CODES
            except vk_api.ApiHttpError as error:
                status = error.response.status_code
                code, text = None, f"HTTP {status}"
                retryable = status >= 500 or status == 429
            except vk_api.VkApiError as error:  # captcha, auth: never retried
                code, text, retryable = None, type(error).__name__, False
            except (requests.RequestException, ValueError) as error:
                code, text, retryable = None, type(error).__name__, True
            if not retryable or attempt == self.max_retries:
                logger.error("VK API %s failed: [%s] %s", method, code, self.redact(text))
                raise VKApiError(method, code, self.redact(text))
            delay = min(self.retry_max_delay, self.retry_base_delay * 2 ** attempt)
            delay *= 1 + random.random() * 0.2
            logger.warning("VK API %s: [%s] %s; retry %d/%d in %.2f s", method, code,
                           RETRYABLE_CODES.get(code, self.redact(text)), attempt + 1, self.max_retries, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def send_message(self, peer_id: int, text: str, keyboard: Optional[str] = None,
                           random_id: Optional[int] = None) -> Any:
        """One messages.send (text ≤ 4,096 characters)."""
        params: Dict[str, Any] = {
            "peer_id": int(peer_id),
            "random_id": random_id or new_random_id(),
            "message": text,
        }
        if keyboard:
            params["keyboard"] = keyboard
        return await self.call("messages.send", **params)

    async def send_text(self, peer_id: int, text: str, buttons: Optional[Sequence[Dict[str, Any]]] = None,
                        inline: bool = True, keyboard_supported: bool = True) -> List[Any]:
        """Send a reply: split at 4,096 characters, buttons as VK keyboards.

        Usable outside any incoming event (operator handoff, notifications).
        The keyboard goes with the last piece; buttons beyond one keyboard's
        capacity follow in further messages.
        """
        pieces = split_text(text)
        keyboards: List[str] = []
        if buttons:
            if keyboard_supported:
                keyboards = build_keyboards(buttons, self.payloads, inline=inline)
            else:  # a client without bot keyboards: list the options as text
                options = "\n".join(f"• {b.get('title')}" for b in buttons if b.get("title"))
                pieces = split_text("\n\n".join(p for p in (text.strip(), options) if p))
        if not pieces and keyboards:
            pieces = [texts.CHOOSE]
        sent = []
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            sent.append(await self.send_message(peer_id, piece, keyboards[0] if last and keyboards else None))
        for keyboard in keyboards[1:]:
            sent.append(await self.send_message(peer_id, texts.MORE_CHOICES, keyboard))
        return sent

    # --- Bots Long Poll ------------------------------------------------------

    def bot_longpoll(self, wait: int = 25) -> VkBotLongPoll:
        """A Bots Long Poll session (calls groups.getLongPollServer; blocking)."""
        if not self.group_id:
            raise ValueError("Bots Long Poll needs the community id (set VK_GROUP_ID)")
        return VkBotLongPoll(self._vk, self.group_id, wait=wait)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._vk.http.close()


_default_client: Optional[VKClient] = None


def set_default_client(client: Optional[VKClient]) -> None:
    global _default_client
    _default_client = client


def default_client() -> VKClient:
    """The running channel's client, else one built from the environment."""
    global _default_client
    if _default_client is None:
        _default_client = VKClient.from_env()
    return _default_client


async def send_text(peer_id: int, text: str, buttons: Optional[Iterable[Dict[str, Any]]] = None) -> List[Any]:
    """Send `text` to a VK peer from anywhere in the process (no incoming
    event needed), e.g. an operator's reply or a status notification."""
    return await default_client().send_text(peer_id, text, list(buttons) if buttons else None)
