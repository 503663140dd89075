"""«Активировать» and «откатить»: load a model into the running Rasa server
through its token-protected HTTP API, and go back to the previous one.

* ``PUT /model {"model_file": <path>}`` with ``Authorization: Bearer <JWT>``
  signed with Rasa's API key (hotline.rasa_api: RASA_API_TOKEN or
  var/rasa-api.secret). Rasa loads the new agent first and swaps it in only
  when it loaded, so a failed load leaves the old model answering. The key
  and the tokens stay in this process: the browser only ever sends a job id.
* After the load ``GET /status`` must name the new file, else the activation
  counts as failed.
* The model a request activates is a workbench candidate (``<state>/models``)
  named by the job, never a path from the browser; the one to roll back to is
  the one this module replaced, kept in ``<state>/activation.json`` with the
  history of activations (who, when, which file).
* Several Rasa instances (the production profile's) get the same model in
  turn; when one fails, those already switched are switched back.
* After a restart Rasa loads the model of the project's current data
  (scripts/run.sh, hotline.nlu.training). An activated model trained from
  that same data is copied into models/ under its fingerprinted name
  (``keep_for_restart``), so the restart loads it instead of training it
  again; any other activation lasts until the restart, which the page says.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from workbench.jobs import copy_file, mask_line, read_json, write_json

TIMEOUT_S = 300  # loading a model takes seconds; a slow disk or a busy machine more


class ActivationError(Exception):
    """The model was not switched; ``str()`` is the message for the trainer."""


class Activation:
    def __init__(self, state: Path, rasa_urls: Sequence[str] | str, model_dirs: Iterable[Path],
                 key: Optional[str] = None, timeout: float = TIMEOUT_S) -> None:
        from hotline.rasa_api import BearerAuth

        self.state = Path(state)
        self.urls = [u.rstrip("/") for u in ([rasa_urls] if isinstance(rasa_urls, str) else rasa_urls) if u]
        self.model_dirs = [Path(d) for d in model_dirs]
        self.auth = BearerAuth(key)
        self.timeout = timeout

    @property
    def record_path(self) -> Path:
        return self.state / "activation.json"

    def record(self) -> Dict[str, Any]:
        return read_json(self.record_path) or {"previous": None, "active": None, "history": []}

    # --- what runs now ---

    def _request(self, method: str, url: str, **kwargs: Any):
        import requests

        try:
            reply = requests.request(method, url, auth=self.auth, timeout=kwargs.pop("timeout", 30), **kwargs)
        except requests.RequestException:
            raise ActivationError(f"Сервер Rasa ({url.split('/', 3)[2]}) не отвечает. "
                                  "Проверьте, что ассистент запущен (make run).") from None
        if reply.status_code in (401, 403):
            raise ActivationError("Сервер Rasa не принял ключ API мастерской: у них разные ключи "
                                  "(RASA_API_TOKEN или var/rasa-api.secret). Модель не менялась.")
        return reply

    def running_name(self, url: Optional[str] = None) -> str:
        """The file name of the model the server runs (Rasa reports the base name)."""
        reply = self._request("GET", f"{url or self.urls[0]}/status")
        if reply.status_code == 409:
            return ""  # Rasa's answer when no model is loaded
        if reply.status_code != 200:
            raise ActivationError(f"Сервер Rasa ответил на запрос о модели кодом {reply.status_code}.")
        return str(reply.json().get("model_file") or "")

    def locate(self, name: str) -> Optional[Path]:
        """The archive of that name: the recorded one first, then the model folders."""
        if not name or Path(name).name != name:
            return None
        record = self.record()
        for recorded in (record.get("active"), record.get("previous")):
            if recorded and Path(recorded).name == name and Path(recorded).is_file():
                return Path(recorded)
        for folder in self.model_dirs:
            if (folder / name).is_file():
                return folder / name
        return None

    def parse(self, text: str) -> Dict[str, Any]:
        """The running model's reading of a phrase (Rasa's /model/parse; nothing is stored)."""
        reply = self._request("POST", f"{self.urls[0]}/model/parse", json={"text": text})
        if reply.status_code != 200:
            raise ActivationError(f"Сервер Rasa не разобрал фразу (код {reply.status_code}).")
        return reply.json()

    def running_path(self) -> Optional[Path]:
        return self.locate(self.running_name())

    # --- switching ---

    def activate(self, model: Path, by: str) -> Dict[str, Any]:
        """Load ``model`` (a file in one of the model folders) into every server."""
        model = Path(model).resolve()
        if not model.is_file() or not any(model.parent == d.resolve() for d in self.model_dirs):
            raise ActivationError("Такой модели нет среди обученных мастерской.")
        with self._lock():
            running = self.running_name()
            if running == model.name:
                raise ActivationError(f"Эта модель ({model.name}) уже работает: менять нечего.")
            previous = self.locate(running)
            if previous is None and running:
                raise ActivationError(f"Файл работающей модели {running} не найден, поэтому откатиться к ней "
                                      "будет нельзя. Модель не менялась.")
            self._switch(model, previous)
            return self._remember("activate", by, model, previous)

    def rollback(self, by: str) -> Dict[str, Any]:
        """Back to the model the last activation (or rollback) replaced."""
        with self._lock():
            record = self.record()
            previous = Path(record["previous"]) if record.get("previous") else None
            if previous is None:
                raise ActivationError("Откатываться не к чему: мастерская ещё не меняла модель сервера.")
            if not previous.is_file():
                raise ActivationError(f"Файла предыдущей модели {previous.name} больше нет. Модель не менялась.")
            running = self.running_name()
            if running == previous.name:
                raise ActivationError(f"Предыдущая модель ({previous.name}) уже работает: откатываться не нужно.")
            current = self.locate(running)
            self._switch(previous, current)
            return self._remember("rollback", by, previous, current)

    def _switch(self, model: Path, previous: Optional[Path]) -> None:
        switched: List[str] = []
        try:
            for url in self.urls:
                self._load(url, model)
                switched.append(url)
        except ActivationError as error:
            undone = True
            for url in switched:
                try:
                    if previous is not None:
                        self._load(url, previous)
                except ActivationError:
                    undone = False
            if switched and (previous is None or not undone):
                raise ActivationError(f"{error} Часть серверов уже получила новую модель и не вернулась "
                                      "к прежней: нажмите «откатить» или перезапустите ассистента.") from None
            raise

    def _load(self, url: str, model: Path) -> None:
        reply = self._request("PUT", f"{url}/model", json={"model_file": str(model)}, timeout=self.timeout)
        if reply.status_code not in (200, 204):
            try:
                detail = str(reply.json().get("message") or "")
            except ValueError:
                detail = reply.text
            raise ActivationError(f"Сервер Rasa не загрузил модель {model.name} (код {reply.status_code}: "
                                  f"{mask_line(detail)[:300]}). Работает прежняя модель.")
        running = self.running_name(url)
        if running != model.name:
            raise ActivationError(f"После загрузки сервер Rasa сообщает о модели «{running}», а не {model.name}.")

    def _remember(self, action: str, by: str, model: Path, previous: Optional[Path]) -> Dict[str, Any]:
        record = self.record()
        entry = {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "by": by,
                 "action": action, "model": model.name, "previous": previous.name if previous else None}
        record.update(active=str(model), previous=str(previous) if previous else None,
                      history=([entry] + list(record.get("history") or []))[:50])
        self.state.mkdir(parents=True, exist_ok=True)
        write_json(self.record_path, record)
        return entry

    def _lock(self):
        """Two trainers clicking at once switch one after the other."""
        self.state.mkdir(parents=True, exist_ok=True)
        return _FileLock(self.state / "activation.lock")


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> "_FileLock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: Any) -> None:
        os.close(self.fd)


def keep_for_restart(model: Path, project: Path) -> bool:
    """Copy an activated model into the project's models/ when it is the model
    of the current data (same fingerprinted name); a file there is never replaced."""
    from hotline.nlu.training import model_path, training_seconds_file

    target = model_path(root=project)
    if target.name != Path(model).name or target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_file(Path(model), target)
    seconds = training_seconds_file(Path(model))
    if seconds.exists() and not training_seconds_file(target).exists():
        copy_file(seconds, training_seconds_file(target))
    return True
