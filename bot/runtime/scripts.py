"""Lua scripts: each state change of the queue is one atomic Redis round trip.

Invariant kept by every script: a concurrency key is in the `sched` ZSET exactly when its queue
list is non-empty; its score is when the head run is next due, or its lease expiry while a worker
holds it (so a dead worker's run comes back by itself after the visibility timeout). Sleeping and
waiting runs are in no queue: the `timers` ZSET brings them back (lua.py describes every state).
"""

from __future__ import annotations

import re

from bot.runtime.lua import CORE
from bot.runtime.lua_making import MAKING

_FUNCTION = re.compile(r"^local function (\w+)\(", re.MULTILINE)
_CALL = re.compile(r"\b(\w+)\(")


def _library() -> tuple[str, dict[str, str]]:
    # Split the library into its head (shared state) and one chunk per `local function`.
    text = CORE + MAKING
    found = list(_FUNCTION.finditer(text))
    ends = [m.start() for m in found[1:]] + [len(text)]
    chunks = {m.group(1): text[m.start() : end] for m, end in zip(found, ends, strict=True)}
    return text[: found[0].start()], chunks


_HEAD, _FUNCTIONS = _library()


def with_lib(*parts: str) -> str:
    """Return a script body: only the library functions `parts` call (transitively), then them.

    A smaller script matters to the embedded store, which compiles the whole text on each call.
    """
    body = "".join(parts)
    needed: set[str] = set()
    todo = [name for name in _CALL.findall(body) if name in _FUNCTIONS]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [n for n in _CALL.findall(_FUNCTIONS[name]) if n in _FUNCTIONS]
    used = [code for name, code in _FUNCTIONS.items() if name in needed]  # in definition order
    return _HEAD + "".join(used) + body


# ARGV: now, events... Returns {cancelled count, per event: 1 queued, 2 ignored,
# 0 duplicate, 3 event record gone}.
ENQUEUE = with_lib(
    """
local out = enqueue_all(2, tonumber(ARGV[1]))
table.insert(out, 1, W.cancelled)
wake_flush()
return out
"""
)

# ARGV: now, deliveries... Returns per delivery: 1 accepted (in the inbox), 2 ignored, 0 duplicate.
ACCEPT = with_lib(
    """
local out = accept_all(2, tonumber(ARGV[1]))
wake_flush()
return out
"""
)

# ARGV: now, limit. Wake what is due in the timers; returns when the next timer is due ('').
FIRE = with_lib(
    """
fire_timers(tonumber(ARGV[1]), tonumber(ARGV[2]))
local head = redis.call('ZRANGE', c.timers, 0, 0, 'WITHSCORES')
wake_flush()
if head[2] then return string.format('%d', tonumber(head[2])) end
return ''
"""
)

# ARGV: now, lease_ms, limit, token_base.
# Returns {next_due, outbox length, next timer, inbox length,
#   {key, token, run_id, run, record, steps}...}.
CLAIM = with_lib(
    """
local now, lease_ms, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', c.sched, '-inf', now, 'LIMIT', 0, limit)
local out = {'', 0, '', 0}
for n, ck in ipairs(due) do
  local rid = redis.call('LINDEX', c.qp .. ck, 0)
  if not rid then
    redis.call('ZREM', c.sched, ck)
    redis.call('HDEL', c.lease, ck)
  else
    local token = ARGV[4] .. '.' .. n
    redis.call('ZADD', c.sched, now + lease_ms, ck)
    redis.call('HSET', c.lease, ck, token)
    local rk = c.rp .. rid
    local eid = redis.call('HGET', rk, 'event')
    local record = ''
    if eid then
      record = redis.call('GET', c.ep .. eid) or ''
      -- Still 'running' means the last holder died or lost its lease mid-run.
      if redis.call('HGET', rk, 'status') == 'running' then
        redis.call('HINCRBY', rk, 'abandoned', 1)
      end
      redis.call('HSET', rk, 'status', 'running', 'updated', now)
      redis.call('HINCRBY', rk, 'claims', 1)
    end
    out[#out + 1] = {ck, token, rid, redis.call('HGETALL', rk), record,
      redis.call('HGETALL', rk .. c.ss)}
  end
end
local b = redis.call('ZRANGE', c.timers, 0, 0, 'WITHSCORES')
if b[2] then out[3] = string.format('%d', tonumber(b[2])) end
if #out == 4 then
  local a = redis.call('ZRANGE', c.sched, 0, 0, 'WITHSCORES')
  local nxt = tonumber(a[2])
  if b[2] and (not nxt or tonumber(b[2]) < nxt) then nxt = tonumber(b[2]) end
  if nxt then out[1] = string.format('%d', nxt) end
end
out[2] = redis.call('LLEN', c.outbox)
out[4] = redis.call('LLEN', c.inbox)
return out
"""
)

