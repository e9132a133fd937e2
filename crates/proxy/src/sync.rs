//! The lock every std mutex of the proxy is taken with: a lock poisoned by
//! a holder that panicked is taken anyway, so one panicked task does not
//! make every later caller panic too.

use std::sync::{Mutex, MutexGuard};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
