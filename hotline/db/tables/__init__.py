"""All tables of the project's database, one module per record kind.

Importing this package registers every table on ``hotline.db.base.Base``,
which is what Alembic's autogenerate check and ``metadata.create_all`` need.
``tracker`` is not imported here: it describes Rasa's own ``events`` table,
which Rasa creates and the project only reads and deletes from (retention).
"""
from hotline.db.tables import conversation_tags, handoff, inbox, inbox_decisions, retention, status  # noqa: F401
