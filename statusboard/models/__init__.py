"""Typed SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from statusboard.models.audit import AuditEvent
from statusboard.models.base import Base
from statusboard.models.component import Component
from statusboard.models.delivery import ChannelSession, Delivery, DeliveryState
from statusboard.models.incident import ComponentChange, Incident, IncidentKind, Update
from statusboard.models.operator import Operator, Role
from statusboard.models.page import PageState
from statusboard.models.subscriber import Subscriber, SubscriberKind

__all__ = [
    "AuditEvent", "Base", "Component", "ComponentChange", "Incident", "IncidentKind",
    "Operator", "PageState", "Role", "Update",
    "ChannelSession", "Delivery", "DeliveryState", "Subscriber", "SubscriberKind",
]
