"""Status checks over the REST webhook against the running servers and a
store filled by the import command."""
from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def _text(replies):
    return " ".join(r.get("text", "") for r in replies)


def test_imported_application_status_over_rest(servers, tmp_path):
    csv = tmp_path / "department.csv"
    csv.write_text(
        "application_number,full_name,birth_date,service,status,submitted_at,expected_at,missing_documents,instructions\n"
        "XK-556677889,Смирнова Ольга Петровна,1979-11-05,pension,approved,2026-10-01,2026-12-20,,"
        "Пенсия будет назначена с даты обращения.\n",
        encoding="utf-8",
    )
    database_url = servers.extra_env["DATABASE_URL"]
    result = subprocess.run([sys.executable, "-m", "hotline.status", "import", str(csv), "--database-url", database_url],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

    asked = _text(servers.send("rest-status", "какой статус у заявления xk‑556677889"))
    assert "фамилию" in asked  # the number was given up front: not asked again
    assert "дату рождения" in _text(servers.send("rest-status", "Смирновой"))
    answer = _text(servers.send("rest-status", "5 ноября 1979"))
    assert "одобрено" in answer
    assert "20 декабря 2026 года" in answer
    assert "Назначение пенсии" in answer


def test_number_asked_then_bad_format_then_wrong_date(servers):
    assert "номер заявления" in _text(servers.send("rest-status-2", "хочу узнать статус заявки"))
    assert "Это не похоже на номер" in _text(servers.send("rest-status-2", "12345"))
    assert "фамилию" in _text(servers.send("rest-status-2", "1234567890"))
    assert "дату рождения" in _text(servers.send("rest-status-2", "Иванов"))
    answer = _text(servers.send("rest-status-2", "01.01.1950"))
    assert "Не удалось найти заявление" in answer
    assert "в обработке" not in answer


def test_citizen_can_stop_the_check(servers):
    servers.send("rest-status-3", "проверить статус заявления")
    answer = _text(servers.send("rest-status-3", "отмена"))
    assert "личном кабинете" in answer


def test_birth_date_is_not_stored_in_plain_text(servers):
    import sqlite3
    servers.send("rest-status-4", "статус заявки AB-987654321")
    servers.send("rest-status-4", "петрова анна")
    answer = _text(servers.send("rest-status-4", "01.07.1990"))
    assert "требуются дополнительные документы" in answer
    db = sqlite3.connect(servers.workdir / "tracker.db")
    stored = " ".join(row[0] for row in db.execute("select data from events where sender_id = 'rest_rest-status-4'"))
    assert "AB-987654321" in stored
    assert "01.07.1990" not in stored and "1990-07-01" not in stored
    assert "етрова" not in stored and "анна" not in stored


def test_personal_data_never_reaches_the_logs(servers):
    servers.send("rest-status-5", "статус заявки AB-987654321")
    servers.send("rest-status-5", "Петрова")
    servers.send("rest-status-5", "1 июля 1990")
    logs = servers.logs()
    assert "1 июля 1990" not in logs and "1990-07-01" not in logs and "01.07.1990" not in logs
    assert "Петрова" not in logs
