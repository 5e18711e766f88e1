"""The second half of the Lua library: making runs from events, with their flow control.

Throttle admission, debounce, idempotency, the recent-events index and `enqueue_all`; it uses
the functions of lua.CORE; scripts.with_lib takes from both what each script calls.
"""

from __future__ import annotations

MAKING = r"""
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

-- `fresh`: the event's record was stored by this very script, without a TTL (see hold).
local function create_run(eid, r, now, fresh)
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
  hold(eid, r.id, fresh)
  if r.thr then
    redis.call('HSET', rk, 'thr', r.thr, 'thr_limit', r.thr_limit, 'thr_period', r.thr_period)
    redis.call('RPUSH', c.thp .. r.thr, r.id)
    throttle_admit(r.thr, now)
  else
    push(r.id, r.key, now)
  end
  return true
end

-- A pending debounce keeps the record of the event its run will be made from.
local function debounce_push(eid, spec, r, now)
  local k = c.dbp .. r.db
  local v = redis.call('HMGET', k, 'first', 'event')
  local first = tonumber(v[1] or now)
  hold(eid, 'd:' .. r.db)
  if v[2] and v[2] ~= eid then unhold(v[2], 'd:' .. r.db, false, now) end
  redis.call('HSET', k, 'first', first, 'event', eid, 'run', spec)
  local at = now + r.db_period
  if r.db_max and first + r.db_max < at then at = first + r.db_max end
  redis.call('ZADD', c.timers, at, 'd:' .. r.db)
end

local function debounce_fire(key, now)
  local k = c.dbp .. key
  local v = redis.call('HMGET', k, 'event', 'run')
  redis.call('DEL', k)
  if v[1] and v[2] then
    create_run(v[1], cjson.decode(v[2]), now)
    unhold(v[1], 'd:' .. key, false, now)
  end
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

-- The newest events of each name; a wait's lookback reads only its window (at most recent_ttl).
local function remember(name, eid, now)
  local k = c.recp .. name
  redis.call('ZADD', k, now, eid)
  redis.call('ZREMRANGEBYRANK', k, 0, -(c.recent_max + 1))
  redis.call('PEXPIRE', k, c.recent_ttl)
end

-- Keep `events_max` events and `event_ttl` of them: the dropped ones go with their ended runs,
-- unless held (then the last hold deletes them). At most 500 a call keeps each call short.
local function trim_events(now)
  local old = redis.call('ZRANGEBYSCORE', c.events, '-inf', now - c.event_ttl, 'LIMIT', 0, 500)
  local extra = math.min(redis.call('ZCARD', c.events) - #old - c.events_max, 500)
  if extra > 0 then
    for _, eid in ipairs(redis.call('ZRANGE', c.events, #old, #old + extra - 1)) do
      old[#old + 1] = eid
    end
  end
  for _, eid in ipairs(old) do
    redis.call('ZREM', c.events, eid)
    if not held(eid) then drop_event(eid) end
  end
end

-- A backstop: past `runs_max` the oldest runs leave the index, completed ones with their keys.
local function trim_runs()
  local extra = math.min(redis.call('ZCARD', c.runs) - c.runs_max, 500)
  if extra <= 0 then return end
  for _, rid in ipairs(redis.call('ZRANGE', c.runs, 0, extra - 1)) do
    local rk = c.rp .. rid
    if redis.call('HGET', rk, 'status') == 'completed' then
      redis.call('DEL', rk, rk .. c.ss, rk .. c.ls, rk .. c.cls)
    end
  end
  redis.call('ZREMRANGEBYRANK', c.runs, 0, extra - 1)
end

-- Make the runs of a stored event (specs: JSON texts); 1 when one was made or debounced, else 0.
local function make_runs(m, fresh, now)
  local made = 0
  for _, spec in ipairs(m.runs) do
    local r = cjson.decode(spec)
    if not (r.idem and idem_taken(r.idem, now)) then
      if r.db then
        debounce_push(m.id, spec, r, now)
        made = made + 1
      elseif create_run(m.id, r, now, fresh) then
        made = made + 1
      end
    end
  end
  if made > 0 then return 1 end
  return 0
end

-- An accepted delivery planned by a worker: only the inbox's head may be (4: it is not, another
-- worker planned it). Its record was stored and held by `accept_one`; the runs take over.
local function plan_accepted(m, now)
  if redis.call('LINDEX', c.inbox, 0) ~= m.id then return 4 end
  redis.call('LPOP', c.inbox)
  local record = redis.call('GET', c.ep .. m.id)
  local code = 3
  if record and m.name ~= '' then
    remember(m.name, m.id, now)
    notify(m.name, m.id, record, now)
    code = 2
    if #m.runs > 0 then code = make_runs(m, false, now) end
  end
  unhold(m.id, 'inbox', false, now)
  return code
end

-- m: {id, name, dedup, runs = [run spec JSON texts], inbox}; record '' means already stored
-- (a rerun, or an accepted delivery: `inbox`).
local function enqueue_one(m, record, now)
  if m.inbox then return plan_accepted(m, now) end
  if m.dedup then
    -- Decided by the caller's clock (injectable); the key's own TTL only collects garbage.
    local seen = redis.call('GET', c.dp .. m.id)
    if seen and now - tonumber(seen) < c.dedup_ttl then
      -- Counted for people (the dashboard's events), with the marker's life.
      local dups = c.dp .. m.id .. c.dus
      redis.call('INCR', dups)
      redis.call('PEXPIRE', dups, c.dedup_ttl)
      return 0
    end
    redis.call('SET', c.dp .. m.id, now, 'PX', c.dedup_ttl)
  end
  -- A new event that makes runs is stored without a TTL (they hold it); it gets one at the end
  -- if nothing does. One already held (sent again) keeps none.
  local fresh = false
  if record ~= '' then
    fresh = #m.runs > 0 and redis.call('EXISTS', c.ep .. m.id .. c.hs) == 0
    if fresh or held(m.id) then
      redis.call('SET', c.ep .. m.id, record)
    else
      redis.call('SET', c.ep .. m.id, record, 'PX', c.event_ttl)
    end
    redis.call('ZADD', c.events, now, m.id)
    remember(m.name, m.id, now)
    -- Listeners first: an event may cancel or resume earlier runs, never the runs it makes.
    notify(m.name, m.id, record, now)
  elseif redis.call('EXISTS', c.ep .. m.id) == 0 then
    return 3
  end
  if #m.runs == 0 then return 2 end
  local code = make_runs(m, fresh, now)
  if fresh and not held(m.id) then redis.call('PEXPIRE', c.ep .. m.id, c.event_ttl) end
  return code
end

-- A delivery the receiver accepts: deduplicated, recorded and put in the inbox, where a worker
-- plans its runs in arrival order (`plan_accepted`). Nothing of the functions runs here.
-- `wanted` '0': no function is triggered by the name and nothing listens for it; the record
-- is kept (for replay and lookback) and nothing more is done (2, ignored). 0: a duplicate.
local function accept_one(id, name, record, wanted, now)
  if wanted == '0' and redis.call('EXISTS', c.lp .. name) == 0 then
    return enqueue_one({id = id, name = name, dedup = true, runs = {}}, record, now)
  end
  local seen = redis.call('GET', c.dp .. id)
  if seen and now - tonumber(seen) < c.dedup_ttl then
    local dups = c.dp .. id .. c.dus
    redis.call('INCR', dups)
    redis.call('PEXPIRE', dups, c.dedup_ttl)
    return 0
  end
  redis.call('SET', c.dp .. id, now, 'PX', c.dedup_ttl)
  local fresh = redis.call('EXISTS', c.ep .. id .. c.hs) == 0
  redis.call('SET', c.ep .. id, record)
  hold(id, 'inbox', fresh)
  redis.call('ZADD', c.events, now, id)
  redis.call('RPUSH', c.inbox, id)
  W.wake = true
  return 1
end

-- ARGV[i] = number of events, then per event its meta JSON and its record.
local function enqueue_all(i, now)
  local out = {}
  local n = tonumber(ARGV[i])
  for k = 1, n do
    out[k] = enqueue_one(cjson.decode(ARGV[i + 2 * k - 1]), ARGV[i + 2 * k], now)
  end
  trim_events(now)
  trim_runs()
  return out
end

-- ARGV[i] = number of deliveries, then per delivery its id, name, record and `wanted`.
local function accept_all(i, now)
  local out = {}
  local n = tonumber(ARGV[i])
  for k = 1, n do
    local j = i + 4 * (k - 1)
    out[k] = accept_one(ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4], now)
  end
  trim_events(now)
  return out
end
"""
