"""The rate budget in Redis: one budget for every process and machine on a token.

The state and the admission rule are those of :mod:`hubengage._budget`, kept in three Redis
keys per bucket (``{key}:{bucket}:inflight``, ``:window``, ``:state``) and changed only by
Lua scripts, each atomic, reading the Redis server's clock (``TIME``): the one clock every
process agrees on. An in-flight slot is a lease: the member of ``:inflight`` whose score is
when it ends, so a slot whose process died frees by itself. ``key`` is derived from a hash
of the access token (never the token) unless given.

If Redis cannot be reached, taking a slot raises :class:`BudgetStoreError` (nothing is sent),
or, with ``fallback=True``, the store warns once and carries on with a budget in this process.
Returning a slot never fails a call: a lost release only keeps the lease until it ends.

This is the only module that imports ``redis`` (the ``redis`` extra: ``pip install
'hubengage[redis]'``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._budget import DEFAULT_LEASE, GRACE, Admission, MemoryStore, Observation, WindowRules
from ._clock import Clock
from ._errors import BudgetStoreError, InvalidInputError

__all__ = ["RedisStore", "redacted"]

logger = logging.getLogger("hubengage")

#: Connections one store opens to Redis at most (more calls wait for one).
_MAX_CONNECTIONS = 16

#: How long an idle budget's keys live in Redis (they are refreshed by every admission).
_KEY_TTL_MS = 86_400_000 * 2


def redacted(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + netloc, parts.path, parts.query, parts.fragment))


# The arithmetic of ``_budget.effective``, line by line, shared by the scripts that need it.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local GRACE_MS = """ + str(round(GRACE * 1000)) + """
local function effective(st_max, st_int)
  local rmax = tonumber(ARGV[3]); local rint = tonumber(ARGV[4])
  local learn = ARGV[5] == '1'; local share = tonumber(ARGV[6])
  local lmax = tonumber(st_max); local lint = tonumber(st_int)
  local wmax, interval
  if lmax == nil then wmax = rmax elseif learn then wmax = lmax else wmax = math.min(rmax, lmax) end
  if lint == nil then interval = rint elseif learn then interval = lint
  else interval = math.max(rint, lint) end
  local own = wmax
  if not learn then own = math.min(own, rmax) end
  if share > 0 then own = math.min(own, math.max(1, math.floor(wmax * share))) end
  return wmax, own, interval
end
local function count(interval)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - interval - GRACE_MS)
  return redis.call('ZCARD', KEYS[1])
    + redis.call('ZCOUNT', KEYS[2], '(' .. (now - interval), '+inf')
end
local function touch(ttl)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
"""

# KEYS: inflight, window, state. ARGV: slot, lease_ms, max, interval_ms, learn, share (0: none),
# cautious, daily cap (-1: none), key ttl_ms.
_ADMIT = _PRELUDE + """
local st = redis.call('HMGET', KEYS[3], 'max', 'interval', 'answered', 'paused_until',
  'phantoms', 'phantoms_until', 'conservative', 'daily_blocked_until', 'daily_used',
  'daily_started')
local wmax, own, interval = effective(st[1], st[2])
local conservative = (st[7] == '1') and 1 or 0
local blocked = tonumber(st[8]) or 0
if blocked > now then return {0, blocked - now, wmax, interval, 0, 1, conservative} end
local cap = tonumber(ARGV[8])
if cap >= 0 then
  local started = tonumber(st[10]) or 0
  local used = tonumber(st[9]) or 0
  if now - started >= 86400000 then
    redis.call('HSET', KEYS[3], 'daily_started', now, 'daily_used', 0)
    started = now; used = 0
  end
  if used >= cap then return {0, started + 86400000 - now, wmax, interval, 0, 1, conservative} end
end
local paused = tonumber(st[4]) or 0
if paused > now then return {0, paused - now, wmax, interval, 1, 0, conservative} end
local n = count(interval)
local phantoms = 0
local phantoms_until = tonumber(st[6]) or 0
if phantoms_until > now then phantoms = tonumber(st[5]) or 0 end
local room
if ARGV[7] == '1' and st[3] ~= '1' then room = (n == 0)
else room = (n < own) and (n + phantoms < wmax) end
touch(tonumber(ARGV[9]))
if room then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  if cap >= 0 then redis.call('HINCRBY', KEYS[3], 'daily_used', 1) end
  return {1, 0, wmax, interval, 0, 0, conservative}
end
local next = -1
local oldest = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (now - interval), '+inf',
  'WITHSCORES', 'LIMIT', 0, 1)
if oldest[2] then next = tonumber(oldest[2]) + interval end
local lease = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if lease[2] and (next < 0 or tonumber(lease[2]) < next) then next = tonumber(lease[2]) end
if phantoms > 0 and (next < 0 or phantoms_until < next) then next = phantoms_until end
local wait = -1
if next >= 0 then wait = math.max(0, next - now) end
return {0, wait, wmax, interval, 0, 0, conservative}
"""

