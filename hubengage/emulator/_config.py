"""The emulator's settings: :class:`EmulatorConfig` and :class:`Fault`.

Every open point of ``docs/hubspot-wire.md`` (§8) is a default plus a switch here, so that
the SDK is tested against both possibilities. Pure data; the command line (``_cli``) parses into it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs
from attrs.validators import ge, gt, in_, le

from .._constants import (
    BURST_INTERVAL_SECONDS,
    DEFAULT_DAILY_LIMIT,
    MAX_BURST_PER_INTERVAL,
    SEARCH_INTERVAL_SECONDS,
    SEARCH_PER_INTERVAL,
)
from ._owners import Owner, parse_owner
from ._properties import PropertySpec, parse_property

__all__ = [
    "DEFAULT_OAUTH_CLIENT_ID",
    "DEFAULT_OAUTH_CLIENT_SECRET",
    "FAULT_KINDS",
    "OAUTH_TOKEN_LIFETIME",
    "REQUEST_FAULT_KINDS",
    "RESPONSE_FAULT_KINDS",
    "EmulatorConfig",
    "Fault",
    "parse_fault",
    "parse_rate",
]

#: Faults decided when a request arrives: it fails, or is delayed, or fails after its write.
REQUEST_FAULT_KINDS = (
    "429",  # a burst 429 (TEN_SECONDLY_ROLLING), nothing processed
    "502",  # HTML 502 from the edge, nothing processed
    "503",
    "504",
    "524",  # HTML 524 "Origin Time-out" from the edge, nothing processed
    "423",  # 423 Locked (JSON): a lock while data syncs; nothing processed
    "477",  # 477 Migration in Progress (JSON, ``Retry-After`` in seconds); nothing processed
    "drop",  # the connection is closed before the request is processed
    "slow",  # the request is processed after ``slow_delay`` seconds (past a client timeout)
    "commit-then-502",  # processed and stored, then answered with an HTML 502
    "commit-then-drop",  # processed and stored, then the connection is closed
)

#: Adversarial responses: applied only to a successful (2xx) batch create/read/update/upsert
#: response, after its writes are stored; otherwise they do nothing and are not counted.
RESPONSE_FAULT_KINDS = (
    "garbled-2xx",  # the 2xx status with an empty, cut-off, HTML, ``[]`` or ``"ok"`` body
    "dup-result",  # one entry of ``results`` appears twice
    "drop-result",  # one entry of ``results`` is missing (its record is stored)
    "foreign-trace",  # one result carries another input's ``objectWriteTraceId``
    "unknown-trace",  # one result carries an ``objectWriteTraceId`` naming no input
    "extra-result",  # one result too many: a create stored twice, or an unrelated record
)

#: Every fault the emulator can inject.
FAULT_KINDS = REQUEST_FAULT_KINDS + RESPONSE_FAULT_KINDS


@attrs.frozen
class Fault:
    """Inject ``kind`` into a fraction ``probability`` of requests to ``endpoint``.

    ``endpoint`` is None (every ``/crm`` endpoint) or a label such as ``batch/create``,
    ``search`` or ``batch`` (every batch endpoint): a label matches itself and its children.
    A response fault (:data:`RESPONSE_FAULT_KINDS`) is drawn only for a successful batch
    response it can corrupt, so ``probability`` is the fraction of those.
    """

    kind: str = attrs.field(validator=in_(FAULT_KINDS))
    probability: float = attrs.field(converter=float, validator=[ge(0.0), le(1.0)])
    endpoint: str | None = None

    def matches(self, endpoint: str) -> bool:
        """True when this fault applies to requests with the label ``endpoint``."""
        return (
            self.endpoint is None
            or endpoint == self.endpoint
            or endpoint.startswith(self.endpoint + "/")
        )


#: The emulator's OAuth app, unless configured (``EmulatorConfig.oauth_client_id`` / ``_secret``).
DEFAULT_OAUTH_CLIENT_ID = "hubengage-emulator-client-id"
DEFAULT_OAUTH_CLIENT_SECRET = "hubengage-emulator-client-secret"
#: Seconds an issued access token lives: HubSpot's 30 minutes (§9).
OAUTH_TOKEN_LIFETIME = 1800.0

T = TypeVar("T")


def _tuple(value: Iterable[T] | None) -> tuple[T, ...]:
    return tuple(value) if value is not None else ()


def _properties(value: Iterable[str | PropertySpec] | None) -> tuple[PropertySpec, ...]:
    return tuple(parse_property(v) for v in value or ())


def _owners(value: Iterable[str | Owner] | None) -> tuple[Owner, ...] | None:
    if value is None:
        return None
    out: list[Owner] = []
    for item in value:
        out.append(item if isinstance(item, Owner) else parse_owner(item, len(out)))
    return tuple(out)


def _count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise ValueError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def _finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be a finite number of seconds, got {value!r}")


@attrs.frozen(kw_only=True)
class EmulatorConfig:
    """How the emulator behaves. Defaults follow HubSpot (Free/Starter private app).

    Limits: ``burst_limit`` requests per ``burst_interval`` seconds per token (0: unlimited),
    ``daily_limit`` per day (0: unlimited), ``search_limit`` per ``search_interval`` seconds.
    ``tokens``: accepted bearer tokens (empty: any non-empty token). The switches for facts
    HubSpot's documentation leaves open default to the least helpful reading:
    ``echo_trace_ids`` (False: successful batch results carry no ``objectWriteTraceId``, as
    in HubSpot's documented 207 example; errors still name theirs), ``shuffle_results``
    (True), ``retry_after_on_429`` (False), ``strict_update_properties`` (False).

    Values: every written value is checked for its property's kind
    (``ObjectType.kind``; custom properties are strings): a DATETIME must be epoch
    milliseconds, ISO 8601 with ``Z`` or an offset, or a plain date (else 400
    ``INVALID_DATE``), a NUMBER decimal text (``INVALID_FLOAT``), a BOOL ``true``/``false``
    in any case (``INVALID_BOOLEAN``). With ``normalize_values`` (the default) values are
    stored and echoed in HubSpot's normal form: datetimes as ISO 8601 UTC with milliseconds
    and ``Z``, numbers as plain decimals (``1500.0`` → ``1500``, ``1e3`` → ``1000``),
    booleans in lower case, ``;``-lists (MULTI) with their parts sorted; without it, as sent.
    ``rich_text_html`` (off by default; unconfirmed whether the API does this) stores
    plain-text engagement bodies (``hs_note_body``, ``hs_call_body``, …) as HubSpot's
    rich-text editor writes them: escaped, ``<br>`` for newlines, in a ``<div><p>``.

    ``faults`` are injected with a ``seed``-ed random source (every random choice, also
    inside a fault, comes from it); ``slow_delay`` is how long a ``slow`` fault waits. Besides
    the failures of :data:`REQUEST_FAULT_KINDS`, the :data:`RESPONSE_FAULT_KINDS` corrupt a
    successful batch response after its writes are stored. ``unique_properties`` declares
    unique-value properties per type (usable as ``idProperty``) on top of the built-in ones
    (contacts' ``email``); ``custom_properties`` declares extra writable properties per type.
    ``properties`` declares more, typed: ``PropertySpec``s or ``TYPE.NAME[:KIND[=A;B]]``
    strings (``"deals.score:number"``, ``"contacts.tier:enumeration=gold;silver"``). All of
    them are properties of the type's schema, served and changed by the properties API.

    Owners: ``owners`` replaces the seeded owners (:data:`~._owners.DEFAULT_OWNERS`; owners
    or ``EMAIL[:FIRST[:LAST]]`` strings). ``hubspot_owner_id`` takes any numeric id
    (``strict_owner_ids=False``, unconfirmed whether HubSpot checks it) or, with
    ``strict_owner_ids``, only the id of a live owner (else 400 ``INVALID_OWNER_ID``).
    ``required_crm_properties`` (True) enforces the documented required properties of
    contacts, companies, deals and tickets on create (§9); False requires only the
    engagements'. ``seed_records`` creates the sandbox records at start and on every reset
    (:data:`~._seed.SANDBOX_SEED`: contacts 601–630, companies 901–910, deals 1201–1205,
    tickets 1501–1505); ``seed_contacts=N`` seeds them too, with contacts 601..600+N.
    The default (neither) starts empty.

    v4 associations (§5.1, §8): ``association_limits`` configures ``maxToObjectIds`` at
    start (``{"emails.contacts": 1}`` for the unlabeled type, ``"contacts.companies.1"``
    for a HubSpot-defined type by id; the limits API changes them at run time). A failed
    input of a v4 batch is named only in its error's ``message`` (``context`` is ``{}``)
    unless ``v4_error_context`` adds ``context.fromObjectId`` / ``toObjectId`` /
    ``associationTypeId``. Record ids in the v4 results HubSpot's documented examples show
    as numbers (``toObjectId``, ``fromObjectId`` of a label result) are numbers
    (``v4_numeric_ids``), else strings as the spec types them. User labels can be created
    between contacts, companies, deals and tickets only, unless ``labels_on_engagements``.

    OAuth (§9; ``_oauth``): the token endpoint (``POST /oauth/v1/token``, ``/oauth/v3/token``,
    ``/oauth/2026-03/token``) refreshes for the app ``oauth_client_id`` /
    ``oauth_client_secret`` any refresh token (empty ``oauth_refresh_tokens``) or only the
    listed ones; each refresh token is one installed account whose access tokens share one
    set of rate windows. An access token it issues expires ``oauth_token_lifetime`` seconds
    later (1800, HubSpot's 30 minutes; fractions allowed for tests), after which requests
    carrying it get HubSpot's 401 ``EXPIRED_AUTHENTICATION``. ``oauth_rotate_refresh_tokens``
    answers every refresh with a new refresh token and refuses the old one.

    Time: ``latency`` (seconds, default 0) is server time spent on every ``/crm`` request
    after it was authenticated and counted against the rate limits and before it is
    processed (a 401 or a rate-limit 429 answers at once; a request fault that fails at
    arrival too; a ``slow`` fault waits ``slow_delay`` on top). A batch response's
    ``startedAt`` is when its request was counted (its arrival), ``completedAt`` when its
    processing ended, so ``completedAt - startedAt >= latency``. ``clock_skew`` (seconds, may
    be negative) sets the emulator's wall clock that far ahead of the machine's: every
    timestamp it writes (``startedAt``, ``completedAt``, ``createdAt``, ``updatedAt``,
    ``archivedAt``, the created/modified date properties) is shifted by it; rate-limit windows
    run on ``time.monotonic()`` and are not affected.
    """

    host: str = "127.0.0.1"
    port: int = 0
    tokens: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    burst_limit: int = MAX_BURST_PER_INTERVAL
    burst_interval: float = BURST_INTERVAL_SECONDS
    daily_limit: int = DEFAULT_DAILY_LIMIT
    search_limit: int = SEARCH_PER_INTERVAL
    search_interval: float = SEARCH_INTERVAL_SECONDS
    echo_trace_ids: bool = False
    shuffle_results: bool = True
    retry_after_on_429: bool = False
    strict_update_properties: bool = False
    normalize_values: bool = True
    rich_text_html: bool = False
    faults: tuple[Fault, ...] = attrs.field(default=(), converter=_tuple)
    slow_delay: float = 5.0
    latency: float = attrs.field(default=0.0, converter=float, validator=[_finite, ge(0.0)])
    clock_skew: float = attrs.field(default=0.0, converter=float, validator=_finite)
    seed: int | None = None
    unique_properties: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    custom_properties: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    properties: tuple[PropertySpec, ...] = attrs.field(default=(), converter=_properties)
    owners: tuple[Owner, ...] | None = attrs.field(default=None, converter=_owners)
    strict_owner_ids: bool = False
    required_crm_properties: bool = True
    seed_records: bool = False
    seed_contacts: int | None = attrs.field(default=None, validator=_count)
    association_limits: Mapping[str, int] = attrs.field(factory=dict)
    v4_error_context: bool = False
    v4_numeric_ids: bool = True
    labels_on_engagements: bool = False
    oauth_client_id: str = DEFAULT_OAUTH_CLIENT_ID
    oauth_client_secret: str = DEFAULT_OAUTH_CLIENT_SECRET
    oauth_refresh_tokens: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    oauth_token_lifetime: float = attrs.field(
        default=OAUTH_TOKEN_LIFETIME, converter=float, validator=[_finite, gt(0.0)])
    oauth_rotate_refresh_tokens: bool = False


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")


def parse_rate(text: str) -> tuple[int, float]:
    """``"100/10s"`` → ``(100, 10.0)``; ``"20/200ms"`` → ``(20, 0.2)``; ``"0"`` → unlimited."""
    if text.strip() == "0":
        return 0, 1.0
    match = _RATE.match(text)
    if not match:
        raise ValueError(f"expected COUNT/INTERVAL such as 100/10s or 20/200ms, got {text!r}")
    count, amount, unit = int(match[1]), float(match[2]), match[3] or "s"
    seconds = amount / 1000 if unit == "ms" else amount
    if seconds <= 0:
        raise ValueError(f"the interval must be positive: {text!r}")
    return count, seconds


def parse_fault(text: str) -> Fault:
    """``KIND=P`` or ``KIND=P@ENDPOINT``, e.g. ``502=0.05`` or ``drop=0.01@batch/create``."""
    kind, sep, rest = text.partition("=")
    if not sep:
        raise ValueError(f"expected KIND=PROBABILITY[@ENDPOINT], got {text!r}")
    probability, _, endpoint = rest.partition("@")
    try:
        value = float(probability)
    except ValueError:
        raise ValueError(f"not a probability: {probability!r}") from None
    return Fault(kind.strip(), value, endpoint.strip() or None)
