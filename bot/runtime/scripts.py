"""Lua scripts: each state change of the queue is one atomic Redis round trip.

Invariant kept by every script: a concurrency key is in the `sched` ZSET exactly when its queue
list is non-empty; its score is when the head run is next due, or its lease expiry while a worker
holds it (so a dead worker's run comes back by itself after the visibility timeout). Sleeping and
waiting runs are in no queue: the `timers` ZSET brings them back (lua.py describes every state).
"""

from __future__ import annotations

from bot.runtime.lua import CORE
from bot.runtime.lua_making import MAKING

LIB = CORE + MAKING

# ARGV: config, now, events... Returns {cancelled count, per event: 1 queued, 2 ignored,
# 0 duplicate, 3 event record gone}.
ENQUEUE = (
    LIB
    + """
local out = enqueue_all(3, tonumber(ARGV[2]))
table.insert(out, 1, W.cancelled)
wake_flush()
return out
"""
)

# ARGV: config, now, lease_ms, limit, token_base.
# Returns {next_due, outbox length, {key, token, run_id, run, record, steps}...}.
CLAIM = (
    LIB
    + """
local now, lease_ms, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
fire_timers(now, 100)
local due = redis.call('ZRANGEBYSCORE', c.sched, '-inf', now, 'LIMIT', 0, limit)
local out = {'', 0}
for n, ck in ipairs(due) do
  local q = c.qp .. ck
  local rid = redis.call('LINDEX', q, 0)
  -- A head asked to cancel while it ran, whose worker then vanished: end it here.
  while rid and redis.call('HEXISTS', c.rp .. rid, 'cancel') == 1 do
    redis.call('LPOP', q)
    cancelled(rid, now, redis.call('HGET', c.rp .. rid, 'cancel'))
    rid = redis.call('LINDEX', q, 0)
  end
  if not rid then
    redis.call('ZREM', c.sched, ck)
    redis.call('HDEL', c.lease, ck)
  else
    local token = ARGV[5] .. '.' .. n
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
if #out == 2 then
  local a = redis.call('ZRANGE', c.sched, 0, 0, 'WITHSCORES')
  local b = redis.call('ZRANGE', c.timers, 0, 0, 'WITHSCORES')
  local nxt = tonumber(a[2])
  if b[2] and (not nxt or tonumber(b[2]) < nxt) then nxt = tonumber(b[2]) end
  if nxt then out[1] = string.format('%d', nxt) end
end
out[2] = redis.call('LLEN', c.outbox)
wake_flush()
return out
"""
)

# Every script below starts by checking the caller still holds the lease; 0 when it does not.
_FENCE = """
local ck, token, rid, now = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('HGET', c.lease, ck) ~= token then return 0 end
local rk = c.rp .. rid
local why = redis.call('HGET', rk, 'cancel')
"""

# ARGV: config, key, token, run_id, now, step_id, encoded, log_entry.
# Returns 1 saved, 2 saved but the run was cancelled meanwhile (it ends here), 0 lease lost.
SAVE_STEP = (
    LIB
    + _FENCE
    + """
redis.call('HSET', rk .. c.ss, ARGV[6], ARGV[7])
if redis.call('HGET', rk, 'wait_step') == ARGV[6] then end_wait(rid) end
redis.call('HSET', rk, 'attempt', 0, 'updated', now)
redis.call('RPUSH', rk .. c.ls, ARGV[8])
if why then
  release(ck, rid, now)
  cancelled(rid, now, why)
  return 2
end
return 1
"""
)

# ARGV: config, key, token, run_id, now, at, status, attempt, error, log_entry.
# The run stays at the head of its queue, due again at `at`; 2 when it was cancelled instead.
RESCHEDULE = (
    LIB
    + _FENCE
    + """
if why then
  release(ck, rid, now)
  cancelled(rid, now, why)
  return 2
end
redis.call('ZADD', c.sched, ARGV[6], ck)
redis.call('HDEL', c.lease, ck)
redis.call('HSET', rk, 'status', ARGV[7], 'attempt', ARGV[8], 'error', ARGV[9],
  'updated', now, 'next_at', ARGV[6])
if ARGV[10] ~= '' then redis.call('RPUSH', rk .. c.ls, ARGV[10]) end
return 1
"""
)

