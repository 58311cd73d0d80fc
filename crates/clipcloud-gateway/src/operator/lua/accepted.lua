-- Records an accepted creation's owner and counters. KEYS and ARGV: ACCEPTED in
-- operator/counters/redis.rs.
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2], 'k', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if redis.call('GET', KEYS[2]) == 'r' then redis.call('SET', KEYS[2], 'a', 'EX', ARGV[4]) end
return 1
