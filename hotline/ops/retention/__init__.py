"""Retention of personal data and data subject requests.

    python -m hotline.ops.retention purge  [--days N] [--application-days N] [--dry-run]
    python -m hotline.ops.retention export (--channel C --conversation ID | --application NUMBER) [--out FILE]
    python -m hotline.ops.retention delete (--channel C --conversation ID | --application NUMBER) --yes

Databases: the tracker store (``TRACKER_DATABASE_URL``; default the embedded
profile's ``var/tracker.db``) and the status store (``DATABASE_URL``, see
hotline.db.engine), which also holds the handoff tables and the audit table
``retention_audit`` (revision 0003). Every command writes one audit row —
also a dry run and an export — with a hash of the subject, never the
subject itself (hotline.db.tables.retention).

**purge** (``make purge``, run daily by a scheduler) deletes what is older
than ``RETENTION_DAYS`` (default 90):
* tracker events (conversation turns) older than the cut-off; a conversation
  whose every event is older disappears;
* status-check attempts (their keys name the application and the
  conversation) — never younger than the lockout window;
* closed handoff tickets with their messages, and the handoff conversation
  register (when the handoff tables exist);
* applications that are finished (``completed``, ``rejected``) and unchanged
  for ``APPLICATION_RETENTION_DAYS`` (default 365; 0 keeps them), with their
  documents, history and applicant.
The audit tables themselves are kept (they are the record).

**export / delete** take a conversation (channel + the channel's conversation
id: ``telegram 123`` finds ``telegram_123``; REST and the widget use the id as
given) or an application number (any spelling: «ab 987654321»). An
application number covers the application with its applicant, documents and
history, its status-check attempts, and every conversation whose
``application_number`` slot held that number. A conversation covers its
tracker events, its status-check attempts and its handoff tickets.

Exit codes: 0 done, 1 nothing found for the subject, 2 error.

Modules: jobs.py (purge, find, export, delete over the ORM tables),
__main__.py (the command line).
"""
from hotline.ops.retention.jobs import (DEFAULT_TRACKER_URL, FINISHED_STATUSES, Found, Retention, Subject,
                                        subject_hash, tracker_engine, tracker_url)

__all__ = ["DEFAULT_TRACKER_URL", "FINISHED_STATUSES", "Found", "Retention", "Subject", "subject_hash",
           "tracker_engine", "tracker_url"]
