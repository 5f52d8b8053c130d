"""hubengage: an asyncio SDK for HubSpot's CRM object APIs, engagements first.

::

    from hubengage import HubSpot, Email, EmailDirection, Association

    async with HubSpot() as hs:       # token from HUBSPOT_ACCESS_TOKEN
        rec = await hs.emails.create(
            Email(timestamp=..., direction=EmailDirection.EMAIL, subject="Let's talk"),
            associations=[Association.contact(601)],
        )

Single calls are coalesced into 100-input batch requests under a rolling-window rate limiter,
retried per policy, and every multi-status result is mapped back to the call that made it.
"""

from ._account import OwnersResource, PropertiesResource
from ._batching import Batcher
from ._bulk import NewRecord, Outcome, RecordUpdate
from ._client import ClientState, HubSpot
from ._clock import Clock
from ._errors import (
    APIError,
    AuthenticationError,
    BudgetStoreError,
    ClientClosedError,
    ConflictError,
    DailyLimitError,
    DeadlineExceededError,
    EventLoopError,
    HubEngageError,
    InvalidInputError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ScopeError,
    ServerError,
    TransportError,
    TransportTimeoutError,
    ValidationError,
    WithdrawnError,
)
from ._execution import Executor
from ._limiter import Bucket, RateLimiter, RateLimits
from ._resources import ObjectResource, RecordResource
from ._retry import RetryConfig
from ._search import Filter, SearchResultsTruncatedWarning, Sort
from ._stats import ClientStats
from ._transport import AiohttpTransport, Request, Response, Transport
from .models import (
    AssociatedId,
    AssociatedRecord,
    Association,
    AssociationCategory,
    AssociationLabel,
    Call,
    CallDirection,
    CallStatus,
    Communication,
    CommunicationChannel,
    CrmObject,
    Email,
    EmailAddress,
    EmailDirection,
    EmailHeaders,
    EmailStatus,
    Meeting,
    MeetingOutcome,
    Note,
    Owner,
    PostalMail,
    Property,
    PropertyOption,
    PropertyVersion,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from .testing import MockTransport

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AiohttpTransport",
    "AssociatedId",
    "AssociatedRecord",
    "Association",
    "AssociationCategory",
    "AssociationLabel",
    "AuthenticationError",
    "Batcher",
    "Bucket",
    "BudgetStoreError",
    "Call",
    "CallDirection",
    "CallStatus",
    "ClientClosedError",
    "ClientState",
    "ClientStats",
    "Clock",
    "Communication",
    "CommunicationChannel",
    "ConflictError",
    "CrmObject",
    "DailyLimitError",
    "DeadlineExceededError",
    "Email",
    "EmailAddress",
    "EmailDirection",
    "EmailHeaders",
    "EmailStatus",
    "EventLoopError",
    "Executor",
    "Filter",
    "HubEngageError",
    "HubSpot",
    "InvalidInputError",
    "MalformedResponseError",
    "Meeting",
    "MeetingOutcome",
    "MockTransport",
    "NewRecord",
    "NotFoundError",
    "Note",
    "ObjectResource",
    "Outcome",
    "OutcomeUnknownError",
    "Owner",
    "OwnersResource",
    "PostalMail",
    "PropertiesResource",
    "Property",
    "PropertyOption",
    "PropertyVersion",
    "RateLimitError",
    "RateLimiter",
    "RateLimits",
    "RecordResource",
    "RecordUpdate",
    "Request",
    "Response",
    "RetryConfig",
    "ScopeError",
    "SearchResultsTruncatedWarning",
    "ServerError",
    "Sort",
    "Task",
    "TaskPriority",
    "TaskStatus",
    "TaskType",
    "Transport",
    "TransportError",
    "TransportTimeoutError",
    "ValidationError",
    "WithdrawnError",
    "__version__",
]
