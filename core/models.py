"""Every core table, imported in one place so the metadata is complete for Alembic and tests."""

from jiceng.core.areas import Area
from jiceng.core.audit import AuditEntry, AuditHead
from jiceng.core.enablement import ScenarioChange
from jiceng.core.events.models import (
    Department,
    DepartmentMember,
    DispatchRule,
    Event,
    EventAction,
    EventAttachment,
    EventCounter,
    EventStateCount,
    EventTally,
    Open311Client,
)
from jiceng.core.permissions.store import CasbinRule, PolicyChange
from jiceng.core.records.models import (
    FieldChange,
    FieldConflict,
    House,
    Organisation,
    Person,
    PersonHouse,
    PersonOrganisation,
    PersonTag,
)
from jiceng.core.users import ApiToken, LoginFailure, User

__all__ = [
    "ApiToken",
    "Area",
    "AuditEntry",
    "AuditHead",
    "CasbinRule",
    "Department",
    "DepartmentMember",
    "DispatchRule",
    "Event",
    "EventAction",
    "EventAttachment",
    "EventCounter",
    "EventStateCount",
    "EventTally",
    "FieldChange",
    "FieldConflict",
    "House",
    "LoginFailure",
    "Open311Client",
    "Organisation",
    "Person",
    "PersonHouse",
    "PersonOrganisation",
    "PersonTag",
    "PolicyChange",
    "ScenarioChange",
    "User",
]
