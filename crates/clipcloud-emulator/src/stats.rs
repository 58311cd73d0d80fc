//! What happened to one key, for tests and benchmarks (`GET /emulator/stats`): gathered
//! from the books, the faults injected and the traffic.

use crate::error::ApiError;
use crate::faults::FaultBook;
use crate::ledger::Ledger;
use crate::traffic::Traffic;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct KeyStats {
    pub balance: f64,
    /// Creations accepted.
    pub creates: u64,
    /// Creations accepted whose request body equals an earlier one of this key: a
    /// client that retried a create it should not have.
    pub duplicate_creates: u64,
    /// Injected faults by name.
    pub faults: BTreeMap<&'static str, u64>,
    /// Most requests with this key served at the same time.
    pub peak_in_flight: u64,
    /// Most requests (any key, or none) served at the same time since the emulator started.
    pub peak_in_flight_all: u64,
}

impl KeyStats {
    /// This key's stats now; 401 for a bad key.
    pub fn gather(
        key: Option<&str>,
        ledger: &Ledger,
        faults: &FaultBook,
        traffic: &Traffic,
    ) -> Result<Self, ApiError> {
        let account = ledger.account_stats(key)?;
        let key = key.unwrap_or_default();
        let (peak_in_flight, peak_in_flight_all) = traffic.peaks(key);
        Ok(Self {
            balance: account.balance.as_f64(),
            creates: account.creates,
            duplicate_creates: account.duplicate_creates,
            faults: faults.injected(key),
            peak_in_flight,
            peak_in_flight_all,
        })
    }
}
