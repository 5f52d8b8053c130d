"""``python -m hubengage.emulator`` (and ``hubengage emulator``): run the emulator.

The options are a contract scripts and CI rely on; see ``add_emulator_arguments``. The first
line printed is exactly ``listening on http://HOST:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
import textwrap
from collections.abc import Sequence

from ._config import (
    DEFAULT_OAUTH_CLIENT_ID,
    DEFAULT_OAUTH_CLIENT_SECRET,
    OAUTH_TOKEN_LIFETIME,
    REQUEST_FAULT_KINDS,
    RESPONSE_FAULT_KINDS,
    EmulatorConfig,
    parse_fault,
    parse_rate,
)
from ._owners import DEFAULT_OWNERS, parse_owner
from ._properties import PROPERTY_TYPES, PropertySpec, parse_property
from ._server import Emulator

__all__ = [
    "add_emulator_arguments",
    "build_parser",
    "config_from_args",
    "main",
    "rate_argument",
]


def rate_argument(text: str) -> tuple[int, float]:
    """``argparse`` type for ``N/INTERVAL`` rates (``100/10s``, ``20/200ms``)."""
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    """``argparse`` type for a finite number of seconds (may be negative)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number of seconds: {text!r}")
    return value


def _nonnegative_seconds(text: str) -> float:
    """``argparse`` type for a finite number of seconds, at least 0."""
    value = _seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0: {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    """``argparse`` type for a finite number of seconds, more than 0."""
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _oauth_client(text: str) -> tuple[str, str]:
    """``argparse`` type for ``CLIENT_ID:CLIENT_SECRET``."""
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id.strip() or not secret.strip():
        raise argparse.ArgumentTypeError("expected CLIENT_ID:CLIENT_SECRET")
    return client_id.strip(), secret.strip()


def _association_limit(text: str) -> tuple[str, int]:
    """``argparse`` type for ``FROM.TO[.TYPEID]=N``."""
    key, sep, value = text.partition("=")
    if not sep or key.count(".") not in (1, 2) or not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected FROM.TO[.TYPEID]=N, got {text!r}")
    return key.strip(), int(value)


def _property(text: str) -> PropertySpec:
    try:
        return parse_property(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _owner(text: str) -> str:
    try:
        parse_owner(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text  # EmulatorConfig numbers the owners it is given


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0: {text!r}")
    return value


class _HelpFormatter(argparse.HelpFormatter):
    """Help text wrapped without breaking hyphenated words (fault kinds, flags)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _fault(text: str) -> object:
    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: ``EmulatorConfig``'s own default, used when neither echo flag is given.
_ECHO_DEFAULT: bool = EmulatorConfig().echo_trace_ids


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument("--token", action="append", default=[], metavar="T",
                        help="accepted bearer token (repeatable; default: any non-empty)")
    parser.add_argument("--burst", type=rate_argument, default=(100, 10.0), metavar="N/INTERVAL",
                        help="burst limit per token, e.g. 100/10s or 20/200ms; 0 = unlimited")
    parser.add_argument("--daily", type=int, default=250_000, help="daily limit; 0 = unlimited")
    parser.add_argument("--search", type=rate_argument, default=(5, 1.0), metavar="N/INTERVAL",
                        help="search limit, e.g. 5/1s; 0 = unlimited")
    parser.add_argument("--fault", type=_fault, action="append", default=[],
                        metavar="KIND=P[@ENDPOINT]",
                        help="inject a fault into a fraction P of requests to ENDPOINT "
                             "(e.g. batch/create, or batch for every batch endpoint; "
                             "repeatable). Failed requests: "
                             f"{', '.join(REQUEST_FAULT_KINDS)}. Corrupted successful batch "
                             "responses (the writes are stored first): "
                             f"{', '.join(RESPONSE_FAULT_KINDS)}")
    parser.add_argument("--slow-delay", type=float, default=5.0,
                        help="seconds a 'slow' fault waits (default 5)")
    parser.add_argument("--latency", type=_nonnegative_seconds, default=0.0, metavar="SECONDS",
                        help="server time spent on every /crm request after it is counted "
                             "against the rate limits and before it is processed (a batch's "
                             "completedAt - startedAt is at least this); 401s and rate-limit "
                             "429s answer at once (default 0)")
    parser.add_argument("--clock-skew", type=_seconds, default=0.0, metavar="SECONDS",
                        help="run the emulator's wall clock this far ahead of the machine's "
                             "(negative: behind): shifts every timestamp it writes "
                             "(startedAt, completedAt, createdAt, updatedAt, ...), never its "
                             "rate-limit windows (default 0)")
    parser.add_argument("--seed", type=int, default=None, help="seed for faults and shuffling")
    echo = parser.add_mutually_exclusive_group()
    echo.add_argument("--echo-trace-ids", dest="echo_trace_ids", action="store_const",
                      const=True, default=None,
                      help="echo objectWriteTraceId on successful batch results"
                           + (" (the default)" if _ECHO_DEFAULT else ""))
    echo.add_argument("--no-echo-trace-ids", dest="echo_trace_ids", action="store_const",
                      const=False, default=None,
                      help="omit objectWriteTraceId from successful batch results"
                           + ("" if _ECHO_DEFAULT else " (the default)"))
    parser.add_argument("--no-shuffle", action="store_true",
                        help="return batch results in input order")
    parser.add_argument("--retry-after-on-429", action="store_true",
                        help="send Retry-After on 429 responses")
    parser.add_argument("--strict-update-properties", action="store_true",
                        help="reject unknown properties on update (400) instead of ignoring")
    parser.add_argument("--no-normalize-values", action="store_true",
                        help="store and echo datetimes, numbers, booleans and ;-lists as sent "
                             "(still validated) instead of in HubSpot's normal form")
    parser.add_argument("--rich-text-html", action="store_true",
                        help="store plain-text engagement bodies (hs_note_body, ...) as the "
                             "rich-text editor's HTML")
    parser.add_argument("--unique", action="append", default=[], metavar="TYPE.PROPERTY",
                        help="declare a unique-value property, e.g. emails.external_id")
    parser.add_argument("--property", action="append", default=[], type=_property,
                        metavar="TYPE.NAME[:KIND[=A;B]]",
                        help="define a property at start, e.g. emails.external_id, "
                             "deals.score:number, contacts.tier:enumeration=gold;silver (KIND "
                             f"is one of {', '.join(PROPERTY_TYPES)}; default string); "
                             "repeatable")
    parser.add_argument("--owner", action="append", default=[], type=_owner,
                        metavar="EMAIL[:FIRST[:LAST]]",
                        help="add an owner to the seeded ones (GET /crm/v3/owners); "
                             "repeatable")
    parser.add_argument("--strict-owner-ids", action="store_true",
                        help="hubspot_owner_id takes only a live owner's id (default: any "
                             "numeric id)")
    parser.add_argument("--no-required-crm-properties", action="store_true",
                        help="do not enforce the documented required properties of contacts, "
                             "companies, deals and tickets on create")
    seeding = parser.add_mutually_exclusive_group()
    seeding.add_argument("--seed-contacts", type=_count, default=None, metavar="N",
                         help="seed the sandbox records with N contacts (601..600+N) instead "
                              "of 30")
    seeding.add_argument("--no-seed", action="store_true",
                         help="start empty (the default seeds contacts 601-630, companies "
                              "901-910, deals 1201-1205 and tickets 1501-1505)")
    parser.add_argument("--association-limit", type=_association_limit, action="append",
                        default=[], metavar="FROM.TO[.TYPEID]=N",
                        help="configure an association limit (maxToObjectIds): e.g. "
                             "emails.contacts=1 (the unlabeled type), contacts.companies.1=1 "
                             "(a HubSpot-defined type by id); repeatable")
    parser.add_argument("--v4-error-context", action="store_true",
                        help="name a failed v4 association input in its error's context "
                             "(fromObjectId, toObjectId, associationTypeId), not only in its "
                             "message")
    parser.add_argument("--v4-string-ids", action="store_true",
                        help="write v4 association record ids as strings (as the spec types "
                             "them) instead of numbers (as HubSpot's examples show)")
    parser.add_argument("--labels-on-engagements", action="store_true",
                        help="allow association labels on engagement types (HubSpot documents "
                             "them for contacts, companies, deals and tickets only)")
    parser.add_argument("--oauth-client", type=_oauth_client, default=None,
                        metavar="ID:SECRET",
                        help="the OAuth app's client id and secret the token endpoint "
                             "(POST /oauth/2026-03/token, /oauth/v3/token, /oauth/v1/token) "
                             f"accepts (default {DEFAULT_OAUTH_CLIENT_ID}:"
                             f"{DEFAULT_OAUTH_CLIENT_SECRET})")
    parser.add_argument("--oauth-refresh-token", action="append", default=[], metavar="T",
                        help="accepted refresh token, one per installed account (repeatable; "
                             "default: any non-empty)")
    parser.add_argument("--oauth-token-lifetime", type=_positive_seconds,
                        default=OAUTH_TOKEN_LIFETIME, metavar="SECONDS",
                        help="seconds an access token issued by the token endpoint lives; "
                             "afterwards requests carrying it get the expired-token 401 "
                             "(default 1800, HubSpot's 30 minutes)")
    parser.add_argument("--oauth-rotate-refresh-tokens", action="store_true",
                        help="answer every refresh with a new refresh token and refuse the "
                             "one used (default: the refresh token stays the same)")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m hubengage.emulator`` parser."""
    parser = argparse.ArgumentParser(
        prog="python -m hubengage.emulator",
        description="A faithful local HubSpot CRM API for tests, benchmarks and sandboxes.",
        formatter_class=_HelpFormatter,
    )
    add_emulator_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The :class:`EmulatorConfig` the parsed options describe."""
    unique: dict[str, tuple[str, ...]] = {}
    for spec in args.unique:
        type_name, _, prop = spec.partition(".")
        if not prop:
            raise SystemExit(f"--unique expects TYPE.PROPERTY, got {spec!r}")
        unique[type_name] = (*unique.get(type_name, ()), prop)
    burst, burst_interval = args.burst
    search, search_interval = args.search
    client_id, client_secret = args.oauth_client or (DEFAULT_OAUTH_CLIENT_ID,
                                                     DEFAULT_OAUTH_CLIENT_SECRET)
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        tokens=tuple(args.token),
        burst_limit=burst,
        burst_interval=burst_interval,
        daily_limit=args.daily,
        search_limit=search,
        search_interval=search_interval,
        echo_trace_ids=_ECHO_DEFAULT if args.echo_trace_ids is None else args.echo_trace_ids,
        shuffle_results=not args.no_shuffle,
        retry_after_on_429=args.retry_after_on_429,
        strict_update_properties=args.strict_update_properties,
        normalize_values=not args.no_normalize_values,
        rich_text_html=args.rich_text_html,
        faults=tuple(args.fault),
        slow_delay=args.slow_delay,
        latency=args.latency,
        clock_skew=args.clock_skew,
        seed=args.seed,
        unique_properties=unique,
        custom_properties=unique,
        association_limits=dict(args.association_limit),
        v4_error_context=args.v4_error_context,
        v4_numeric_ids=not args.v4_string_ids,
        labels_on_engagements=args.labels_on_engagements,
        properties=tuple(args.property),
        owners=(*DEFAULT_OWNERS, *args.owner) if args.owner else None,
        strict_owner_ids=args.strict_owner_ids,
        required_crm_properties=not args.no_required_crm_properties,
        seed_records=not args.no_seed,
        seed_contacts=args.seed_contacts,
        oauth_client_id=client_id,
        oauth_client_secret=client_secret,
        oauth_refresh_tokens=tuple(args.oauth_refresh_token),
        oauth_token_lifetime=args.oauth_token_lifetime,
        oauth_rotate_refresh_tokens=args.oauth_rotate_refresh_tokens,
    )


async def serve(config: EmulatorConfig) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with Emulator(config) as emu:
        print(f"listening on {emu.url}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, serve, exit 0 on a signal."""
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(serve(config_from_args(args)))
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0
