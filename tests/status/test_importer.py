"""The department CSV import, its command line and the demo data."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from hotline.status import STATUSES, count_applications, find_application, verify
from hotline.status.cli import main
from hotline.status.demo import DEMO_CSV, load_demo
from hotline.status.importer import CsvFormatError, import_csv
from hotline.status.repository import status_history_of
from hotline.db.engine import ROOT


def history(url, number):
    return [(h.old_status, h.new_status, h.source) for h in status_history_of(number, url=url)]


def test_import_of_good_rows(store, write_csv, row):
    path = write_csv(
        row(),
        row(number="ab987654321", full_name="  Петрова   Анна Сергеевна ", birth_date="1990-07-01",
            service="snils", status="needs_documents", expected_at="",
            missing_documents=" Паспорт ;; Заявление; ", instructions="Дополните заявление, «как положено»."),
        "",  # blank lines are not rows
        row(number="KM-204518736", status="approved"),
        bom=True,  # as Excel saves "CSV UTF-8"
    )
    report = import_csv(path, store)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    assert report.errors == []
    view = verify("AB-987654321", dt.date(1990, 7, 1), "Петрова", url=store)
    assert view.applicant_full_name == "Петрова Анна Сергеевна"
    assert view.missing_documents == ["Паспорт", "Заявление"]
    assert view.instructions == "Дополните заявление, «как положено»."
    assert view.expected_at is None
    assert count_applications(url=store) == 3
    assert history(store, "AB-987654321") == [(None, "needs_documents", "import")]


def test_reimport_updates_in_place_and_records_only_status_changes(store, write_csv, row):
    import_csv(write_csv(row(), row(number="AB-987654321", status="submitted")), store)
    again = import_csv(write_csv(row(), row(number="AB-987654321", status="submitted")), store)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)

    changed = import_csv(write_csv(
        row(expected_at="2027-01-15", missing_documents="Фото", instructions="Принесите фото."),
        row(number="AB-987654321", status="needs_documents", missing_documents="СНИЛС"),
    ), store)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 0)
    assert count_applications(url=store) == 2
    first = find_application("1234567890", url=store)
    assert (first.expected_at, first.missing_documents, first.instructions) == (
        dt.date(2027, 1, 15), ["Фото"], "Принесите фото.")
    assert history(store, "1234567890") == [(None, "in_progress", "import")]
    assert history(store, "AB-987654321") == [
        (None, "submitted", "import"), ("submitted", "needs_documents", "import")]

    import_csv(write_csv(row(full_name="Иванов Иван Петрович", birth_date="1985-03-13", status="approved")), store)
    updated = find_application("1234567890", url=store)
    assert updated.missing_documents == [] and updated.status == "approved"
    assert verify("1234567890", dt.date(1985, 3, 13), "иванов иван петрович", url=store) is not None
    assert history(store, "1234567890")[-1] == ("in_progress", "approved", "import")


def test_batches_split_the_work_without_changing_the_result(store, write_csv, row):
    numbers = [f"10000000{i:02d}" for i in range(10)]
    import_csv(write_csv(*(row(number=n) for n in numbers[:5])), store, batch_size=3)
    report = import_csv(write_csv(*(row(number=n, missing_documents="А;Б") for n in numbers)), store, batch_size=3)
    assert (report.created, report.updated, report.unchanged) == (5, 5, 0)
    assert count_applications(url=store) == 10
    assert find_application(numbers[-1], url=store).missing_documents == ["А", "Б"]


def test_bad_rows_are_reported_by_line_and_skipped(store, write_csv, row):
    path = write_csv(
        row(number="1000000001"),                               # line 2: good
        row(number="1000000002", status="lost"),                # line 3
        row(number="1000000003", submitted_at="02.11.2026"),    # line 4
        row(number="12345"),                                    # line 5
        row(number="1000000005", service="  "),                 # line 6
        row(number="1000000006", full_name="   "),              # line 7
        row(number="1000000007", expected_at="2026-02-30"),     # line 8
        "1000000008,too,few",                                   # line 9
        row(number="1000000001"),                               # line 10: duplicate of line 2
        row(number="1000000011", birth_date="2999-01-01"),      # line 11
        row(number="CD-000000012", instructions="две\nстроки"),  # lines 12-13: good
        row(number="1000000014", status="done"),                # line 14: starts after the multi-line row
        row(number="1000000015"),                               # line 15: good
    )
    report = import_csv(path, store)
    assert (report.created, report.rejected) == (3, 10)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "status"), (4, "submitted_at"), (5, "application_number"), (6, "service"),
        (7, "full_name"), (8, "expected_at"), (9, "*"), (10, "application_number"),
        (11, "birth_date"), (14, "status"),
    ]
    assert str(report.errors[0]).startswith("строка 3 (заявление 1000000002), поле status:")
    assert "unknown status" in report.errors[0].message and "неизвестный статус" in report.errors[0].message
    assert "duplicate of line 2" in report.errors[7].message
    assert {v.number for v in map(lambda n: find_application(n, url=store),
                                  ["1000000001", "CD-000000012", "1000000015"])} == {
        "1000000001", "CD-000000012", "1000000015"}
    assert find_application("1000000002", url=store) is None


DEPARTMENT_SERVICES = {
    "Выдача паспорта гражданина РФ взамен утраченного": "passport_internal",
    "Государственная регистрация транспортного средства": "vehicle_registration",
    # No catalogue phrase in it: stored unlinked rather than guessed.
    "Назначение ежемесячной выплаты на ребёнка": None,
}


def test_department_service_names_are_stored_as_written_and_linked_when_they_match(
        store, write_csv, row, capsys):
    names = list(DEPARTMENT_SERVICES)
    path = write_csv(
        row(number="2000000001", service=names[0]),
        row(number="2000000002", service=names[1]),
        row(number="2000000003", service=names[2]),
        row(number="2000000004", service="  " + names[0].replace(" ", "  ") + " "),
        row(number="2000000005", service="SNILS"),  # an id, any case, still works
    )
    assert main(["import", str(path), "--database-url", store]) == 0
    out = capsys.readouterr().out
    assert "создано 5" in out and "rejected 0" in out
    for number, (name, service_id) in zip(["2000000001", "2000000002", "2000000003", "2000000004"],
                                          [*DEPARTMENT_SERVICES.items(), (names[0], "passport_internal")]):
        view = find_application(number, url=store)
        assert (view.service, view.service_id) == (name, service_id)
    view = find_application("2000000005", url=store)
    assert (view.service, view.service_id) == ("snils", "snils")
    # One note per spelling, never quoting it; ids need none.
    assert "строка 2 и ещё 1, поле service: услуга сохранена как написана и связана с каталогом: " \
           "passport_internal" in out
    assert "строка 3, поле service:" in out and "vehicle_registration" in out
    assert "строка 4, поле service: услуга сохранена как написана, в каталоге не найдена" in out
    assert not any(name in out for name in names)


def test_the_citizen_is_told_the_service_as_the_department_wrote_it(store, write_csv, row, monkeypatch):
    from actions.application_status import status_details

    import_csv(write_csv(row(service="Государственная регистрация транспортного средства"),
                         row(number="2000000002")), store)
    view = find_application("1234567890", url=store)
    assert status_details(view)["status_service"] == "Государственная регистрация транспортного средства"
    assert status_details(find_application("2000000002", url=store))["status_service"] == \
        "Оформление загранпаспорта"


def test_several_problems_in_one_row_count_as_one_rejected_row(store, write_csv, row):
    report = import_csv(write_csv(row(number="x", status="lost", birth_date="")), store)
    assert report.rejected == 1
    assert [e.field for e in report.errors] == ["application_number", "birth_date", "status"]
    assert all(e.number is None for e in report.errors)  # an invalid number is not echoed


def test_a_wrong_header_rejects_the_file(store, write_csv, row):
    with pytest.raises(CsvFormatError):
        import_csv(write_csv(row(), header="number,name,birth_date"), store)
    assert count_applications(url=store) == 0


# --- command line -----------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hotline.status", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_import_exits_1_on_rejected_rows_and_prints_no_personal_data(
        store_url, write_csv, row, personal_data):
    name, born = personal_data.NAME, personal_data.BIRTH_DATE
    path = write_csv(
        row(number="5555555555", full_name=name, birth_date=born),
        row(number="6666666666", full_name=name, birth_date=born, status="lost"),
        row(number="7777777777", full_name="Иванов Иван Иванович", birth_date="07.07.1977"),
        row(number="8888888888", status=name),
    )
    # The command migrates an empty database itself.
    done = run_cli("import", str(path), "--database-url", store_url)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "создано 1" in output and "rejected 3" in output
    assert "строка 3" in output and "строка 4" in output and "строка 5" in output
    personal_data.assert_absent(output)
    assert "Traceback" not in output


def test_cli_import_exits_0_when_every_row_is_good(store, write_csv, row, capsys):
    assert main(["import", str(write_csv(row())), "--database-url", store]) == 0
    assert "created 1" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_cli_reports_an_unavailable_database_without_traceback(backend, unreachable_urls, write_csv, row):
    done = run_cli("import", str(write_csv(row())), "--database-url", unreachable_urls[backend])
    assert done.returncode == 2
    assert "database unavailable" in done.stderr and "Traceback" not in done.stderr


def test_cli_reports_a_missing_file(tmp_path, capsys):
    assert main(["import", str(tmp_path / "nope.csv"), "--database-url", f"sqlite:///{tmp_path}/s.db"]) == 2
    assert "cannot open file" in capsys.readouterr().err


# --- demo data ------------------------------------------------------------------------

def test_load_demo_fills_only_an_empty_store(store):
    report = load_demo(store)
    assert report is not None and report.rejected == 0 and report.created >= 30
    assert count_applications(url=store) == report.created
    assert load_demo(store) is None
    assert history(store, "1234567890") == [(None, "in_progress", "demo")]


def test_load_demo_leaves_a_store_with_real_data_alone(store, write_csv, row):
    import_csv(write_csv(row(number="4444444444")), store)
    assert main(["load-demo", "--database-url", store]) == 0
    assert count_applications(url=store) == 1


def test_demo_data_covers_the_conversation_cases(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run_cli("load-demo", "--database-url", url).returncode == 0
    ivanov = verify("1234567890", dt.date(1985, 3, 12), "Иванов Иван Иванович", url=url)
    assert (ivanov.service, ivanov.status) == ("passport_foreign", "in_progress")
    petrova = verify("AB-987654321", dt.date(1990, 7, 1), "Петрова Анна Сергеевна", url=url)
    assert (petrova.service, petrova.status) == ("snils", "needs_documents")
    assert petrova.missing_documents and petrova.instructions

    import csv
    with open(DEMO_CSV, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 30
    assert {r["status"] for r in rows} == set(STATUSES)
    assert len({r["service"] for r in rows}) >= 5
    assert any(len(r["application_number"]) == 10 for r in rows)
    assert any("-" in r["application_number"] for r in rows)
    for r in rows:
        if r["status"] == "needs_documents":
            assert r["missing_documents"] and r["instructions"], r["application_number"]
        if r["status"] == "rejected":
            assert r["instructions"], r["application_number"]
