"""The Lua library every queue script starts with (see scripts.py for the scripts themselves).

ARGV[1] of every script is the store's config as JSON (`c`): global key names, per-item key
prefixes and limits, all built in keys.py. Numbers that are times are milliseconds by the
caller's clock, which tests inject; key TTLs only collect garbage.

Where a run is, by status:
  queued    in its concurrency queue `q:<key>` (or, throttled, in `throttle:<key>` until let in)
  running   head of its queue, the key leased to one worker
  retrying  head of its queue, the key due again at the retry time
  sleeping, waiting   in no queue: parked in the `timers` ZSET (and, waiting, in a listener set)
  completed, failed, cancelled   in no queue; the run's keys expire
Parked runs rejoin the back of their queue when they wake, so they never hold their key.
"""

from __future__ import annotations

LIB = r"""
local c = cjson.decode(ARGV[1])
local W = {wake = false, cancelled = 0}

local function wake_flush()
  if W.wake then redis.call('PUBLISH', c.wake, '1') end
end

local function due_now(ck, now)
  if redis.call('LLEN', c.qp .. ck) > 0 then redis.call('ZADD', c.sched, now, ck)
  else redis.call('ZREM', c.sched, ck) end
end

local function push(rid, ck, now)
  if redis.call('RPUSH', c.qp .. ck, rid) == 1 then
    redis.call('ZADD', c.sched, now, ck)
    W.wake = true
  end
end

-- The worker holding `ck` lets go of its head run `rid` (it ended or parked).
local function release(ck, rid, now)
  local q = c.qp .. ck
  if redis.call('LINDEX', q, 0) == rid then redis.call('LPOP', q) end
  redis.call('HDEL', c.lease, ck)
  due_now(ck, now)
end

-- Comparable text of a JSON scalar; the same rules as bot.runtime.flow.match_key.
local function norm(v)
  local t = type(v)
  if t == 'string' then return 's:' .. v end
  if t == 'boolean' then if v then return 'b:true' end return 'b:false' end
  if t == 'number' then
    if v == math.floor(v) and math.abs(v) < 1e15 then return 'n:' .. string.format('%d', v) end
    return 'n:' .. string.format('%.17g', v)
  end
  return nil
end

local function at_path(ev, path)
  local v = ev
  for part in string.gmatch(path, '[^.]+') do
    if type(v) ~= 'table' then return nil end
    v = v[part]
  end
  return v
end

local function on_key(x) return c.onp .. x[1] .. '|' .. x[2] .. '|' .. x[3] end

local function listen(x, member)
  if redis.call('SADD', on_key(x), member) == 1 then
    redis.call('HINCRBY', c.lp .. x[1], x[2], 1)
  end
end

local function unlisten(x, member)
  if redis.call('SREM', on_key(x), member) == 1 then
    if redis.call('HINCRBY', c.lp .. x[1], x[2], -1) <= 0 then
      redis.call('HDEL', c.lp .. x[1], x[2])
    end
  end
end

local function end_wait(rid)
  local rk = c.rp .. rid
  local on = redis.call('HGET', rk, 'wait_on')
  if on then unlisten(cjson.decode(on), 'w:' .. rid) end
  redis.call('HDEL', rk, 'wait_step', 'wait_on', 'wait_until', 'wait_event')
  redis.call('DEL', rk .. c.cs)
end

local function end_run(rid, status, now, entry)
  local rk = c.rp .. rid
  end_wait(rid)
  local cancels = redis.call('HGET', rk, 'cancels')
  if cancels then
    for _, x in ipairs(cjson.decode(cancels)) do unlisten(x, 'c:' .. rid) end
  end
  redis.call('HSET', rk, 'status', status, 'updated', now, 'finished', now)
  if entry ~= '' then redis.call('RPUSH', rk .. c.ls, entry) end
  local ttl = c.ttl[status]
  if ttl > 0 then
    redis.call('PEXPIRE', rk, ttl)
    redis.call('PEXPIRE', rk .. c.ss, ttl)
    redis.call('PEXPIRE', rk .. c.ls, ttl)
  end
  if status == 'failed' then
    redis.call('ZADD', c.runs_failed, now, rid)
    local extra = redis.call('ZCARD', c.runs_failed) - c.runs_max
    if extra > 0 then redis.call('ZREMRANGEBYRANK', c.runs_failed, 0, extra - 1) end
  end
end

-- End a run no worker holds as cancelled; its cancelled event goes out through the outbox.
local function cancelled(rid, now, why)
  local entry = '{"step":"$cancel","status":"cancelled","at":' .. string.format('%d', now)
    .. ',"error":' .. cjson.encode(why) .. '}'
  redis.call('HSET', c.rp .. rid, 'cancelled_by', why)
  redis.call('HDEL', c.rp .. rid, 'cancel', 'thr', 'thr_limit', 'thr_period')
  end_run(rid, 'cancelled', now, entry)
  redis.call('RPUSH', c.outbox, rid)
  W.cancelled = W.cancelled + 1
end

-- Cancel a run wherever it is; a running one is only flagged (its worker is fenced later).
local function cancel(rid, now, why)
  local rk = c.rp .. rid
  local st = redis.call('HGET', rk, 'status')
  if not st then return 'unknown' end
  if st == 'completed' or st == 'failed' or st == 'cancelled' then return st end
  if st == 'running' then
    redis.call('HSET', rk, 'cancel', why)
    return 'cancelling'
  end
  local thr = redis.call('HGET', rk, 'thr')
  if thr then
    redis.call('LREM', c.thp .. thr, 0, rid)
  elseif st == 'queued' or st == 'retrying' then
    local ck = redis.call('HGET', rk, 'key')
    local head = redis.call('LINDEX', c.qp .. ck, 0) == rid
    redis.call('LREM', c.qp .. ck, 0, rid)
    if head then
      due_now(ck, now)
      W.wake = true
    end
  end
  redis.call('ZREM', c.timers, 'r:' .. rid)
  cancelled(rid, now, why)
  return 'cancelled'
end

local function wake_run(rid, now)
  local rk = c.rp .. rid
  redis.call('ZREM', c.timers, 'r:' .. rid)
  redis.call('HSET', rk, 'status', 'queued', 'updated', now)
  push(rid, redis.call('HGET', rk, 'key'), now)
end

local function offer(rid, eid, now)
  local rk = c.rp .. rid
  redis.call('ZADD', rk .. c.cs, 'NX', now, eid)
  if redis.call('HGET', rk, 'status') == 'waiting' then wake_run(rid, now) end
end

-- Tell the runs listening for this event: waiting runs get a candidate, others are cancelled.
local function notify(name, eid, record, now)
  local paths = redis.call('HKEYS', c.lp .. name)
  local ev = nil
  for _, path in ipairs(paths) do
    local vk = '*'
    if path ~= '' then
      if not ev then ev = cjson.decode(record).event end
      vk = norm(at_path(ev, path))
    end
    if vk then
      for _, m in ipairs(redis.call('SMEMBERS', on_key({name, path, vk}))) do
        local rid = string.sub(m, 3)
        if string.sub(m, 1, 1) == 'w' then offer(rid, eid, now)
        else cancel(rid, now, 'event ' .. eid) end
      end
    end
  end
end

local function throttle_admit(key, now)
  local tq, tl = c.thp .. key, c.thp .. key .. ':log'
  while true do
    local rid = redis.call('LINDEX', tq, 0)
    if not rid then return end
    local rk = c.rp .. rid
    local limit = tonumber(redis.call('HGET', rk, 'thr_limit') or '1')
    local period = tonumber(redis.call('HGET', rk, 'thr_period') or '0')
    redis.call('ZREMRANGEBYSCORE', tl, '-inf', now - period)
    if redis.call('ZCARD', tl) >= limit then
      local oldest = redis.call('ZRANGE', tl, 0, 0, 'WITHSCORES')
      redis.call('ZADD', c.timers, tonumber(oldest[2]) + period, 't:' .. key)
      return
    end
    redis.call('LPOP', tq)
    redis.call('ZADD', tl, now, rid)
    redis.call('PEXPIRE', tl, period + 60000)
    if redis.call('EXISTS', rk) == 1 then
      redis.call('HDEL', rk, 'thr', 'thr_limit', 'thr_period')
      push(rid, redis.call('HGET', rk, 'key'), now)
    end
  end
end

local function create_run(eid, r, now)
  local rk = c.rp .. r.id
  if redis.call('EXISTS', rk) == 1 then return false end
  redis.call('HSET', rk, 'fn', r.fn, 'event', eid, 'key', r.key, 'status', 'queued',
    'attempt', 0, 'claims', 0, 'created', now, 'updated', now, 'replay', r.replay)
  if r.rerun_of then redis.call('HSET', rk, 'rerun_of', r.rerun_of) end
  if r.cancels then
    redis.call('HSET', rk, 'cancels', r.cancels)
    for _, x in ipairs(cjson.decode(r.cancels)) do listen(x, 'c:' .. r.id) end
  end
  redis.call('ZADD', c.runs, now, r.id)
  if r.thr then
    redis.call('HSET', rk, 'thr', r.thr, 'thr_limit', r.thr_limit, 'thr_period', r.thr_period)
    redis.call('RPUSH', c.thp .. r.thr, r.id)
    throttle_admit(r.thr, now)
  else
    push(r.id, r.key, now)
  end
  return true
end

local function debounce_push(eid, spec, r, now)
  local k = c.dbp .. r.db
  local first = tonumber(redis.call('HGET', k, 'first') or now)
  redis.call('HSET', k, 'first', first, 'event', eid, 'run', spec)
  local at = now + r.db_period
  if r.db_max and first + r.db_max < at then at = first + r.db_max end
  redis.call('ZADD', c.timers, at, 'd:' .. r.db)
end

local function debounce_fire(key, now)
  local k = c.dbp .. key
  local v = redis.call('HMGET', k, 'event', 'run')
  redis.call('DEL', k)
  if v[1] and v[2] then create_run(v[1], cjson.decode(v[2]), now) end
end

local function fire_timers(now, limit)
  local due = redis.call('ZRANGEBYSCORE', c.timers, '-inf', now, 'LIMIT', 0, limit)
  for _, m in ipairs(due) do
    redis.call('ZREM', c.timers, m)
    local kind, rest = string.sub(m, 1, 1), string.sub(m, 3)
    if kind == 'r' then
      local st = redis.call('HGET', c.rp .. rest, 'status')
      if st == 'sleeping' or st == 'waiting' then wake_run(rest, now) end
    elseif kind == 'd' then debounce_fire(rest, now)
    elseif kind == 't' then throttle_admit(rest, now) end
  end
end

local function idem_taken(key, now)
  local k = c.idp .. key
  local seen = redis.call('GET', k)
  if seen and now - tonumber(seen) < c.idem_ttl then return true end
  redis.call('SET', k, now, 'PX', c.idem_ttl)
  return false
end

local function remember(name, eid, now)
  local k = c.recp .. name
  redis.call('ZADD', k, now, eid)
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - c.recent_ttl)
  local extra = redis.call('ZCARD', k) - c.recent_max
  if extra > 0 then redis.call('ZREMRANGEBYRANK', k, 0, extra - 1) end
  redis.call('PEXPIRE', k, c.recent_ttl)
end

-- m: {id, name, dedup, runs = [run spec JSON texts]}; record '' means already stored (rerun).
local function enqueue_one(m, record, now)
  if m.dedup then
    -- Decided by the caller's clock (injectable); the key's own TTL only collects garbage.
    local seen = redis.call('GET', c.dp .. m.id)
    if seen and now - tonumber(seen) < c.dedup_ttl then return 0 end
    redis.call('SET', c.dp .. m.id, now, 'PX', c.dedup_ttl)
  end
  if record ~= '' then
    redis.call('SET', c.ep .. m.id, record, 'PX', c.event_ttl)
    redis.call('ZADD', c.events, now, m.id)
    remember(m.name, m.id, now)
    -- Listeners first: an event may cancel or resume earlier runs, never the runs it makes.
    notify(m.name, m.id, record, now)
  elseif redis.call('EXISTS', c.ep .. m.id) == 0 then
    return 3
  end
  if #m.runs == 0 then return 2 end
  local made = 0
  for _, spec in ipairs(m.runs) do
    local r = cjson.decode(spec)
    if not (r.idem and idem_taken(r.idem, now)) then
      if r.db then
        debounce_push(m.id, spec, r, now)
        made = made + 1
      elseif create_run(m.id, r, now) then
        made = made + 1
      end
    end
  end
  if made > 0 then return 1 end
  return 0
end

-- ARGV[i] = number of events, then per event its meta JSON and its record.
local function enqueue_all(i, now)
  local out = {}
  local n = tonumber(ARGV[i])
  for k = 1, n do
    out[k] = enqueue_one(cjson.decode(ARGV[i + 2 * k - 1]), ARGV[i + 2 * k], now)
  end
  redis.call('ZREMRANGEBYSCORE', c.events, '-inf', now - c.event_ttl)
  local extra = redis.call('ZCARD', c.events) - c.events_max
  if extra > 0 then redis.call('ZREMRANGEBYRANK', c.events, 0, extra - 1) end
  extra = redis.call('ZCARD', c.runs) - c.runs_max
  if extra > 0 then redis.call('ZREMRANGEBYRANK', c.runs, 0, extra - 1) end
  return out
end
"""
