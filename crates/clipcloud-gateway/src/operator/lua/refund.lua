-- Gives a reservation's estimate back, once. KEYS and ARGV: REFUND in
-- operator/counters/redis.rs.
if redis.call('GET', KEYS[1]) ~= 'r' then return 0 end
redis.call('SET', KEYS[1], 'x', 'EX', ARGV[2])
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECRBY', KEYS[i], ARGV[1]) end
end
return 1
