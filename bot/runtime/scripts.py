"""Lua scripts: each state change of the queue is one atomic Redis round trip.

Invariant kept by every script: a concurrency key is in the `sched` ZSET exactly when its queue
list is non-empty; its score is when the head run is next due, or its lease expiry while a worker
holds it (so a dead worker's run comes back by itself after the visibility timeout).
"""

from __future__ import annotations

# Shared by ENQUEUE and FINISH (a failed run enqueues its failure event atomically).
# ARGV layout from `i`: n_events, then per event: id, record, check_dedup, n_runs,
# then per run: run_id, function_id, concurrency_key, replay.
_ENQUEUE_FN = """
local function enqueue(i, now, sched, runs_idx, events_idx, c)
  local out, wake = {}, false
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local eid, record, check, nruns = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
    i = i + 4
    local fresh = true
    if check == '1' then
      -- Decided by the caller's clock (injectable); the key's own TTL only collects garbage.
      local seen = redis.call('GET', c.dp .. eid)
      fresh = not seen or now - tonumber(seen) >= c.dedup_ttl
      if fresh then redis.call('SET', c.dp .. eid, now, 'PX', c.dedup_ttl) end
    end
    if not fresh then
      out[#out + 1] = 0
      i = i + 4 * nruns
    else
      redis.call('SET', c.ep .. eid, record, 'PX', c.event_ttl)
      redis.call('ZADD', events_idx, now, eid)
      local made = 0
      for _ = 1, nruns do
        local rid, fid, ck, replay = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
        i = i + 4
        local rk = c.rp .. rid
        if redis.call('EXISTS', rk) == 0 then
          redis.call('HSET', rk, 'fn', fid, 'event', eid, 'key', ck, 'status', 'queued',
            'attempt', 0, 'claims', 0, 'created', now, 'updated', now, 'replay', replay)
          redis.call('ZADD', runs_idx, now, rid)
          if redis.call('RPUSH', c.qp .. ck, rid) == 1 then
            redis.call('ZADD', sched, now, ck)
            wake = true
          end
          made = made + 1
        end
      end
      if nruns == 0 then out[#out + 1] = 2 elseif made == 0 then out[#out + 1] = 0
      else out[#out + 1] = 1 end
    end
  end
  redis.call('ZREMRANGEBYSCORE', events_idx, '-inf', now - c.event_ttl)
  local extra = redis.call('ZCARD', events_idx) - c.events_max
  if extra > 0 then redis.call('ZREMRANGEBYRANK', events_idx, 0, extra - 1) end
  extra = redis.call('ZCARD', runs_idx) - c.runs_max
  if extra > 0 then redis.call('ZREMRANGEBYRANK', runs_idx, 0, extra - 1) end
  if wake then redis.call('PUBLISH', c.wake, '1') end
  return out
end
"""

# Config for `enqueue`, read from ARGV[base .. base+8].
_CONFIG_FN = """
local function config(b)
  return {dp = ARGV[b], ep = ARGV[b + 1], rp = ARGV[b + 2], qp = ARGV[b + 3],
    dedup_ttl = tonumber(ARGV[b + 4]), event_ttl = tonumber(ARGV[b + 5]),
    events_max = tonumber(ARGV[b + 6]), runs_max = tonumber(ARGV[b + 7]), wake = ARGV[b + 8]}
end
"""
CONFIG_ARGS = 9

# KEYS: sched, runs, events. ARGV: now, config (9), events...
ENQUEUE = (
    _CONFIG_FN
    + _ENQUEUE_FN
    + """
return enqueue(2 + 9, tonumber(ARGV[1]), KEYS[1], KEYS[2], KEYS[3], config(2))
"""
)

# KEYS: sched, lease. ARGV: now, lease_ms, limit, token_base, run_prefix, event_prefix,
# queue_prefix, steps_suffix. Returns {next_due, {key, token, run_id, run, record, steps}...}.
CLAIM = """
local now, lease_ms, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rp, ep, qp, ss = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
local out = {''}
for n, ck in ipairs(due) do
  local rid = redis.call('LINDEX', qp .. ck, 0)
  if not rid then
    redis.call('ZREM', KEYS[1], ck)
    redis.call('HDEL', KEYS[2], ck)
  else
    local token = ARGV[4] .. '.' .. n
    redis.call('ZADD', KEYS[1], now + lease_ms, ck)
    redis.call('HSET', KEYS[2], ck, token)
    local rk = rp .. rid
    local eid = redis.call('HGET', rk, 'event')
    local record = ''
    if eid then
      record = redis.call('GET', ep .. eid) or ''
      -- Still 'running' means the last holder died or lost its lease mid-run.
      if redis.call('HGET', rk, 'status') == 'running' then
        redis.call('HINCRBY', rk, 'abandoned', 1)
      end
      redis.call('HSET', rk, 'status', 'running', 'updated', now)
      redis.call('HINCRBY', rk, 'claims', 1)
    end
    out[#out + 1] = {ck, token, rid, redis.call('HGETALL', rk), record,
      redis.call('HGETALL', rk .. ss)}
  end
end
if #out == 1 then
  local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if nxt[2] then out[1] = nxt[2] end
end
return out
"""

# KEYS: lease, run, steps, log. ARGV: key, token, step_id, encoded, now, log_entry.
SAVE_STEP = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[2], 'attempt', 0, 'updated', ARGV[5])
redis.call('RPUSH', KEYS[4], ARGV[6])
return 1
"""

# KEYS: sched, lease, run, log. ARGV: key, token, at, status, attempt, error, now, log_entry.
RESCHEDULE = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'status', ARGV[4], 'attempt', ARGV[5], 'error', ARGV[6],
  'updated', ARGV[7], 'next_at', ARGV[3])
if ARGV[8] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[8]) end
return 1
"""

# KEYS: sched, lease, run, steps, log, runs_failed, runs, events.
# ARGV: key, token, run_id, status, now, field, value, ttl_ms, log_entry, queue, config (9),
# events to enqueue... (the failure event of a failed run, or none).
FINISH = (
    _CONFIG_FN
    + _ENQUEUE_FN
    + """
local ck, token, rid, status, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('HGET', KEYS[2], ck) ~= token then return 0 end
local q = ARGV[10]
if redis.call('LINDEX', q, 0) == rid then redis.call('LPOP', q) end
redis.call('HDEL', KEYS[2], ck)
if redis.call('LLEN', q) > 0 then redis.call('ZADD', KEYS[1], now, ck)
else redis.call('ZREM', KEYS[1], ck) end
redis.call('HSET', KEYS[3], 'status', status, ARGV[6], ARGV[7], 'updated', now, 'finished', now)
if ARGV[9] ~= '' then redis.call('RPUSH', KEYS[5], ARGV[9]) end
local ttl = tonumber(ARGV[8])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('PEXPIRE', KEYS[4], ttl)
  redis.call('PEXPIRE', KEYS[5], ttl)
end
if status == 'failed' then
  redis.call('ZADD', KEYS[6], now, rid)
  local extra = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[11 + 7])
  if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[6], 0, extra - 1) end
end
enqueue(11 + 9, now, KEYS[1], KEYS[7], KEYS[8], config(11))
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
