//! One way to take a lock for every shared part of the emulator.

use std::sync::{Mutex, MutexGuard, PoisonError};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent even if a holder panicked: every update is a few
    // plain assignments after all checks passed.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
