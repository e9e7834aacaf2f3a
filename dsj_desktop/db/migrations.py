"""Schema versions and the steps between them.

``SCHEMA_VERSION`` is the version this program writes. A new database is created directly at
that version from the SQLModel metadata; an older one is upgraded one step at a time, each step
in its own transaction together with the new ``user_version``, after a backup copy of the file.
``tests/test_db.py`` checks that upgrading the oldest fixture gives the same schema as a new file.

History:
    1  directories (targets, inspectors, experts, conflicts), code lists, settings
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

SCHEMA_VERSION = 1

Step = Callable[[Connection], None]

# MIGRATIONS[v] upgrades a database at version v to version v + 1.
MIGRATIONS: dict[int, Step] = {}
