"""Import of the departments' application data from CSV.

Good rows are stored, bad rows are reported by line number and field and
skipped. Messages never quote a field's value (the columns of a broken file
may be shifted, so any value could be a name or a birth date); only a valid
application number is shown, to help find the row.
"""
from __future__ import annotations

import csv
import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Union

from hotline.db.engine import write_transaction
from hotline.db.tables.status import STATUSES
from hotline.status.repository import ApplicationRecord, UpsertCounts, upsert_applications
from hotline.entities import normalize_application_number
from hotline.service_match import catalogue_id

logger = logging.getLogger(__name__)

HEADER = (
    "application_number", "full_name", "birth_date", "service", "status",
    "submitted_at", "expected_at", "missing_documents", "instructions",
)
# One transaction per batch: big enough to amortise round trips, small
# enough that a failure loses little and the IN (...) lists stay short.
BATCH_SIZE = 2000
MAX_NAME_LENGTH = 300
MAX_SERVICE_LENGTH = 300
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported (wrong header, not CSV)."""


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based, the header is line 1
    field: str
    message: str  # Russian, then English in brackets
    number: Optional[str] = None  # only a valid, normalised number

    def __str__(self) -> str:
        where = f"строка {self.line}" + (f" (заявление {self.number})" if self.number else "")
        return f"{where}, поле {self.field}: {self.message}"


@dataclass
class ServiceNote:
    """How one department spelling of a service was linked to the catalogue.

    Never quotes the spelling (see the module docstring): the first line and
    the count are enough to find the rows."""

    first_line: int
    service_id: Optional[str]
    rows: int = 1

    def __str__(self) -> str:
        more = f" и ещё {self.rows - 1}" if self.rows > 1 else ""
        if self.service_id:
            return (f"строка {self.first_line}{more}, поле service: услуга сохранена как написана и связана "
                    f"с каталогом: {self.service_id} (stored as written, linked to {self.service_id})")
        return (f"строка {self.first_line}{more}, поле service: услуга сохранена как написана, в каталоге "
                f"не найдена (stored as written, no catalogue id)")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    # One per distinct service spelling that is not a catalogue id.
    notes: dict[str, ServiceNote] = field(default_factory=dict)

    def note_service(self, line: int, record: ApplicationRecord) -> None:
        if record.service == record.service_id:
            return
        note = self.notes.get(record.service)
        if note is None:
            self.notes[record.service] = ServiceNote(line, record.service_id)
        else:
            note.rows += 1

    def add(self, counts: UpsertCounts) -> None:
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged

    def summary(self) -> str:
        return (
            f"создано {self.created}, обновлено {self.updated}, без изменений {self.unchanged}, "
            f"отклонено {self.rejected} (created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected})"
        )


def _date(value: str) -> Optional[dt.date]:
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


_BAD_DATE = "дата должна быть в формате ГГГГ-ММ-ДД (date must be YYYY-MM-DD)"


def parse_row(values: list[str], line: int, today: Optional[dt.date] = None) -> tuple[
        Optional[ApplicationRecord], list[RowError]]:
    """A record, or the list of what is wrong with the row."""
    if len(values) != len(HEADER):
        return None, [RowError(line, "*", f"ожидалось {len(HEADER)} столбцов, найдено {len(values)} "
                                          f"(expected {len(HEADER)} columns, found {len(values)})")]
    raw = dict(zip(HEADER, (v.strip() for v in values)))
    number = normalize_application_number(raw["application_number"])
    errors: list[RowError] = []

    def bad(name: str, message: str) -> None:
        errors.append(RowError(line, name, message, number))

    if any("\ufffd" in v for v in values):
        bad("*", "в строке есть байты не в UTF-8 (row is not valid UTF-8)")
    if number is None:
        bad("application_number", "неверный номер заявления: нужно 10 цифр или 2 латинские буквы и 9 цифр "
                                  "(invalid application number: 10 digits or 2 letters and 9 digits)")
    full_name = " ".join(raw["full_name"].split())
    if not full_name:
        bad("full_name", "ФИО не заполнено (full name is empty)")
    elif len(full_name) > MAX_NAME_LENGTH:
        bad("full_name", f"ФИО длиннее {MAX_NAME_LENGTH} символов (full name too long)")
    birth_date = _date(raw["birth_date"])
    if birth_date is None:
        bad("birth_date", _BAD_DATE)
    elif birth_date > (today or dt.date.today()) or birth_date.year < 1900:
        bad("birth_date", "дата рождения невозможна (birth date out of range)")
    # Stored and shown as the department wrote it; a catalogue id, when the
    # name matches one, is only a link (never a reason to reject the row).
    service = " ".join(raw["service"].split())
    service_id = catalogue_id(service) if service else None
    if service_id == service.lower():
        service = service_id
    if not service:
        bad("service", "услуга не заполнена (service is empty)")
    elif len(service) > MAX_SERVICE_LENGTH:
        bad("service", f"название услуги длиннее {MAX_SERVICE_LENGTH} символов (service name too long)")
    status = raw["status"].lower()
    if status not in STATUSES:
        bad("status", f"неизвестный статус, допустимы: {', '.join(STATUSES)} (unknown status)")
    submitted_at = _date(raw["submitted_at"])
    if submitted_at is None:
        bad("submitted_at", _BAD_DATE)
    expected_at = _date(raw["expected_at"]) if raw["expected_at"] else None
    if raw["expected_at"] and expected_at is None:
        bad("expected_at", _BAD_DATE + "; или пусто (or empty)")
    if errors:
        return None, errors
    return ApplicationRecord(
        number=number, full_name=full_name, birth_date=birth_date, service=service, status=status,
        submitted_at=submitted_at, expected_at=expected_at,
        missing_documents=tuple(d.strip() for d in raw["missing_documents"].split(";") if d.strip()),
        instructions=raw["instructions"] or None, service_id=service_id,
    ), []


def iter_rows(path: Union[str, Path]) -> Iterator[tuple[int, Optional[ApplicationRecord], list[RowError]]]:
    """(line, record or None, errors) for every non-empty data row."""
    # utf-8-sig drops the BOM Excel writes; "replace" turns stray bytes into
    # U+FFFD so that parse_row rejects just those rows.
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != HEADER:
                raise CsvFormatError("неверный заголовок, нужен (wrong header, expected): " + ",".join(HEADER))
            today = dt.date.today()
            line = reader.line_num + 1
            for values in reader:
                # A quoted field may span lines: report where the row starts.
                start, line = line, reader.line_num + 1
                if values and any(v.strip() for v in values):
                    yield (start, *parse_row(values, start, today))
        except csv.Error as exc:
            raise CsvFormatError(f"строка {reader.line_num}: файл не читается как CSV (not a CSV file): {exc}")


def import_csv(path: Union[str, Path], url: Optional[str] = None, *, source: str = "import",
               batch_size: int = BATCH_SIZE) -> ImportReport:
    """Import a department CSV; raises CsvFormatError for an unusable file
    and StoreUnavailable if the database fails (earlier batches stay)."""
    report = ImportReport()
    first_line: dict[str, int] = {}
    batch: list[ApplicationRecord] = []

    def flush() -> None:
        with write_transaction(url) as conn:
            report.add(upsert_applications(conn, batch, source=source))
        batch.clear()

    for line, record, errors in iter_rows(path):
        if record is not None and record.number in first_line:
            # Which of two rows is right cannot be known; the department must fix it.
            errors = [RowError(line, "application_number",
                               f"номер повторяет строку {first_line[record.number]} "
                               f"(duplicate of line {first_line[record.number]})", record.number)]
        if errors:
            report.rejected += 1
            report.errors.extend(errors)
            for error in errors:
                logger.debug("rejected: %s", error)
            continue
        first_line[record.number] = line
        report.note_service(line, record)
        batch.append(record)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    logger.info("import of %s: %s", Path(path).name, report.summary())
    return report
