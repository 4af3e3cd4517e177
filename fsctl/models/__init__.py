"""The one SQLAlchemy 2 model of kumo, shared by the service and the panel (no Flask here).

Constraints that matter live in the database (CHECK, UNIQUE, FOREIGN KEY), not only in Python.
Every table that belongs to a tenant carries `tenant_id`, and every change to such a row bumps
`tenants.config_version` (see fsctl.db), which is what the lookup caches key on.

The models live in one module per part of the product; this package re-exports every class so
`from fsctl.models import Tenant` stays the one way to reach them.
"""

from __future__ import annotations

from fsctl.models.accounts import (
    AccountRole,
    ApiToken,
    ApplicationState,
    LoginAttempt,
    PanelAccount,
    PasswordReset,
    PhonebookFeed,
    PlatformSetting,
    ProvisioningLink,
    TenantProfile,
)
from fsctl.models.base import (
    DESTINATION_TARGET_COLUMN,
    NAMING_CONVENTION,
    Base,
    DestinationKind,
    Direction,
    NumberKind,
    RingStrategy,
    TenantStatus,
    enum_type,
    one_target_check,
    utc_now,
)
from fsctl.models.billing import (
    BillingAccount,
    CallRecord,
    CdrReject,
    OneOffCharge,
    Statement,
    Subscription,
)
from fsctl.models.cluster import NodeState, SwitchNode
from fsctl.models.fax import FaxMessage, FaxNumber
from fsctl.models.gateways import (
    Gateway,
    GatewayAuth,
    GatewayChannel,
    GatewayNumber,
    GatewayRefusal,
    OutboundRoute,
)
from fsctl.models.live import (
    LiveCall,
    LiveRegistration,
    ParkedCall,
    RingingCall,
)
from fsctl.models.media import (
    AudioFile,
    CallRecording,
    RecordingRetention,
    VoicemailMessage,
)
from fsctl.models.queues import (
    MAX_WAIT_RANGE,
    QUEUE_STRATEGIES,
    CallQueue,
    CallQueueAgent,
    QueueAgentState,
    QueueCaller,
)
from fsctl.models.rooms import ConferenceRoom, PhonebookEntry
from fsctl.models.screening import (
    ANONYMOUS_KINDS,
    BLOCK_ACTIONS,
    AnonymousRefusal,
    BlockedCaller,
)
from fsctl.models.security import (
    AuthFailure,
    Ban,
    SecurityEvent,
    TenantCallLimits,
    TrustedSource,
)
from fsctl.models.tenancy import (
    TENANT_SCOPED_MODELS,
    AuditEntry,
    Destination,
    IvrMenu,
    IvrOption,
    Number,
    ParkRange,
    RingGroup,
    RingGroupMember,
    Schedule,
    ScheduleClosure,
    SchedulePeriod,
    Tenant,
    User,
    destination_fk,
)

__all__ = [
    "MAX_WAIT_RANGE",
    "QUEUE_STRATEGIES",
    "CallQueue",
    "CallQueueAgent",
    "QueueAgentState",
    "QueueCaller",
    "Base",
    "TenantStatus",
    "Direction",
    "NumberKind",
    "RingStrategy",
    "DestinationKind",
    "NAMING_CONVENTION",
    "DESTINATION_TARGET_COLUMN",
    "one_target_check",
    "enum_type",
    "utc_now",
    "Tenant",
    "Destination",
    "User",
    "Number",
    "RingGroup",
    "RingGroupMember",
    "Schedule",
    "SchedulePeriod",
    "ScheduleClosure",
    "IvrMenu",
    "IvrOption",
    "ParkRange",
    "AuditEntry",
    "TENANT_SCOPED_MODELS",
    "destination_fk",
    "AccountRole",
    "PanelAccount",
    "TenantProfile",
    "ProvisioningLink",
    "ApplicationState",
    "ApiToken",
    "LoginAttempt",
    "PlatformSetting",
    "PasswordReset",
    "CallRecord",
    "CdrReject",
    "BillingAccount",
    "Subscription",
    "OneOffCharge",
    "Statement",
    "VoicemailMessage",
    "CallRecording",
    "RecordingRetention",
    "AudioFile",
    "LiveRegistration",
    "LiveCall",
    "RingingCall",
    "ParkedCall",
    "GatewayAuth",
    "ConferenceRoom",
    "FaxNumber",
    "FaxMessage",
    "ANONYMOUS_KINDS",
    "BLOCK_ACTIONS",
    "AnonymousRefusal",
    "BlockedCaller",
    "Gateway",
    "PhonebookEntry",
    "PhonebookFeed",
    "GatewayNumber",
    "OutboundRoute",
    "GatewayRefusal",
    "GatewayChannel",
    "AuthFailure",
    "TrustedSource",
    "Ban",
    "TenantCallLimits",
    "SecurityEvent",
    "NodeState",
    "SwitchNode",
]
