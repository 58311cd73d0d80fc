-- Replaces a creation's estimate by its real cost, once. KEYS and ARGV: SETTLE in
-- operator/counters/redis.rs.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[1], 's', ARGV[1]) == 0 then return 0 end
local delta = tonumber(ARGV[1]) - tonumber(redis.call('HGET', KEYS[1], 'e') or ARGV[1])
if delta ~= 0 then
  for key in string.gmatch(redis.call('HGET', KEYS[1], 'k') or '', '%S+') do
    if redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, delta) end
  end
end
return 1
