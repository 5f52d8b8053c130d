"""Event hooks: callables of the application's, run for every HTTP attempt the client makes.

::

    async def tag(request: Request) -> Request:
        return request.with_headers({"X-Job-Id": job_id})

    def log_retry(event: RetryEvent) -> None:
        print(f"{event.request.endpoint}: attempt {event.attempt} failed ({event.reason}), "
              f"next in {event.wait:.1f}s")

    HubSpot(event_hooks={"request": [tag], "retry": [log_retry]})

Three events, in the manner of httpx's ``event_hooks``; each hook may be a plain function or
a coroutine function:

- ``"request"``: ``hook(request)`` before each attempt leaves, once its rate-limit slot is
  granted. It may return a :class:`~hubengage.Request` to send instead, for this attempt
  (``request.with_headers({...})``), or None. The request it sees never holds the token: the
  transport adds ``Authorization`` after every hook has run, and refuses a hook's.
- ``"response"``: ``hook(request, response)`` for every response, whatever its status (2xx,
  207, 429, 5xx), before it is classified. An attempt that got no response (a dropped
  connection, a timeout) has no response event; a retry event follows if it is retried.
- ``"retry"``: ``hook(event)`` with a :class:`RetryEvent` when a failed attempt is about to
  be retried: which attempt failed, why, and how long until the next one.

Hooks run in the client's event loop, in the order given, and are awaited: a slow ``request``
hook holds a rate-limit slot, so keep hooks fast. A batched request serves up to 100 calls,
so its hooks run once per attempt of the batch, not once per call.

**A hook that raises does not break the call.** The exception is logged (``hubengage``
logger, ERROR, with its traceback) and the attempt goes on as if the hook had returned None:
a failing metrics or logging hook must never fail the hundred callers whose items share a
batch, nor leave a slot taken. Hooks observe and annotate; they do not veto (to refuse a
call, check before making it). Cancellation is not an exception of the hook's: it propagates.

The tracing integration (``hubengage._otel``) sees the same events through the
:class:`Tracer` interface here.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypedDict

import attrs

from ._errors import HubEngageError, InvalidInputError
from ._transport import Request, Response

__all__ = [
    "AttemptTrace",
    "EventHooks",
    "HookRunner",
    "RequestHook",
    "ResponseHook",
    "RetryEvent",
    "RetryHook",
    "Tracer",
]

logger = logging.getLogger("hubengage")


@attrs.frozen(kw_only=True)
class RetryEvent:
    """A failed attempt that is about to be retried (the ``"retry"`` event hook's argument).

    ``attempt`` is the number of the attempt that failed (1 for the first try); the next is
    ``attempt + 1``. ``wait`` is the seconds until it is made: the retry policy's backoff or
    ``Retry-After``, or the rate-limit pause after a 429 when that is longer. ``reason`` says
    why in words (``"HTTP 502"``, ``"rate limited (TEN_SECONDLY_ROLLING)"``) and ``error``
    is what the failed attempt ended with.
    """

    request: Request
    attempt: int
    wait: float
    reason: str
    error: HubEngageError


#: ``hook(request)`` before each attempt: None, or a request to send instead.
RequestHook = Callable[[Request], "Request | Awaitable[Request | None] | None"]
#: ``hook(request, response)`` for every response, whatever its status.
ResponseHook = Callable[[Request, Response], "Awaitable[None] | None"]
#: ``hook(event)`` when a failed attempt is about to be retried.
RetryHook = Callable[[RetryEvent], "Awaitable[None] | None"]


class EventHooks(TypedDict, total=False):
    """``HubSpot(event_hooks=...)``: lists of hooks per event (see ``hubengage._hooks``)."""

    request: Sequence[RequestHook]
    response: Sequence[ResponseHook]
    retry: Sequence[RetryHook]


_EVENTS = ("request", "response", "retry")


class AttemptTrace(Protocol):
    """One traced HTTP attempt, ended exactly once."""

    def end(self, response: Response | None, error: BaseException | None) -> None:
        """The attempt got ``response``, or failed with ``error`` (no response)."""
        ...


class Tracer(Protocol):
    """What the request pipeline tells a tracing integration (``hubengage._otel``)."""

    def start(self, request: Request, *, attempt: int, rate_limit_wait: float) -> AttemptTrace:
        """An attempt is leaving now; ``rate_limit_wait`` seconds were spent for its slot."""
        ...

    def retried(self, event: RetryEvent) -> None:
        """A failed attempt is about to be retried."""
        ...


class HookRunner:
    """The event hooks of one client, called with the failure policy above."""

    __slots__ = ("_request", "_response", "_retry")

    def __init__(self, hooks: EventHooks | Mapping[str, Any] | None = None) -> None:
        given: Mapping[str, Any] = hooks or {}
        if not isinstance(given, Mapping):
            raise InvalidInputError("must be a mapping of event names to lists of hooks",
                                    field="event_hooks")
        unknown = sorted(set(given) - set(_EVENTS))
        if unknown:
            raise InvalidInputError(f"unknown event {unknown[0]!r}; events are "
                                    f"{', '.join(_EVENTS)}", field="event_hooks")
        checked: dict[str, tuple[Callable[..., Any], ...]] = {}
        for event in _EVENTS:
            listed = given.get(event) or ()
            if callable(listed) or not isinstance(listed, Iterable) \
                    or isinstance(listed, str | bytes):
                raise InvalidInputError("must be a list of hooks", field=f"event_hooks.{event}")
            for i, hook in enumerate(listed):
                if not callable(hook):
                    raise InvalidInputError(f"must be callable, not {type(hook).__name__}",
                                            field=f"event_hooks.{event}[{i}]")
            checked[event] = tuple(listed)
        self._request = checked["request"]
        self._response = checked["response"]
        self._retry = checked["retry"]

    def __bool__(self) -> bool:
        return bool(self._request or self._response or self._retry)

    async def request(self, request: Request) -> Request:
        """Run the request hooks; the request to send, with the headers and timeout a hook's
        replacement set.

        The body is encoded before the hooks run and each hook sees a copy of its JSON: a
        hook that edits what it was given in place changes neither what is sent nor the
        calls the batch decoder matches the answer against. Of a replacement, only
        ``headers`` and ``timeout`` are taken; other changes are logged and ignored.
        """
        if not self._request:
            return request
        request.body  # noqa: B018 - encoded now: what is sent is what the calls hold
        for hook in self._request:
            shown = request.replace(json=copy.deepcopy(request.json)) \
                if request.json is not None else request
            object.__setattr__(shown, "body", request.body)
            ok, answer = await _call(hook, "request", shown)
            if not ok or answer is None:
                continue
            if not isinstance(answer, Request):
                logger.error("hubengage: request hook %s returned a %s, not a Request or None; "
                             "ignored", _name(hook), type(answer).__name__)
                continue
            if (answer.method, answer.path, answer.params, answer.url) != (
                    request.method, request.path, request.params, request.url) \
                    or answer.json != request.json or answer.form != request.form:
                logger.error("hubengage: request hook %s changed more than headers and "
                             "timeout; only those are taken", _name(hook))
            request = request.replace(headers=answer.headers, timeout=answer.timeout)
        return request

    async def response(self, request: Request, response: Response) -> None:
        """Run the response hooks."""
        for hook in self._response:
            await _call(hook, "response", request, response)

    async def retry(self, event: RetryEvent) -> None:
        """Run the retry hooks."""
        for hook in self._retry:
            await _call(hook, "retry", event)


async def _call(hook: Callable[..., Any], event: str, *args: object) -> tuple[bool, Any]:
    """Call one hook (awaiting it if it is async); ``(False, None)`` when it raised."""
    try:
        answer = hook(*args)
        if inspect.isawaitable(answer):
            answer = await answer
    except Exception:
        logger.exception("hubengage: %s hook %s raised; ignored (the call goes on)",
                         event, _name(hook))
        return False, None
    return True, answer


def _name(hook: Callable[..., Any]) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)
