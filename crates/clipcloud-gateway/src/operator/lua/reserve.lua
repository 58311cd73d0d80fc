-- Reserves an estimate under every cap, all or nothing. KEYS and ARGV: RESERVE in
-- operator/counters/redis.rs.
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
local est = tonumber(ARGV[1])
local function spent(key) return tonumber(redis.call('GET', key) or '0') end
if KEYS[5] and spent(KEYS[5]) + est > tonumber(ARGV[8]) then return 4 end
if spent(KEYS[3]) + est > tonumber(ARGV[2]) then return 1 end
if spent(KEYS[1]) + est > tonumber(ARGV[3]) then return 2 end
if spent(KEYS[2]) + est > tonumber(ARGV[4]) then return 3 end
redis.call('INCRBY', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('INCRBY', KEYS[2], ARGV[1]); redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('INCRBY', KEYS[3], ARGV[1]); redis.call('EXPIRE', KEYS[3], ARGV[5])
if KEYS[5] then redis.call('INCRBY', KEYS[5], ARGV[1]); redis.call('EXPIREAT', KEYS[5], ARGV[9]) end
redis.call('SET', KEYS[4], 'r', 'EX', ARGV[7])
return 0
