"""All tables of the project's database, one module per record kind.

Importing this package registers every table on ``hotline.db.base.Base``,
which is what Alembic's autogenerate check and ``metadata.create_all`` need.
"""
from hotline.db.tables import handoff, inbox, retention, status  # noqa: F401
