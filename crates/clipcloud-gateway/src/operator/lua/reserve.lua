-- Reserves an estimate under every cap, all or nothing. KEYS and ARGV: RESERVE in
-- operator/counters/redis.rs.
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
local est = tonumber(ARGV[1])
local function spent(key) return tonumber(redis.call('GET', key) or '0') end
-- The optional counters (a token's, an address's), each with three ARGV: cap, TTL, code.
local function arg(i) return 8 + (i - 5) * 3 end
for i = 5, #KEYS do
  if spent(KEYS[i]) + est > tonumber(ARGV[arg(i)]) then return tonumber(ARGV[arg(i) + 2]) end
end
if spent(KEYS[3]) + est > tonumber(ARGV[2]) then return 1 end
if spent(KEYS[1]) + est > tonumber(ARGV[3]) then return 2 end
if spent(KEYS[2]) + est > tonumber(ARGV[4]) then return 3 end
redis.call('INCRBY', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('INCRBY', KEYS[2], ARGV[1]); redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('INCRBY', KEYS[3], ARGV[1]); redis.call('EXPIRE', KEYS[3], ARGV[5])
for i = 5, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[1]); redis.call('EXPIRE', KEYS[i], ARGV[arg(i) + 1])
end
redis.call('SET', KEYS[4], 'r', 'EX', ARGV[7])
return 0
