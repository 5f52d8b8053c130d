"""HubSpot's limits and caps, and the client's defaults: each named once, here.

Both the SDK and the emulator read HubSpot's numbers from this module, so a cap the client
keeps to is the cap the emulator enforces. Sources: ``docs/hubspot-wire.md`` (section given
per constant).
"""

from __future__ import annotations

__all__ = [
    "BASE_URL_ENV_VAR",
    "BURST_INTERVAL_SECONDS",
    "CREATE_SCAN_LIMIT",
    "DEFAULT_BASE_URL",
    "DEFAULT_BULK_WINDOW",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DAILY_COOLDOWN",
    "DEFAULT_DAILY_LIMIT",
    "DEFAULT_INITIAL_BACKOFF",
    "DEFAULT_LOCKED_BACKOFF",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_BACKOFF",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_ELAPSED_SECONDS",
    "DEFAULT_MAX_IN_FLIGHT",
    "DEFAULT_MAX_PENDING",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "MAX_ASSOCIATIONS_BATCH",
    "MAX_ASSOCIATIONS_BATCH_READ",
    "MAX_ASSOCIATIONS_PAGE_SIZE",
    "MAX_BATCH_SIZE",
    "MAX_BURST_PER_INTERVAL",
    "MAX_FILTERS",
    "MAX_FILTERS_PER_GROUP",
    "MAX_FILTER_GROUPS",
    "MAX_HISTORY_BATCH_SIZE",
    "MAX_LIST_PAGE_SIZE",
    "MAX_NOTE_BODY_CHARS",
    "MAX_SEARCH_BODY_CHARS",
    "MAX_SEARCH_PAGE_SIZE",
    "RATE_LIMIT_STORE_ENV_VAR",
    "SEARCH_INTERVAL_SECONDS",
    "SEARCH_PER_INTERVAL",
    "SEARCH_RESULT_CAP",
    "SEARCH_RETRY_DELAY",
    "TOKEN_ENV_VAR",
    "USER_AGENT",
]

# -- HubSpot's limits ---------------------------------------------------------------------------

#: Inputs per batch request (``batch/create``, ``read``, ``update``, ``upsert``, ``archive``);
#: 101 answers 400 (§1.3).
MAX_BATCH_SIZE = 100
#: Records per page of a list (``GET /crm/v3/objects/{type}``) (§1.3).
MAX_LIST_PAGE_SIZE = 100
#: Records per page of a search (§1.2).
MAX_SEARCH_PAGE_SIZE = 200
#: Associations per page of the v4 associations GET (S-A4: "Limit 500 per call"); also the
#: page of each input of a v4 association ``batch/read``.
MAX_ASSOCIATIONS_PAGE_SIZE = 500
#: Inputs of a v4 association ``batch/read`` (§1.3, §5.1).
MAX_ASSOCIATIONS_BATCH_READ = 1_000
#: Inputs of the other v4 association batches (``batch/create``, ``associate/default``,
#: ``archive``, ``labels/archive``) (§1.3).
MAX_ASSOCIATIONS_BATCH = 2_000
#: Properties one read may ask with their history (``propertiesWithHistory``), and the inputs
#: of a ``batch/read`` / records of a list page that asks any (§1.3).
MAX_HISTORY_BATCH_SIZE = 50
#: Results one search query can page through; paging past it is a 400 (§1.2).
SEARCH_RESULT_CAP = 10_000
#: Search filter limits: groups, filters per group, filters in all (§1.2).
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
#: Characters in a search request body (§1.2).
MAX_SEARCH_BODY_CHARS = 3_000
#: Characters in a note's ``hs_note_body`` (§5).
MAX_NOTE_BODY_CHARS = 65_536
#: The burst window of a Free/Starter private app: requests per interval (§1.1).
MAX_BURST_PER_INTERVAL = 100
BURST_INTERVAL_SECONDS = 10.0
#: The daily quota of a Free/Starter account (§1.1).
DEFAULT_DAILY_LIMIT = 250_000
#: The search API's own limit: requests per interval (§1.2).
SEARCH_PER_INTERVAL = 5
SEARCH_INTERVAL_SECONDS = 1.0

# -- the client's defaults ----------------------------------------------------------------------

#: HubSpot's API host.
DEFAULT_BASE_URL = "https://api.hubapi.com"
#: Where ``HubSpot()`` looks for the access token when none is passed.
TOKEN_ENV_VAR = "HUBSPOT_ACCESS_TOKEN"
#: Where ``HubSpot()`` looks for the base URL when none is passed (e.g. an emulator's URL).
BASE_URL_ENV_VAR = "HUBSPOT_BASE_URL"
#: Where ``HubSpot()`` looks for a shared rate budget when none is passed (``redis://...``).
RATE_LIMIT_STORE_ENV_VAR = "HUBENGAGE_RATE_LIMIT_STORE"
#: Sent as ``User-Agent``.
USER_AGENT = "hubengage/0.1 (+python; asyncio)"
#: Seconds a whole request may take (connect, send, wait, read) before it is abandoned.
DEFAULT_TIMEOUT = 30.0
#: Seconds to establish a connection (including a free slot in the connection pool).
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Connections a client may open (idle ones are kept for reuse).
DEFAULT_MAX_CONNECTIONS = 256
#: Batch requests one client keeps in flight at once. Above any HubSpot window (250 with the
#: limit add-on), so the rate budget is what bounds them: a full window can go out at once,
#: which is what lets a client reach the window's physical limit when each request takes
#: HubSpot hundreds of milliseconds (16 in flight at 0.5 s each took 3 s to send a window).
DEFAULT_MAX_IN_FLIGHT = 256
#: Calls accepted but not yet completed; further calls wait for room. A full batch for every
#: request in flight, so that when a window of up to 256 requests frees at once every one of
#: them has a batch ready (10,000 left a 190-request window waiting on answers for its last
#: 90).
DEFAULT_MAX_PENDING = MAX_BATCH_SIZE * DEFAULT_MAX_IN_FLIGHT
#: Inputs a bulk call keeps read but not yet yielded (memory stays flat).
DEFAULT_BULK_WINDOW = 5_000
#: How far past the head a create batch looks for inputs distinguishable from those taken.
CREATE_SCAN_LIMIT = 1_000
#: Retry policy: attempts (the first included), total seconds per call, backoff for 5xx and
#: dropped connections (exponential from the initial value, capped), 423's wait (§4: "locks
#: last for 2 seconds"), the wait after a search 429 without ``Retry-After``.
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_MAX_ELAPSED_SECONDS = 120.0
DEFAULT_INITIAL_BACKOFF = 0.5
DEFAULT_MAX_BACKOFF = 30.0
DEFAULT_LOCKED_BACKOFF = 2.0
SEARCH_RETRY_DELAY = 1.0
#: The longest a ``Retry-After`` header or a rate-limit pause is obeyed, in seconds. A proxy
#: answering ``Retry-After: 100000`` must not stop the client for a day (HubSpot's own 477
#: may say "up to 24 hours"; the retry deadline then decides).
DEFAULT_MAX_RETRY_AFTER = 60.0
#: After HubSpot says the daily quota is spent, calls fail fast this long before one probes.
DEFAULT_DAILY_COOLDOWN = 900.0