# ARGV: config, key, token, run_id, now, until, log_entry. Park a sleeping run off its queue.
SLEEP = (
    LIB
    + _FENCE
    + """
release(ck, rid, now)
if why then
  cancelled(rid, now, why)
  return 2
end
redis.call('HSET', rk, 'status', 'sleeping', 'next_at', ARGV[6], 'updated', now)
redis.call('RPUSH', rk .. c.ls, ARGV[7])
redis.call('ZADD', c.timers, ARGV[6], 'r:' .. rid)
W.wake = true
wake_flush()
return 1
"""
)

# ARGV: config, key, token, run_id, now, spec, consumed event ids (JSON).
# spec: {step, name, on (JSON [name, path, value key]), deadline, lookback}.
# Returns {3, deadline, event id, received ms, record, ...} candidates (lease kept), {4, deadline}
# timed out (lease kept), {1, deadline} parked, {2} cancelled, 0 lease lost.
WAIT = (
    LIB
    + _FENCE
    + """
if why then
  release(ck, rid, now)
  cancelled(rid, now, why)
  return {2}
end
local s = cjson.decode(ARGV[6])
local cand = rk .. c.cs
local deadline
if redis.call('HGET', rk, 'wait_step') == s.step then
  deadline = tonumber(redis.call('HGET', rk, 'wait_until'))
else
  end_wait(rid)
  deadline = s.deadline
  redis.call('HSET', rk, 'wait_step', s.step, 'wait_event', s.name, 'wait_until', deadline,
    'wait_on', s.on)
  local on = cjson.decode(s.on)
  listen(on, 'w:' .. rid)
  if s.lookback > 0 then
    local own = redis.call('HGET', rk, 'event')
    local seen = redis.call('ZRANGEBYSCORE', c.recp .. s.name, now - s.lookback, now,
      'WITHSCORES')
    for i = 1, #seen, 2 do
      local rec = seen[i] ~= own and redis.call('GET', c.ep .. seen[i])
      if rec and (on[2] == '' or norm(at_path(cjson.decode(rec).event, on[2])) == on[3]) then
        redis.call('ZADD', cand, seen[i + 1], seen[i])
      end
    end
  end
end
for _, eid in ipairs(cjson.decode(ARGV[7])) do redis.call('ZREM', cand, eid) end
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
"""
)

# ARGV: config, key, token, run_id, now, status, field, value, log_entry, events...
# End a run (completed or failed), free its key, enqueue `events` with it. A run asked to cancel
# while this attempt ran ends cancelled instead, without the events: returns 2.
FINISH = (
    LIB
    + _FENCE
    + """
release(ck, rid, now)
redis.call('HSET', rk, ARGV[7], ARGV[8])
if why then
  if ARGV[9] ~= '' then redis.call('RPUSH', rk .. c.ls, ARGV[9]) end
  cancelled(rid, now, why)
  return 2
end
end_run(rid, ARGV[6], now, ARGV[9])
enqueue_all(10, now)
wake_flush()
return 1
"""
)

# KEYS: sched, lease. ARGV: lease_until, then key, token pairs. Returns the keys no longer held.
EXTEND = """
local lost = {}
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
"""

# ARGV: config, now, run_id, reason. Returns the run's status after the call: cancelled,
# cancelling (it runs: its worker stops at its next step save), completed, failed or unknown.
CANCEL = (
    LIB
    + """
local status = cancel(ARGV[3], tonumber(ARGV[2]), ARGV[4])
wake_flush()
return status
"""
)

# ARGV: config, now, n, run ids (n), events... Send the cancelled events of runs in the outbox
# and take them out of it; returns the run ids this call took out.
FLUSH = (
    LIB
    + """
local now, n = tonumber(ARGV[2]), tonumber(ARGV[3])
local taken = {}
for i = 4, 3 + n do
  if redis.call('LREM', c.outbox, 1, ARGV[i]) == 1 then taken[#taken + 1] = ARGV[i] end
end
enqueue_all(4 + n, now)
wake_flush()
return taken
"""
)

# ARGV: config, now, cron key, tick ms, events (the tick's own). Returns 1 when this call
# claimed the tick. A schedule seen for the first time starts at its next tick.
CRON = (
    LIB
    + """
local last = redis.call('GET', ARGV[3])
redis.call('SET', ARGV[3], ARGV[4])
if not last then return 0 end
if tonumber(last) >= tonumber(ARGV[4]) then
  redis.call('SET', ARGV[3], last)
  return 0
end
enqueue_all(5, tonumber(ARGV[2]))
wake_flush()
return 1
"""
)
