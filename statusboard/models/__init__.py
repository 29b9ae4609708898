"""Typed SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from statusboard.models.alert import (
    Alert,
    AlertFormat,
    AlertOutcome,
    AlertRule,
    AlertSource,
    Draft,
    DraftState,
)
from statusboard.models.audit import AuditEvent
from statusboard.models.base import Base
from statusboard.models.component import Component
from statusboard.models.delivery import ChannelSession, Delivery, DeliveryState
from statusboard.models.heartbeat import WorkerHeartbeat
from statusboard.models.imported import ImportedRecord
from statusboard.models.incident import (
    ComponentChange,
    Incident,
    IncidentKind,
    Update,
    UpdateCorrection,
)
from statusboard.models.login_failure import LoginFailure
from statusboard.models.operator import Operator, Role
from statusboard.models.page import PageState, RenderedSurface
from statusboard.models.planning import PeakHoursSetting
from statusboard.models.promise import Nag, Promise, PromiseKind, PromiseStatus
from statusboard.models.subscriber import Subscriber, SubscriberKind
from statusboard.models.template import IncidentTemplate
from statusboard.models.token import ApiToken

__all__ = [
    "Alert",
    "AlertFormat",
    "AlertOutcome",
    "AlertRule",
    "AlertSource",
    "Draft",
    "DraftState",
    "WorkerHeartbeat",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Component",
    "ComponentChange",
    "Incident",
    "IncidentTemplate",
    "ImportedRecord",
    "IncidentKind",
    "LoginFailure",
    "Operator",
    "PageState",
    "RenderedSurface",
    "PeakHoursSetting",
    "Role",
    "Update",
    "UpdateCorrection",
    "Nag",
    "Promise",
    "PromiseKind",
    "PromiseStatus",
    "ChannelSession",
    "Delivery",
    "DeliveryState",
    "Subscriber",
    "SubscriberKind",
]
