"""The event lifecycle as one explicit state machine: the only way an event's state changes.

Each :class:`Transition` names the states it starts from, the state it leads
to (``None``: it stays), the permission the actor needs and where it is
checked (``owner``: the command centre that owns the event; ``area``: where
the event happened), whether a note is required, and what else it needs.
:mod:`jiceng.core.events.service` applies them; an action not allowed from
the current state answers 409 listing the actions that are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jiceng.core.events.models import OPEN_STATES, State
from jiceng.core.i18n import N_

S = State
WORKING = (S.dispatched, S.handling)


@dataclass(frozen=True)
class Transition:
    name: str
    msgid: str  # the button and timeline label
    sources: tuple[State, ...]
    target: State | None
    permission: str
    scope: Literal["owner", "area", "department", "reporter"]
    note_required: bool = False


TRANSITIONS = {
    t.name: t
    for t in (
        Transition("accept", N_("Accept"), (S.reported,), S.accepted, "events:dispatch", "owner"),
        Transition("reject", N_("Reject"), (S.reported,), S.rejected, "events:dispatch", "owner", True),
        Transition("dispatch", N_("Dispatch"), (S.accepted,), S.dispatched, "events:dispatch", "owner"),
        Transition("reassign", N_("Reassign"), WORKING, S.dispatched, "events:dispatch", "owner", True),
        Transition("start", N_("Start handling"), (S.dispatched,), S.handling, "events:handle", "department"),
        Transition(
            "return", N_("Return to the command centre"), WORKING, S.accepted, "events:handle", "department", True
        ),
        Transition("request_extension", N_("Ask for more time"), WORKING, None, "events:handle", "department", True),
        Transition("approve_extension", N_("Approve the extension"), WORKING, None, "events:dispatch", "owner"),
        Transition("deny_extension", N_("Refuse the extension"), WORKING, None, "events:dispatch", "owner", True),
        Transition("resolve", N_("Report it handled"), (S.handling,), S.resolved, "events:handle", "department", True),
        Transition("verify", N_("Verify and close"), (S.resolved,), S.closed, "events:verify", "owner"),
        Transition("rework", N_("Send back for rework"), (S.resolved,), S.handling, "events:verify", "owner", True),
        Transition(
            "escalate",
            N_("Escalate to the level above"),
            (S.reported, S.accepted, *WORKING),
            S.accepted,
            "events:dispatch",
            "owner",
            True,
        ),
        Transition("urge", N_("Urge"), OPEN_STATES, None, "events:supervise", "area", True),
        Transition("evaluate", N_("Rate the result"), (S.closed,), S.evaluated, "events:report", "reporter"),
    )
}


def available(state: State) -> list[str]:
    """The actions the machine allows from ``state``, whoever asks."""
    return [t.name for t in TRANSITIONS.values() if state in t.sources]
