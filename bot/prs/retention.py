"""How long a PR's mapping is kept, and how the store says which mappings it may have lost.

A mapping (`data:thread:<pr>`) is kept while its PR is open or draft; once the PR is closed
or merged — and for a record with no thread (a search marker, a creation in flight, a thread
re-adopted before any lifecycle event said its state) — it expires `KEEP_MS` after its last
write, and any activity writes it again. The time it will expire is noted, with when the PR was
opened, in `data:meta:expiring` (ZSET); once that time has come, the store moves its `since`
mark (`data:meta:mappings`) past that opening: a PR opened before `since` may have a thread the
store no longer knows, and finding it means searching the channel (re-adoption).
"""

from __future__ import annotations

# Kept longer than any run of a PR takes; a return after it is found again by a search.
KEEP_MS = 30 * 86_400_000

# Move `since` past the opening of every PR whose record has expired by now (`margin` early:
# Redis expires by its own clock). Without `since` (a wiped store) there is nothing to move.
_FOLD = """
local function fold(now, margin)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now + margin, 'LIMIT', 0, 100)
  if #gone == 0 then return end
  local since = tonumber(redis.call('HGET', KEYS[3], 'since'))
  for _, m in ipairs(gone) do
    local opened = tonumber(string.match(m, '^[^|]*'))
    if since and opened and opened >= since then since = opened + 1 end
    redis.call('ZREM', KEYS[2], m)
  end
  if since then redis.call('HSET', KEYS[3], 'since', since) end
end
"""

# KEYS: the PR's record, data:meta:expiring, data:meta:mappings.
# ARGV: now ms, keep ms, margin ms, PR key, then field/value pairs. Returns the fields' values
# before the write.
WRITE = (
    _FOLD
    + """
local now, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local before = {}
for i = 5, #ARGV, 2 do before[#before + 1] = redis.call('HGET', KEYS[1], ARGV[i]) or false end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
local f = redis.call('HMGET', KEYS[1], 'thread_id', 'state', 'opened')
local opened = f[3]
if not opened or opened == '' then opened = string.format('%d', math.floor(now / 1000)) end
local member = opened .. '|' .. ARGV[4]
if f[1] and f[1] ~= '' and (f[2] == 'open' or f[2] == 'draft') then
  redis.call('PERSIST', KEYS[1])
  redis.call('ZREM', KEYS[2], member)
else
  redis.call('PEXPIRE', KEYS[1], keep)
  redis.call('ZADD', KEYS[2], now + keep, member)
end
fold(now, tonumber(ARGV[3]))
return before
"""
)

# KEYS: as WRITE. ARGV: now ms, margin ms, opened s ('' unknown), the mark for a new store (s).
# Returns 1 when the PR may have a thread the store lost: a creation was cut short, or it was
# opened before `since` (or when, unknown) and no complete search since found nothing.
MAY_HAVE_LOST = (
    _FOLD
    + """
fold(tonumber(ARGV[1]), tonumber(ARGV[2]))
local r = redis.call('HMGET', KEYS[1], 'creating', 'searched')
if r[1] and r[1] ~= '' then return 1 end
if r[2] and r[2] ~= '' then return 0 end
if ARGV[3] == '' then return 1 end
local since = redis.call('HGET', KEYS[3], 'since')
if not since then
  since = ARGV[4]
  redis.call('HSET', KEYS[3], 'since', since)
end
if tonumber(ARGV[3]) < tonumber(since) then return 1 end
return 0
"""
)