# KEYS: inflight, window, state. ARGV: slot, age_ms, max, interval_ms, learn, share, cautious,
# observed max (-1), observed interval_ms (-1), observed remaining (-1), observed daily
# remaining (-1: none), daily cooldown ms, ms since the request was sent, ms since its answer
# arrived, lease_ms.
_RELEASE = _PRELUDE + """
redis.call('HSET', KEYS[3], 'answered', 1)
local omax = tonumber(ARGV[8]); local oint = tonumber(ARGV[9])
local orem = tonumber(ARGV[10]); local odaily = tonumber(ARGV[11])
if omax > 0 and oint > 0 then redis.call('HSET', KEYS[3], 'max', omax, 'interval', oint) end
if ARGV[11] ~= '' and odaily <= 0 then
  redis.call('HSET', KEYS[3], 'daily_blocked_until', now + tonumber(ARGV[12]))
end
local st = redis.call('HMGET', KEYS[3], 'max', 'interval')
local wmax, own, interval = effective(st[1], st[2])
if omax > 0 and orem >= 0 then
  count(interval)
  local sent = now - tonumber(ARGV[13])
  local arrived = now - tonumber(ARGV[14])
  local ours = redis.call('ZCOUNT', KEYS[1], '-inf', arrived + tonumber(ARGV[15]))
    + redis.call('ZCOUNT', KEYS[2], '(' .. (sent - interval), '+inf')
  redis.call('HSET', KEYS[3], 'phantoms', math.max(0, (omax - orem) - ours),
    'phantoms_until', arrived + interval)
end
redis.call('ZREM', KEYS[1], ARGV[1])
local bound = now - tonumber(ARGV[2])
if bound + interval > now then redis.call('ZADD', KEYS[2], bound, ARGV[1]) end
return {wmax, interval}
"""

# KEYS: inflight, state. ARGV: slot, counted against a daily cap (1/0).
_ABANDON = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 and ARGV[2] == '1' then
  local used = tonumber(redis.call('HGET', KEYS[2], 'daily_used')) or 0
  if used > 0 then redis.call('HINCRBY', KEYS[2], 'daily_used', -1) end
end
return removed
"""

# KEYS: state. ARGV: field, ms from now, conservative (1/0).
_UNTIL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = now + tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0
if at > current then redis.call('HSET', KEYS[1], ARGV[1], at) end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'conservative', 1) end
return at
"""

# KEYS: inflight, window, state. ARGV: -, -, max, interval_ms, learn, share.
_SNAPSHOT = _PRELUDE + """
local st = redis.call('HMGET', KEYS[3], 'max', 'interval', 'paused_until', 'phantoms',
  'phantoms_until', 'conservative', 'daily_blocked_until', 'daily_used')
local wmax, own, interval = effective(st[1], st[2])
local inflight = redis.call('ZCOUNT', KEYS[1], now, '+inf')
local window = redis.call('ZCOUNT', KEYS[2], '(' .. (now - interval), '+inf')
local phantoms = 0
if (tonumber(st[5]) or 0) > now then phantoms = tonumber(st[4]) or 0 end
return {wmax, own, interval, inflight, inflight + window, phantoms,
  math.max(0, (tonumber(st[3]) or 0) - now), st[1] and 1 or 0, (st[6] == '1') and 1 or 0,
  math.max(0, (tonumber(st[7]) or 0) - now), tonumber(st[8]) or 0}
"""


