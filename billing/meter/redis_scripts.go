package meter

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each runs atomically on the node owning the tenant's hash tag
// {t:<tenant>}: every key a script touches, including the counter keys it reads from
// reservation records, carries that tag, so all of them live in one cluster slot.
//
// Numbers: Redis stores counters as int64; the scripts compare them as Lua doubles,
// which are exact below 2^53 (about 9 million USD in nano-USD), and always write
// them back through HINCRBY with integer strings (istr), never tostring.
//
// Expiry is lazy. Reservations live in the hash <tag>:res (request id -> record) with
// their expiry times in the sorted set <tag>:exp. Every script first reaps at most
// reapBatch expired entries: a live reservation's amounts are returned to its
// counters and it becomes a tombstone ("x" + record) kept for a day, so a late Settle
// still charges the actual cost once; an expired tombstone is deleted. Leases are
// fields of the counter hash (l:<instance> amount, le:<instance> expiry ms,
// ls:<instance> last flush sequence); a counter's expired leases are reaped whenever
// a script reads the counter.
const luaHelpers = `
local epochTTLms = '6048000000' -- 70 days, renewed by use, like a month's counters
local function istr(x) return string.format('%d', x) end
local function num(v) if v then return tonumber(v) end return 0 end

local function reap(res, exp, now)
  local ids = redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, 32)
  for _, id in ipairs(ids) do
    local rec = redis.call('HGET', res, id)
    if rec and string.sub(rec, 1, 1) ~= 'x' then
      for kind, key, amt in string.gmatch(rec, '([mrt])|([^|;]+)|(%d+)|%d+;') do
        if redis.call('EXISTS', key) == 1 then
          redis.call('HINCRBY', key, 'reserved', '-' .. amt)
        end
      end
      redis.call('HSET', res, id, 'x' .. rec)
      redis.call('ZADD', exp, istr(now + 86400000), id)
    else
      redis.call('HDEL', res, id)
      redis.call('ZREM', exp, id)
    end
  end
end

local function reap_leases(key, now)
  if num(redis.call('HGET', key, 'leased')) <= 0 then return end
  local f = redis.call('HGETALL', key)
  for i = 1, #f, 2 do
    local name = f[i]
    if string.sub(name, 1, 3) == 'le:' and tonumber(f[i + 1]) <= now then
      local inst = string.sub(name, 4)
      local amt = num(redis.call('HGET', key, 'l:' .. inst))
      redis.call('HINCRBY', key, 'leased', istr(-amt))
      redis.call('HDEL', key, 'l:' .. inst, 'le:' .. inst)
    end
  end
end

-- epoch_ok checks the tenant's counter epoch: false when the store lost the
-- counters (the epoch key is gone: FLUSHALL, a restart without persistence, a
-- failover that dropped acknowledged writes) or rebuilt them since this instance
-- last looked (it differs from known, unless known is empty).
local function epoch_ok(key, known)
  local e = redis.call('GET', key)
  if not e or (known ~= '' and e ~= known) then return false, nil end
  return true, e
end

local function state(key)
  local v = redis.call('HMGET', key, 'spent', 'reserved', 'leased')
  return v[1] or '0', v[2] or '0', v[3] or '0'
end
`

// reserveScript: KEYS = res, exp, epoch, counter...; ARGV = now ms, request id,
// expiry ms, record, known epoch, then per counter: max (-1 none), hard (0/1),
// amount, key ttl ms. Returns {status, index, epoch, spent1, reserved1, leased1, ...}
// with the counters' values before this reservation; status is ok, refused (index is
// the 1-based counter), duplicate, expired, or lost (nothing else returned: the
// tenant's counters must be recovered first).
const reserveLua = luaHelpers + `
local ok, ep = epoch_ok(KEYS[3], ARGV[5])
if not ok then return {'lost'} end
local now = tonumber(ARGV[1])
reap(KEYS[1], KEYS[2], now)
local status = 'ok'
local rec = redis.call('HGET', KEYS[1], ARGV[2])
if rec then
  if string.sub(rec, 1, 1) == 'x' then status = 'expired' else status = 'duplicate' end
end
local out = {status, 0, ep}
for i = 4, #KEYS do
  local key = KEYS[i]
  local b = 5 + (i - 4) * 4
  reap_leases(key, now)
  local s, r, l = state(key)
  out[#out + 1] = s
  out[#out + 1] = r
  out[#out + 1] = l
  local max = tonumber(ARGV[b + 1])
  if status == 'ok' and ARGV[b + 2] == '1' and max >= 0
     and tonumber(s) + tonumber(r) + tonumber(l) + tonumber(ARGV[b + 3]) > max then
    status = 'refused'
    out[2] = i - 3
  end
end
out[1] = status
if status ~= 'ok' then return out end
for i = 4, #KEYS do
  local b = 5 + (i - 4) * 4
  redis.call('HINCRBY', KEYS[i], 'reserved', ARGV[b + 3])
  redis.call('PEXPIRE', KEYS[i], ARGV[b + 4])
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[3], epochTTLms)
return out
`

