"""«Активировать» and «откатить» against a real Rasa server (the session's,
started with its API locked by a key): the new model answers after the
switch, rollback brings the previous one back, and refusals change nothing."""
from __future__ import annotations

import shutil

import pytest
import requests

from workbench.activation import Activation, ActivationError

CANDIDATE = "hotline-0123456789abcdef.tar.gz"


@pytest.fixture
def rasa(servers, trained_model):
    """The session's server; whatever a test switched, it runs the session's model afterwards."""
    yield servers
    requests.put(f"{servers.url}/model", json={"model_file": str(trained_model)}, auth=servers.auth, timeout=300)


def running(servers) -> str:
    return requests.get(f"{servers.url}/status", auth=servers.auth, timeout=30).json()["model_file"]


def test_activation_switches_the_model_and_rollback_restores_it(rasa, trained_model, tmp_path):
    state = tmp_path / "state"
    (state / "models").mkdir(parents=True)
    candidate = state / "models" / CANDIDATE
    shutil.copy2(trained_model, candidate)
    activation = Activation(state, rasa.url, [state / "models", trained_model.parent], key=rasa.api_key)
    assert running(rasa) == trained_model.name

    entry = activation.activate(candidate, by="petrova")
    assert entry["model"] == CANDIDATE and entry["previous"] == trained_model.name
    assert running(rasa) == CANDIDATE
    assert rasa.send("activation-check", "здравствуйте"), "the new model answers"

    back = activation.rollback(by="petrova")
    assert (back["action"], back["model"]) == ("rollback", trained_model.name)
    assert running(rasa) == trained_model.name
    history = activation.record()["history"]
    assert [(h["action"], h["model"], h["by"]) for h in history] == [
        ("rollback", trained_model.name, "petrova"), ("activate", CANDIDATE, "petrova")]


def test_refusals_leave_the_running_model(rasa, trained_model, tmp_path):
    state = tmp_path / "state"
    (state / "models").mkdir(parents=True)
    candidate = state / "models" / CANDIDATE
    shutil.copy2(trained_model, candidate)
    dirs = [state / "models", trained_model.parent]

    with pytest.raises(ActivationError, match="не принял ключ API"):
        Activation(state, rasa.url, dirs, key="another-key").activate(candidate, by="x")
    with pytest.raises(ActivationError, match="Такой модели нет"):
        Activation(state, rasa.url, dirs, key=rasa.api_key).activate(tmp_path / "elsewhere.tar.gz", by="x")
    with pytest.raises(ActivationError, match="уже работает"):
        Activation(state, rasa.url, dirs, key=rasa.api_key).activate(trained_model, by="x")
    with pytest.raises(ActivationError, match="Откатываться не к чему"):
        Activation(state, rasa.url, dirs, key=rasa.api_key).rollback(by="x")
    broken = state / "models" / "hotline-broken.tar.gz"
    broken.write_bytes(b"not a model")
    with pytest.raises(ActivationError, match="не загрузил модель hotline-broken.tar.gz"):
        Activation(state, rasa.url, dirs, key=rasa.api_key).activate(broken, by="x")
    assert running(rasa) == trained_model.name
    assert not (state / "activation.json").exists()



def test_a_model_of_the_current_data_is_kept_for_the_restart(project_dir, tmp_path):
    from hotline.nlu.training import model_path
    from workbench.activation import keep_for_restart

    current = model_path(root=project_dir)
    candidate = tmp_path / "state" / "models" / current.name
    candidate.parent.mkdir(parents=True)
    candidate.write_bytes(b"the model of the current data")
    other = candidate.with_name("hotline-0000000000000000.tar.gz")
    other.write_bytes(b"a model of older data")

    assert not keep_for_restart(other, project_dir)
    assert keep_for_restart(candidate, project_dir)
    assert current.read_bytes() == b"the model of the current data"
    candidate.write_bytes(b"retrained")
    assert not keep_for_restart(candidate, project_dir), "a model make run already has is never replaced"
    assert current.read_bytes() == b"the model of the current data"
