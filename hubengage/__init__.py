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

The library logs to the ``hubengage`` logger (retries at WARNING) and, as libraries should,
prints nothing unless the application configures logging (``logging.basicConfig()``).
"""

import logging

from ._account import OwnersResource, PropertiesResource
from ._auth import OAuth, OAuthTokens
from ._batching import Batcher
from ._bulk import BulkProgress, NewRecord, Outcome, RecordUpdate
from ._client import ClientState, HubSpot, HubSpotView
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
from ._hooks import EventHooks, RetryEvent
from ._journal import (
    Journal,
    JournalCounts,
    JournalError,
    JournalMismatchError,
    JournalStatus,
)
from ._limiter import Bucket, BucketSnapshot, LimiterSnapshot, RateLimiter, RateLimits
from ._pipeline import RequestOptions
from ._resources import ObjectResource, RecordResource
from ._retry import RetryConfig
from ._search import Filter, SearchResultsTruncatedWarning, Sort
from ._stats import ClientStats, StatsSnapshot
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
    PropertyModel,
    PropertyOption,
    PropertyVersion,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from .testing import MockTransport

__version__ = "0.1.0"

# A library's logger has a NullHandler (the logging HOWTO's convention): without it, Python's
# "last resort" handler would print retry WARNINGs to stderr in an application that
# configured no logging. Applications that configure logging see every record as before.
logging.getLogger("hubengage").addHandler(logging.NullHandler())

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
    "BucketSnapshot",
    "BudgetStoreError",
    "BulkProgress",
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
    "EventHooks",
    "EventLoopError",
    "Executor",
    "Filter",
    "HubEngageError",
    "HubSpot",
    "HubSpotView",
    "InvalidInputError",
    "Journal",
    "JournalCounts",
    "JournalError",
    "JournalMismatchError",
    "JournalStatus",
    "LimiterSnapshot",
    "MalformedResponseError",
    "Meeting",
    "MeetingOutcome",
    "MockTransport",
    "NewRecord",
    "NotFoundError",
    "Note",
    "OAuth",
    "OAuthTokens",
    "ObjectResource",
    "Outcome",
    "OutcomeUnknownError",
    "Owner",
    "OwnersResource",
    "PostalMail",
    "PropertiesResource",
    "Property",
    "PropertyModel",
    "PropertyOption",
    "PropertyVersion",
    "RateLimitError",
    "RateLimiter",
    "RateLimits",
    "RecordResource",
    "RecordUpdate",
    "Request",
    "RequestOptions",
    "Response",
    "RetryConfig",
    "RetryEvent",
    "ScopeError",
    "SearchResultsTruncatedWarning",
    "ServerError",
    "Sort",
    "StatsSnapshot",
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
