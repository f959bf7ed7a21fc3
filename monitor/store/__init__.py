"""The raiwatch store: SQLAlchemy 2 tables, Alembic migrations and the :class:`Store` facade."""

from monitor.alerting.policy import AlertPolicy
from monitor.store.base import Base
from monitor.store.events import (
    EVENT_CHALLENGER_BETTER,
    EVENT_CHALLENGER_WORSE,
    EVENT_FIRING,
    EVENT_RESOLVED,
    EVENT_RETRAIN,
    EVENT_TYPES,
)
from monitor.store.monitors import EndpointSpec
from monitor.store.records import (
    AlertEventRecord,
    AlertHandlingRecord,
    AlertStateRecord,
    ApiKeyGrant,
    ApiKeyRecord,
    DeliveryJob,
    DeliveryRecord,
    EndpointRecord,
    MonitorRecord,
    PromotionRecord,
    RetrainScheduleRecord,
    RunRecord,
)
from monitor.store.store import Store

__all__ = [
    "EVENT_CHALLENGER_BETTER",
    "EVENT_CHALLENGER_WORSE",
    "EVENT_FIRING",
    "EVENT_RESOLVED",
    "EVENT_RETRAIN",
    "EVENT_TYPES",
    "AlertEventRecord",
    "AlertHandlingRecord",
    "AlertPolicy",
    "AlertStateRecord",
    "ApiKeyGrant",
    "ApiKeyRecord",
    "Base",
    "DeliveryJob",
    "DeliveryRecord",
    "EndpointRecord",
    "EndpointSpec",
    "MonitorRecord",
    "PromotionRecord",
    "RetrainScheduleRecord",
    "RunRecord",
    "Store",
]