// settleScript: KEYS = res, exp, epoch; ARGV = now ms, request id, actual nano-USD,
// actual tokens, release (0/1), known epoch. Returns 0 (nothing to settle), 1
// (settled), 2 (settled late: the reservation had expired, so only the actual cost
// is charged) or -1 (lost: recover the tenant's counters, then settle again).
const settleLua = luaHelpers + `
if not epoch_ok(KEYS[3], ARGV[6]) then return -1 end
local now = tonumber(ARGV[1])
reap(KEYS[1], KEYS[2], now)
local rec = redis.call('HGET', KEYS[1], ARGV[2])
if not rec then return 0 end
local late = string.sub(rec, 1, 1) == 'x'
local release = ARGV[5] == '1'
for kind, key, amt, ttl in string.gmatch(rec, '([mrt])|([^|;]+)|(%d+)|(%d+);') do
  local fresh = redis.call('EXISTS', key) == 0
  if not late and not fresh then
    redis.call('HINCRBY', key, 'reserved', '-' .. amt)
  end
  local actual = amt
  if release then actual = '0'
  elseif kind == 'm' then actual = ARGV[3]
  elseif kind == 't' then actual = ARGV[4] end
  redis.call('HINCRBY', key, 'spent', actual)
  if fresh then redis.call('PEXPIRE', key, ttl) end
end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
if late then return 2 end
return 1
`

// usageScript: KEYS = res, exp, counter...; ARGV = now ms. Returns spent, reserved,
// leased per counter, after reaping.
const usageLua = luaHelpers + `
local now = tonumber(ARGV[1])
reap(KEYS[1], KEYS[2], now)
local out = {}
for i = 3, #KEYS do
  reap_leases(KEYS[i], now)
  local s, r, l = state(KEYS[i])
  out[#out + 1] = s
  out[#out + 1] = r
  out[#out + 1] = l
end
return out
`

// rebuildScript raises each counter's spent to the ledger total (never lowers it).
// KEYS = counter...; ARGV = per counter: spent, key ttl ms.
const rebuildLua = `
for i = 1, #KEYS do
  local cur = redis.call('HGET', KEYS[i], 'spent')
  if not cur or tonumber(cur) < tonumber(ARGV[2 * i - 1]) then
    redis.call('HSET', KEYS[i], 'spent', ARGV[2 * i - 1])
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
end
return #KEYS
`

// leaseAcquireScript moves budget from a counter's remaining room to the instance's
// lease. KEYS = counter, epoch; ARGV = now ms, instance, need, divisor, cap (-1
// none), max, lease ttl ms, key ttl ms, known epoch. When remaining >= need it grants a chunk of
// remaining/divisor, at most cap, at least need, never more than remaining; else
// nothing. It renews the instance's lease expiry either way. Returns {granted, lease
// now held, spent, reserved, leased, epoch} (values before the grant), or {'lost'}.
const leaseAcquireLua = luaHelpers + `
local ok, ep = epoch_ok(KEYS[2], ARGV[9])
if not ok then return {'lost'} end
redis.call('PEXPIRE', KEYS[2], epochTTLms)
local key = KEYS[1]
local now = tonumber(ARGV[1])
local inst = ARGV[2]
reap_leases(key, now)
local s, r, l = state(key)
local need = tonumber(ARGV[3])
local remaining = tonumber(ARGV[6]) - tonumber(s) - tonumber(r) - tonumber(l)
local granted = 0
if remaining >= need and remaining > 0 then
  local chunk = math.floor(remaining / tonumber(ARGV[4]))
  local cap = tonumber(ARGV[5])
  if cap >= 0 and chunk > cap then chunk = cap end
  if chunk < need then chunk = need end
  granted = math.min(chunk, remaining)
end
if granted > 0 then
  redis.call('HINCRBY', key, 'leased', istr(granted))
  redis.call('HINCRBY', key, 'l:' .. inst, istr(granted))
end
local held = num(redis.call('HGET', key, 'l:' .. inst))
if held > 0 then
  redis.call('HSET', key, 'le:' .. inst, istr(now + tonumber(ARGV[7])))
  redis.call('PEXPIRE', key, ARGV[8])
end
return {istr(granted), istr(held), s, r, l, ep}
`

