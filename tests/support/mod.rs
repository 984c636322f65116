//! Helpers shared by the native test files (each uses some of them).
#![allow(dead_code, unused_imports)]

use std::sync::{Mutex, MutexGuard};

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
pub use cli::{convlens, run};

/// Burn's CPU backend seeds one process-wide generator and parameters are initialised lazily,
/// while `cargo test` runs a file's tests in parallel threads: tests that seed and create models
/// take turns, so that a seeded test gets the same weights in every run (a cold CI run once
/// interleaved two tests' draws and failed one).
pub fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
