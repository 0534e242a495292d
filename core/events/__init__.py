"""Events: intake, the lifecycle, dispatch, the dashboard and the assessment."""

from jiceng.core.events import tally  # noqa: F401  (its hooks keep event_tally with every ORM write of an event)