// leaseFlushScript reports an instance's spending from its lease and returns what it
// no longer needs. KEYS = counter, epoch; ARGV = now ms, instance, sequence, spent
// delta, return amount, lease ttl ms, key ttl ms, known epoch. A sequence at or below the last applied
// one is ignored, so a retried flush counts once. Spending is charged even when the
// lease has expired meanwhile (it happened). Returns {lease now held, spent,
// reserved, leased, epoch}, or {'lost'} having applied nothing.
const leaseFlushLua = luaHelpers + `
local ok, ep = epoch_ok(KEYS[2], ARGV[8])
if not ok then return {'lost'} end
local key = KEYS[1]
local now = tonumber(ARGV[1])
local inst = ARGV[2]
reap_leases(key, now)
if tonumber(ARGV[3]) > num(redis.call('HGET', key, 'ls:' .. inst)) then
  local delta = tonumber(ARGV[4])
  if delta > 0 then redis.call('HINCRBY', key, 'spent', ARGV[4]) end
  local held = num(redis.call('HGET', key, 'l:' .. inst))
  local take = math.min(held, delta + tonumber(ARGV[5]))
  if take > 0 then
    redis.call('HINCRBY', key, 'leased', istr(-take))
    redis.call('HINCRBY', key, 'l:' .. inst, istr(-take))
  end
  redis.call('HSET', key, 'ls:' .. inst, ARGV[3])
end
local held = num(redis.call('HGET', key, 'l:' .. inst))
if held > 0 then
  redis.call('HSET', key, 'le:' .. inst, istr(now + tonumber(ARGV[6])))
else
  redis.call('HDEL', key, 'l:' .. inst, 'le:' .. inst)
end
redis.call('PEXPIRE', key, ARGV[7])
local s, r, l = state(key)
return {istr(held), s, r, l, ep}
`

// recoverScript rebuilds a tenant's counters after the store lost them (or after an
// outage that may have dropped writes), from what is durable and what is live: each
// counter's spent is raised to the ledger's total (never lowered: what the store
// still holds and the ledger does not yet is kept), this instance's lease is set to
// what it still holds locally (leased is recomputed as the sum of every instance's
// lease, so instances recover one by one), and this instance's live reservations are
// put back where missing, so they settle normally. The epoch is created when
// missing, and the instance (when it leases) is marked as recovered into that epoch
// in the peers hash (see awaitPeers). Returns {epoch, 1 when this call created it else 0}.
// KEYS = epoch, res, exp, peers, counter...; ARGV = new epoch, instance, lease ttl ms, now
// ms, then per counter: ledger total (-1: none), own lease (-1: leave), key ttl ms;
// then per reservation: request id, expiry ms, record.
const recoverLua = luaHelpers + `
local n = #KEYS - 4
local inst = ARGV[2]
local now = tonumber(ARGV[4])
for i = 1, n do
  local key = KEYS[4 + i]
  local b = 4 + (i - 1) * 3
  local total = tonumber(ARGV[b + 1])
  local mine = tonumber(ARGV[b + 2])
  if total >= 0 and num(redis.call('HGET', key, 'spent')) < total then
    redis.call('HSET', key, 'spent', istr(total))
  end
  if mine >= 0 then
    if mine > 0 then
      redis.call('HSET', key, 'l:' .. inst, istr(mine), 'le:' .. inst, istr(now + tonumber(ARGV[3])))
    else
      redis.call('HDEL', key, 'l:' .. inst, 'le:' .. inst)
    end
    local sum = 0
    local f = redis.call('HGETALL', key)
    for j = 1, #f, 2 do
      if string.sub(f[j], 1, 2) == 'l:' then sum = sum + tonumber(f[j + 1]) end
    end
    redis.call('HSET', key, 'leased', istr(sum))
  end
  redis.call('PEXPIRE', key, ARGV[b + 3])
end
local r = 5 + n * 3
while r + 2 <= #ARGV do
  local id, expiry, rec = ARGV[r], ARGV[r + 1], ARGV[r + 2]
  if not redis.call('HGET', KEYS[2], id) then
    for kind, key, amt, ttl in string.gmatch(rec, '([mrt])|([^|;]+)|(%d+)|(%d+);') do
      redis.call('HINCRBY', key, 'reserved', amt)
      if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
    end
    redis.call('HSET', KEYS[2], id, rec)
    redis.call('ZADD', KEYS[3], expiry, id)
  end
  r = r + 3
end
local ep = redis.call('GET', KEYS[1])
local created = 0
if not ep then
  ep = ARGV[1]
  created = 1
  redis.call('SET', KEYS[1], ep)
end
redis.call('PEXPIRE', KEYS[1], epochTTLms)
if inst ~= '' then
  redis.call('HSET', KEYS[4], inst, ep)
  redis.call('PEXPIRE', KEYS[4], epochTTLms)
end
return {ep, created}
`

// Scripts are compiled once per process; redis.Script runs EVALSHA and falls back to
// EVAL when a node (a fresh one after failover, say) does not have the script yet.
var (
	reserveScript      = redis.NewScript(reserveLua)
	settleScript       = redis.NewScript(settleLua)
	usageScript        = redis.NewScript(usageLua)
	rebuildScript      = redis.NewScript(rebuildLua)
	leaseAcquireScript = redis.NewScript(leaseAcquireLua)
	leaseFlushScript   = redis.NewScript(leaseFlushLua)
	recoverScript      = redis.NewScript(recoverLua)
)
