"""The Lua scripts that change a job in one step; each says at its top what KEYS and ARGV hold.

Both publish on the job's channel in the format of messages.py, inside the script: a reader never sees on
the channel a change that is not stored yet.
"""

# Lines are appended, counted and published in one step. The elements come as one argument instead of
# thousands (the client packs it in a fraction of the time). A retry of a batch whose reply was lost finds
# it already there and does nothing, so lines are never doubled.
APPEND_LINES = """
-- KEYS[1] = the job's lines (list)   KEYS[2] = the job's hash   KEYS[3] = the job's channel
-- ARGV[1] = the line count the writer expects before the batch
-- ARGV[2] = the batch's size (lines)   ARGV[3] = the batch's elements joined by "\\n"
-- Returns the new line count; an error when the count is neither ARGV[1] nor ARGV[1] + ARGV[2].
local have = redis.call('LLEN', KEYS[1])
local before, count, joined = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
if have == before + count and count > 0 then return have end
if have ~= before then return redis.error_reply('line count is ' .. have .. ', writer expected ' .. before) end
local elements, pos = {}, 1
for i = 1, count - 1 do
  local stop = string.find(joined, '\\n', pos, true)
  elements[i] = string.sub(joined, pos, stop - 1)
  pos = stop + 1
end
elements[count] = string.sub(joined, pos)
local n = redis.call('RPUSH', KEYS[1], unpack(elements))
redis.call('HSET', KEYS[2], 'lines', n)
redis.call('PUBLISH', KEYS[3], 'L' .. (before + 1) .. '\\n' .. joined)
return n
"""

# A state change is written only when the job's current state is one of ARGV[1], so a late "succeeded"
# cannot overwrite "cancelled" or "lost".
_CHANGE_IF_ALLOWED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if ARGV[1] ~= '' then
  local state = redis.call('HGET', KEYS[1], 'state')
  if not string.find(',' .. ARGV[1] .. ',', ',' .. state .. ',', 1, true) then return nil end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
"""

SET_FIELDS = """
-- KEYS[1] = the job's hash   KEYS[2] = the job's channel   KEYS[3] = the set of running job ids
-- KEYS[4] = the job list's channel (every job's changes, for the job list)
-- ARGV[1] = the states the job may be in now, comma-separated ('' = any)   ARGV[2] = the job id
-- ARGV[3..] = field, value, field, value, …
-- Returns the whole hash after the change (flat), published as 'J' .. its JSON on both channels; nil when
-- the job is missing or not in one of ARGV[1].""" + _CHANGE_IF_ALLOWED + """
if redis.call('HGET', KEYS[1], 'state') == 'running' then
  redis.call('SADD', KEYS[3], ARGV[2])
else
  redis.call('SREM', KEYS[3], ARGV[2])
end
local h = redis.call('HGETALL', KEYS[1])
local message = 'J' .. cjson.encode(h)
redis.call('PUBLISH', KEYS[2], message)
redis.call('PUBLISH', KEYS[4], message)
return h
"""

# On Redis Cluster a script may touch one slot only: a job's keys (one hash tag). Its lines go out on its
# shard channel (SPUBLISH: only the shard's nodes carry them); the running set, on another slot, is kept
# by the caller from the state returned; the job list's channel is a plain channel every node relays.
CLUSTER_APPEND_LINES = APPEND_LINES.replace("redis.call('PUBLISH', KEYS[3]", "redis.call('SPUBLISH', KEYS[3]")

CLUSTER_SET_FIELDS = """
-- KEYS[1] = the job's hash   KEYS[2] = the job's shard channel   (one slot: the job id is their hash tag)
-- ARGV[1] = the states the job may be in now, comma-separated ('' = any)   ARGV[2] = the job list's channel
-- ARGV[3..] = field, value, field, value, …
-- Returns the whole hash after the change (flat), published as 'J' .. its JSON on both channels; nil when
-- the job is missing or not in one of ARGV[1].""" + _CHANGE_IF_ALLOWED + """
local h = redis.call('HGETALL', KEYS[1])
local message = 'J' .. cjson.encode(h)
redis.call('SPUBLISH', KEYS[2], message)
redis.call('PUBLISH', ARGV[2], message)
return h
"""

# Redis' Lua unpack() is limited to a few thousand values: batches are cut below that.
MAX_LINES_PER_CALL = 4_000
