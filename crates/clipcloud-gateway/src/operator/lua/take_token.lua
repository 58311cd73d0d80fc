-- Takes a token from a visitor's bucket. KEYS and ARGV: TAKE in operator/rate_limit.rs.
local cap = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'n', 'at')
local n = cap
if b[1] and b[2] then
  n = math.min(cap, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * cap / 60000)
end
local wait = 0
if n >= 1 then n = n - 1 else wait = math.max(1, math.ceil((1 - n) * 60000 / cap)) end
redis.call('HSET', KEYS[1], 'n', tostring(n), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return wait
