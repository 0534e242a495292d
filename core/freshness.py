"""The change logs a worker checks before it trusts its caches, read in one statement.

Each worker caches the compiled grants (:mod:`jiceng.core.permissions.checker`)
and the towns' scenario switches (:mod:`jiceng.core.enablement`), and catches
up when the log behind each (``policy_change``, ``scenario_change``) has grown,
which any worker may have written. Every API request checks the first and
most the second: read together when the caller is resolved, they cost one
round trip instead of two. The switches' figure waits in the session for the
first :meth:`~jiceng.core.enablement.Enablement.refresh` of the request, which
takes it; a later refresh in the same request asks again, so it sees what
the request itself switched.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

LATEST = text(
    "SELECT (SELECT coalesce(max(id), 0) FROM policy_change), (SELECT coalesce(max(id), 0) FROM scenario_change)"
)
#: Where the newest scenario switch waits in ``session.info``.
SWITCHES = "jiceng.latest_scenario_change"


def latest_policy_change(session: Session) -> int:
    """The newest grant change; the newest scenario switch is kept for the enablement's refresh."""
    policy, switches = session.connection().execute(LATEST).one()
    session.info[SWITCHES] = switches
    return int(policy)


def take_latest_switch(session: Session) -> int | None:
    """The newest scenario switch read with the grants, once; ``None`` when it was not, or was taken."""
    return session.info.pop(SWITCHES, None)