# Every script below starts by checking the caller still holds the lease; 0 when it does not.
# A run asked to cancel while it ran (`why`) is left as it is, and the script answers 2: the
# worker then ends it with END_CANCELLED (or, if that worker dies, the next one does).
_FENCE = """
local ck, token, rid, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if redis.call('HGET', c.lease, ck) ~= token then return 0 end
local rk = c.rp .. rid
local f = redis.call('HMGET', rk, 'cancel', 'wait_step')
local why = f[1]
"""

# ARGV: key, token, run_id, now, step_id, encoded, log_entry.
# Returns 1 saved, 2 saved but the run was asked to cancel meanwhile, 0 lease lost.
SAVE_STEP = with_lib(
    _FENCE,
    """
redis.call('HSET', rk .. c.ss, ARGV[5], ARGV[6])
if f[2] == ARGV[5] then end_wait(rid, nil, now) end
redis.call('HSET', rk, 'attempt', 0, 'updated', now)
redis.call('RPUSH', rk .. c.ls, ARGV[7])
if why then return 2 end
return 1
""",
)

# ARGV: key, token, run_id, now, reason. End the held run as cancelled and free its key.
END_CANCELLED = with_lib(
    _FENCE,
    """
release(ck, rid, now)
cancelled(rid, now, why or ARGV[5])
wake_flush()
return 1
""",
)

# ARGV: key, token, run_id, now, at, status, attempt, error, log_entry.
# The run stays at the head of its queue, due again at `at`.
RESCHEDULE = with_lib(
    _FENCE,
    """
if why then return 2 end
redis.call('ZADD', c.sched, ARGV[5], ck)
redis.call('HDEL', c.lease, ck)
redis.call('HSET', rk, 'status', ARGV[6], 'attempt', ARGV[7], 'error', ARGV[8],
  'updated', now, 'next_at', ARGV[5])
if ARGV[9] ~= '' then redis.call('RPUSH', rk .. c.ls, ARGV[9]) end
return 1
""",
)

# ARGV: key, token, run_id, now, until, log_entry. Park a sleeping run off its queue.
SLEEP = with_lib(
    _FENCE,
    """
if why then return 2 end
release(ck, rid, now)
redis.call('HSET', rk, 'status', 'sleeping', 'next_at', ARGV[5], 'updated', now)
redis.call('RPUSH', rk .. c.ls, ARGV[6])
redis.call('ZADD', c.timers, ARGV[5], 'r:' .. rid)
W.wake = true
wake_flush()
return 1
""",
)

