"""The Lua library the queue scripts draw on: queues, listeners, ending and cancelling runs.

Every script starts with the store's config as a Lua table `c`: global key names and per-item
key prefixes built in keys.py, then limits (see scriptset.py). Times are milliseconds by the
caller's clock, which tests inject; key TTLs only collect garbage.

Where a run is, by status:
  queued    in its concurrency queue `q:<key>` (or, throttled, in `throttle:<key>` until let in)
  running   head of its queue, the key leased to one worker
  retrying  head of its queue, the key due again at the retry time
  sleeping, waiting   in no queue: parked in the `timers` ZSET (and, waiting, in a listener set)
  completed, failed, cancelled   in no queue; the run's keys expire
Parked runs rejoin the back of their queue when they wake, so they never hold their key.

What an event leaves behind is bounded by the events index (`DELIVERY_MAX`, retention days):
trimming it deletes each dropped event's record with its ended runs (steps, log), unless
something still holds the record — a live run of the event, a waiting run it is offered to, a
pending debounce. Held records have no TTL; the last hold to go deletes the record (and the
runs) if the index has dropped it meanwhile, or gives it back the rest of its retention.
"""

from __future__ import annotations

from collections.abc import Mapping


def config_lua(config: Mapping[str, str | int]) -> str:
    """Return the line every script starts with: `local c = {...}`, the store's names and limits."""
    return "local c = {" + ", ".join(f"{k} = {_literal(v)}" for k, v in config.items()) + "}\n"


def _literal(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    safe = b"".join(
        bytes([b]) if b < 128 and (chr(b).isalnum() or chr(b) in ":_-/.|") else b"\\%03d" % b
        for b in value.encode()
    )
    return '"' + safe.decode() + '"'


CORE = r"""
local W = {wake = false, cancelled = 0}

local function wake_flush()
  if W.wake then redis.call('PUBLISH', c.wake, '1') end
end

-- Delete an event the index dropped and nothing holds: its record, its ended runs with their
-- steps and logs (a failed run stays on the failed index until its own TTL).
local function drop_event(eid)
  local hk = c.ep .. eid .. c.hs
  local f = redis.call('HGETALL', hk)
  for i = 1, #f, 2 do
    if f[i + 1] == '0' and f[i] ~= '#' then
      local rk = c.rp .. f[i]
      if redis.call('HGET', rk, 'status') ~= 'failed' then
        redis.call('DEL', rk, rk .. c.ss, rk .. c.ls, rk .. c.cls)
      end
      redis.call('ZREM', c.runs, f[i])
    end
  end
  redis.call('DEL', c.ep .. eid, hk)
end

-- Whether anything holds the event's record (`#` counts the holds; 0 or absent: none).
local function held(eid)
  return tonumber(redis.call('HGET', c.ep .. eid .. c.hs, '#') or '0') > 0
end

-- `who` (a run id, `c:<run>` or `d:<key>`) needs the event's record: keep it, whatever its age.
-- `fresh`: the record was just stored without a TTL, in this script (nothing to take off).
-- A run id is held once, when the run is made (never again once it ended).
local function hold(eid, who, fresh)
  local hk = c.ep .. eid .. c.hs
  if redis.call('HSET', hk, who, '1') == 0 then return end
  if redis.call('HINCRBY', hk, '#', 1) == 1 and not fresh then
    redis.call('PERSIST', c.ep .. eid)
    redis.call('PERSIST', hk)
  end
end

-- `who` is done with the record (`ended`: a run of the event, remembered to be deleted with it).
local function unhold(eid, who, ended, now)
  local hk = c.ep .. eid .. c.hs
  if redis.call('HGET', hk, who) ~= '1' then return end
  if ended then redis.call('HSET', hk, who, '0') else redis.call('HDEL', hk, who) end
  if redis.call('HINCRBY', hk, '#', -1) > 0 then return end
  local at = redis.call('ZSCORE', c.events, eid)
  local left = at and tonumber(at) + c.event_ttl - now or 0
  if left > 0 then
    redis.call('PEXPIRE', c.ep .. eid, left)
    redis.call('PEXPIRE', hk, left)
  else
    redis.call('ZREM', c.events, eid)
    drop_event(eid)
  end
end

-- Failed runs are kept `ttl_failed` and at most `failed_max`; older ones go with their keys.
local function trim_failed(now)
  local gone = redis.call('ZRANGEBYSCORE', c.runs_failed, '-inf', now - c.ttl_failed,
    'LIMIT', 0, 100)
  local extra = redis.call('ZCARD', c.runs_failed) - #gone - c.failed_max
  if extra > 0 then
    for _, rid in ipairs(redis.call('ZRANGE', c.runs_failed, #gone, #gone + extra - 1)) do
      gone[#gone + 1] = rid
    end
  end
  for _, rid in ipairs(gone) do
    redis.call('ZREM', c.runs_failed, rid)
    redis.call('ZREM', c.runs, rid)
    local rk = c.rp .. rid
    if redis.call('HGET', rk, 'status') == 'failed' then
      redis.call('DEL', rk, rk .. c.ss, rk .. c.ls, rk .. c.cls)
    end
  end
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

-- The wait of a run ends: it stops listening and lets go of the events it was offered.
-- `on` is the run's `wait_on` field: callers that read it already pass it (one call fewer).
local function end_wait(rid, on, now)
  local rk = c.rp .. rid
  if on == nil then on = redis.call('HGET', rk, 'wait_on') end
  if not on then return end
  unlisten(cjson.decode(on), 'w:' .. rid)
  redis.call('HDEL', rk, 'wait_step', 'wait_on', 'wait_until', 'wait_event')
  for _, eid in ipairs(redis.call('ZRANGE', rk .. c.cs, 0, -1)) do
    unhold(eid, 'c:' .. rid, false, now)
  end
  redis.call('DEL', rk .. c.cs)
end

-- A cancelled run keeps its event until its cancelled event is sent (FLUSH lets go).
local function end_run(rid, status, now, entry)
  local rk = c.rp .. rid
  local f = redis.call('HMGET', rk, 'wait_on', 'cancels', 'event')
  local cancels = f[2]
  end_wait(rid, f[1], now)
  if cancels then
    for _, x in ipairs(cjson.decode(cancels)) do unlisten(x, 'c:' .. rid) end
  end
  redis.call('HSET', rk, 'status', status, 'updated', now, 'finished', now)
  if entry ~= '' then redis.call('RPUSH', rk .. c.ls, entry) end
  redis.call('DEL', rk .. c.cls)
  local ttl = c['ttl_' .. status]
  if ttl > 0 then
    redis.call('PEXPIRE', rk, ttl)
    redis.call('PEXPIRE', rk .. c.ss, ttl)
    redis.call('PEXPIRE', rk .. c.ls, ttl)
  end
  if status == 'failed' then
    redis.call('ZADD', c.runs_failed, now, rid)
    trim_failed(now)
  end
  if f[3] and status ~= 'cancelled' then unhold(f[3], rid, true, now) end
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

-- Offer a waiting run an event (it keeps the event's record until its wait ends).
local function offer(rid, eid, at, now)
  local rk = c.rp .. rid
  if redis.call('ZADD', rk .. c.cs, 'NX', at, eid) == 1 then hold(eid, 'c:' .. rid) end
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
        if string.sub(m, 1, 1) == 'w' then offer(rid, eid, now, now)
        else cancel(rid, now, 'event ' .. eid) end
      end
    end
  end
end
"""