def _ms_ago(age: float) -> int:
    return round(min(max(0.0, age), GRACE) * 1000)


def _rules_args(rules: WindowRules) -> list[Any]:
    return [rules.max, round(rules.interval * 1000), 1 if rules.learn else 0,
            rules.share or 0, 1 if rules.cautious else 0]


class RedisStore:
    """A :class:`~hubengage._budget.BudgetStore` in Redis, shared by every process using
    ``key`` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        key: str,
        clock: Clock,
        fallback: bool = False,
        lease: float = DEFAULT_LEASE,
        timeout: float = 5.0,
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401  (checked here: a clear error at construction)
        except ImportError:
            raise InvalidInputError(
                "a Redis rate-limit store needs redis-py: pip install 'hubengage[redis]'",
                field="rate_limit_store",
            ) from None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise InvalidInputError(f"not a Redis URL: {redacted(url)!r}",
                                    field="rate_limit_store")
        self.url = url
        self.key = key
        self._clock = clock
        self._fallback = fallback
        self._lease_ms = round(lease * 1000)
        self._timeout = timeout
        self._client: Any = None
        self._scripts: dict[str, Any] = {}
        self._local: MemoryStore | None = None

    def __repr__(self) -> str:
        return f"RedisStore({redacted(self.url)!r}, key={self.key!r})"

    def _keys(self, bucket: str) -> list[str]:
        base = f"{self.key}:{bucket}"
        return [f"{base}:inflight", f"{base}:window", f"{base}:state"]

    async def _run(self, name: str, source: str, keys: list[str], args: list[Any]) -> Any:
        if self._client is None:
            import redis.asyncio as aioredis

            # A blocking pool: a burst of releases (a window's worth of answers at once) waits
            # for a connection instead of failing with "Too many connections".
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url, max_connections=_MAX_CONNECTIONS, timeout=self._timeout,
                socket_timeout=self._timeout, socket_connect_timeout=self._timeout)
            self._client = aioredis.Redis.from_pool(pool)
            self._scripts = {}
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self._client.register_script(source)
        return await script(keys=keys, args=args)

    async def _call(self, name: str, source: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script; None (after a warning) when Redis failed and the local fallback
        now serves; ``BudgetStoreError`` when it failed without one."""
        from redis.exceptions import RedisError

        try:
            return await self._run(name, source, keys, args)
        except (RedisError, OSError) as exc:
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        if not self._fallback:
            raise BudgetStoreError(
                f"the shared rate budget at {redacted(self.url)} is unreachable ({reason}); "
                "nothing was sent"
            )
        if self._local is None:
            logger.warning(
                "the shared rate budget at %s is unreachable (%s); keeping a budget in this "
                "process instead (other processes on the token are no longer accounted for)",
                redacted(self.url), reason,
            )
            self._local = MemoryStore(self._clock)
        return None

    # -- the BudgetStore interface ----------------------------------------------------------

    async def admit(self, bucket: str, slot_id: str, rules: WindowRules) -> Admission:
        """Run the admission script (see ``_budget``)."""
        if self._local is not None:
            return await self._local.admit(bucket, slot_id, rules)
        args = [slot_id, self._lease_ms, *_rules_args(rules),
                -1 if rules.daily is None else rules.daily, _KEY_TTL_MS]
        reply = await self._call("admit", _ADMIT, self._keys(bucket), args)
        if reply is None:
            return await self.admit(bucket, slot_id, rules)
        admitted, wait_ms, wmax, interval_ms, paused, daily, conservative = (
            int(v) for v in reply)
        wait = float("inf") if wait_ms < 0 else wait_ms / 1000
        return Admission(bool(admitted), wait, wmax, interval_ms / 1000, bool(paused),
                         bool(daily), bool(conservative))

    async def release(
        self, bucket: str, slot_id: str, age: float, observed: Observation | None,
        rules: WindowRules, *, sent_age: float = 0.0, answer_age: float = 0.0,
    ) -> tuple[int, float]:
        """Run the release script; on failure keep the assumption (the lease ends anyway)."""
        if self._local is not None:
            return await self._local.release(bucket, slot_id, age, observed, rules,
                                             sent_age=sent_age, answer_age=answer_age)
        obs = observed or Observation()
        args = [slot_id, round(max(0.0, age) * 1000), *_rules_args(rules),
                obs.max or -1, round((obs.interval or 0) * 1000) or -1,
                -1 if obs.remaining is None else obs.remaining,
                "" if obs.daily_remaining is None else obs.daily_remaining,
                round(rules.daily_cooldown * 1000),
                _ms_ago(sent_age), _ms_ago(answer_age), self._lease_ms]
        try:
            reply = await self._call("release", _RELEASE, self._keys(bucket), args)
        except BudgetStoreError as exc:
            logger.warning("%s; the slot is held until its lease ends", exc)
            return rules.max, rules.interval
        if reply is None:
            return await self.release(bucket, slot_id, age, observed, rules,
                                      sent_age=sent_age, answer_age=answer_age)
        return int(reply[0]), int(reply[1]) / 1000

    async def abandon(self, bucket: str, slot_id: str) -> None:
        """Remove an unused slot (a lost abandon only keeps it until its lease ends)."""
        if self._local is not None:
            await self._local.abandon(bucket, slot_id)
            return
        inflight, _, state = self._keys(bucket)
        try:
            await self._call("abandon", _ABANDON, [inflight, state], [slot_id, 1])
        except BudgetStoreError as exc:
            logger.warning("%s; the slot is held until its lease ends", exc)

    async def pause(self, bucket: str, seconds: float, *, conservative: bool) -> None:
        """Pause every process on the budget."""
        await self._until(bucket, "paused_until", seconds, conservative)
        if self._local is not None:
            await self._local.pause(bucket, seconds, conservative=conservative)

    async def block_daily(self, bucket: str, seconds: float) -> None:
        """Block every process on the budget for the daily cooldown."""
        await self._until(bucket, "daily_blocked_until", seconds, False)
        if self._local is not None:
            await self._local.block_daily(bucket, seconds)

    async def _until(self, bucket: str, field: str, seconds: float, conservative: bool) -> None:
        if self._local is not None:
            return
        try:
            await self._call("until", _UNTIL, [self._keys(bucket)[2]],
                             [field, round(seconds * 1000), 1 if conservative else 0])
        except BudgetStoreError as exc:
            logger.warning("%s; this process pauses on its own", exc)

    async def reset_daily(self, bucket: str) -> None:
        """Forget a spent daily quota and the daily count, for every process."""
        if self._local is not None:
            await self._local.reset_daily(bucket)
            return
        try:
            await self._run("reset", "return redis.call('HDEL', KEYS[1], "
                            "'daily_blocked_until', 'daily_used', 'daily_started')",
                            [self._keys(bucket)[2]], [])
        except Exception as exc:  # a reset that fails changes nothing
            logger.warning("could not reset the shared daily quota: %s", type(exc).__name__)

    async def snapshot(self, bucket: str, rules: WindowRules) -> dict[str, float | int | bool]:
        """The shared state in force."""
        if self._local is not None:
            return await self._local.snapshot(bucket, rules)
        reply = await self._call("snapshot", _SNAPSHOT, self._keys(bucket),
                                 ["", "", *_rules_args(rules)[:4]])
        if reply is None:
            return await self.snapshot(bucket, rules)
        (wmax, own, interval_ms, inflight, used, phantoms, paused_ms, learned, conservative,
         daily_ms, daily_used) = (int(v) for v in reply)
        return {"max": wmax, "own_cap": own, "interval_seconds": interval_ms / 1000,
                "in_flight": inflight, "used": used, "phantoms": phantoms,
                "paused_for": paused_ms / 1000, "learned": bool(learned),
                "conservative": bool(conservative), "daily_blocked_for": daily_ms / 1000,
                "daily_used": daily_used, "store": repr(self)}  # type: ignore[dict-item]

    async def aclose(self) -> None:
        """Close the connection pool."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