# ARGV: key, token, run_id, now, spec, consumed event ids (JSON).
# spec: {step, name, on (JSON [name, path, value key]), deadline, lookback}.
# Returns {3, deadline, event id, received ms, record, ...} candidates (lease kept), {4, deadline}
# timed out (lease kept), {1, deadline} parked, {2} asked to cancel, 0 lease lost.
WAIT = with_lib(
    _FENCE,
    """
if why then return {2} end
local s = cjson.decode(ARGV[5])
local cand = rk .. c.cs
local deadline
if f[2] == s.step then
  deadline = tonumber(redis.call('HGET', rk, 'wait_until'))
else
  end_wait(rid, nil, now)
  deadline = s.deadline
  redis.call('HSET', rk, 'wait_step', s.step, 'wait_event', s.name, 'wait_until', deadline,
    'wait_on', s.on)
  local on = cjson.decode(s.on)
  listen(on, 'w:' .. rid)
  if s.lookback > 0 then
    local own = redis.call('HGET', rk, 'event')
    local from = now - math.min(s.lookback, c.recent_ttl)
    local seen = redis.call('ZRANGEBYSCORE', c.recp .. s.name, from, now, 'WITHSCORES')
    for i = 1, #seen, 2 do
      local rec = seen[i] ~= own and redis.call('GET', c.ep .. seen[i])
      if rec and (on[2] == '' or norm(at_path(cjson.decode(rec).event, on[2])) == on[3]) then
        offer(rid, seen[i], seen[i + 1], now)
      end
    end
  end
end
for _, eid in ipairs(cjson.decode(ARGV[6])) do
  if redis.call('ZREM', cand, eid) == 1 then unhold(eid, 'c:' .. rid, false, now) end
end
local got = redis.call('ZRANGEBYSCORE', cand, '-inf', deadline, 'WITHSCORES', 'LIMIT', 0, 50)
if #got > 0 then
  local out = {3, deadline}
  for i = 1, #got, 2 do
    out[#out + 1] = got[i]
    out[#out + 1] = got[i + 1]
    out[#out + 1] = redis.call('GET', c.ep .. got[i]) or ''
  end
  return out
end
if now >= deadline then return {4, deadline} end
release(ck, rid, now)
redis.call('HSET', rk, 'status', 'waiting', 'next_at', deadline, 'updated', now)
redis.call('RPUSH', rk .. c.ls, '{"step":' .. cjson.encode(s.step) .. ',"status":"waiting","event":'
  .. cjson.encode(s.name) .. ',"until":' .. string.format('%d', deadline) .. ',"at":'
  .. string.format('%d', now) .. '}')
redis.call('ZADD', c.timers, deadline, 'r:' .. rid)
W.wake = true
wake_flush()
return {1, deadline}
""",
)

# ARGV: key, token, run_id, now, status, field, value, log_entry[, events...].
# End a run (completed or failed), free its key, enqueue `events` with it (FINISH_THEN). A run
# asked to cancel meanwhile keeps `value` and its entry, the rest is END_CANCELLED's: 2.
_FINISH = """
redis.call('HSET', rk, ARGV[6], ARGV[7])
if why then
  if ARGV[8] ~= '' then redis.call('RPUSH', rk .. c.ls, ARGV[8]) end
  return 2
end
release(ck, rid, now)
end_run(rid, ARGV[5], now, ARGV[8])
"""
FINISH = with_lib(_FENCE, _FINISH, "\nreturn 1\n")
FINISH_THEN = with_lib(_FENCE, _FINISH, "\nenqueue_all(9, now)\nwake_flush()\nreturn 1\n")

# KEYS: sched, lease. ARGV: lease_until, then key, token pairs. Returns the keys another worker
# holds now. A key no one holds was let go by its run as it ended or parked: that is no loss
# (and a stale holder's writes are refused by the fence anyway).
EXTEND = """
local lost = {}
for i = 2, #ARGV, 2 do
  local holder = redis.call('HGET', KEYS[2], ARGV[i])
  if holder == ARGV[i + 1] then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i])
  elseif holder then
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
"""

# ARGV: now, run_id, reason. Returns the run's status after the call: cancelled,
# cancelling (it runs: its worker stops at its next step save), completed, failed or unknown.
CANCEL = with_lib(
    """
local status = cancel(ARGV[2], tonumber(ARGV[1]), ARGV[3])
wake_flush()
return status
"""
)

# ARGV: now, n, run ids (n), events... Send the cancelled events of runs in the outbox
# and take them out of it (the runs let go of their events); returns the run ids taken out.
FLUSH = with_lib(
    """
local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local taken = {}
for i = 3, 2 + n do
  if redis.call('LREM', c.outbox, 1, ARGV[i]) == 1 then
    taken[#taken + 1] = ARGV[i]
    local eid = redis.call('HGET', c.rp .. ARGV[i], 'event')
    if eid then unhold(eid, ARGV[i], true, now) end
  end
end
enqueue_all(3 + n, now)
wake_flush()
return taken
"""
)

# ARGV: now, cron key, tick ms, keep ms, events (the tick's own). Returns 1 when this call
# claimed the tick. A schedule seen for the first time starts at its next tick; its key lives
# `keep ms` past its last tick (a schedule removed from the code leaves nothing for good).
CRON = with_lib(
    """
local last = redis.call('GET', ARGV[2])
if last and tonumber(last) >= tonumber(ARGV[3]) then return 0 end
redis.call('SET', ARGV[2], ARGV[3], 'PX', ARGV[4])
if not last then return 0 end
enqueue_all(5, tonumber(ARGV[1]))
wake_flush()
return 1
"""
)
