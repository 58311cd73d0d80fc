//! What outlives a request: the SQLite ledger ([`ledger`]), which records the creates and
//! what the held checks learned, and the Redis client ([`redis`]) for the counters several
//! replicas share.

pub mod ledger;
pub mod redis;
