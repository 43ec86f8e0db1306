//! Ctrl-C: gitops stops at once with exit 130 and the terminal put back — but
//! never halfway through writing a file, so nothing is left behind.
//!
//! gitops makes no checkout and no temporary index: it writes objects (through
//! gix), its caches in `.git/gitops/` and, for `init` and `quickstart`, files
//! of the working tree, each inside [`uninterrupted`]. A promotion branch is
//! pushed whole or not at all, by `git push`, which cleans up after itself.
//!
//! A `git` that talks to a remote runs in a process group of its own (so that
//! it can be stopped with its helpers when the remote does not answer); those
//! groups are registered here ([`Group`]) and get the Ctrl-C too.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, RwLock};

use anyhow::{Context, Result};

use crate::error::exit;

/// Held shared while files are being written; stopping takes it exclusively and
/// never gives it back, so no write starts after it.
static WRITING: RwLock<()> = RwLock::new(());

/// Set when stopping begins: a section that ends then goes no further.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// The process groups of the `git` commands running now (see [`Group`]).
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// A child process group that gets Ctrl-C when gitops does, while this lives.
pub struct Group(i32);

impl Group {
    /// Registers the process group `id` (the id of its leader).
    pub fn register(id: u32) -> Group {
        let id = i32::try_from(id).expect("process ids fit in i32");
        GROUPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id);
        Group(id)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        GROUPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|g| *g != self.0);
    }
}

/// What puts the terminal back, run once on the way out.
static RESTORE: OnceLock<fn()> = OnceLock::new();

thread_local! {
    /// How deep this thread is in [`uninterrupted`] sections: only the outermost
    /// takes the lock (a nested read could wait forever on a waiting stop).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Makes Ctrl-C (SIGINT) [`stop`] the process, with `restore` to put the
/// terminal back.
pub fn install(restore: fn()) -> Result<()> {
    let _ = RESTORE.set(restore);
    ctrlc::set_handler(|| stop()).context("installing the Ctrl-C handler")
}

/// Exits with 130 once no file is being written, after putting the terminal
/// back. Called by the Ctrl-C handler, and by `main` for a prompt that saw
/// Ctrl-C; a second caller waits for the first to end the process.
pub fn stop() -> ! {
    STOPPING.store(true, Ordering::SeqCst);
    for group in GROUPS.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(*group),
            nix::sys::signal::Signal::SIGINT,
        );
    }
    let _no_more_writes = WRITING.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(restore) = RESTORE.get() {
        restore();
    }
    std::process::exit(exit::INTERRUPTED)
}

/// Runs `write` to its end: Ctrl-C waits for it, then stops the process before
/// this thread does anything else. For writing files whole, and for work that
/// must undo itself when it fails (quickstart's directory).
pub fn uninterrupted<T>(write: impl FnOnce() -> T) -> T {
    let outermost = DEPTH.get() == 0;
    let guard = outermost.then(|| WRITING.read().unwrap_or_else(PoisonError::into_inner));
    DEPTH.set(DEPTH.get() + 1);
    let result = write();
    DEPTH.set(DEPTH.get() - 1);
    drop(guard);
    if outermost && STOPPING.load(Ordering::SeqCst) {
        // The stop under way ends the process; nothing more happens here.
        loop {
            std::thread::park();
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_nest_and_return_what_they_wrote() {
        let got = uninterrupted(|| uninterrupted(|| 42) + 1);
        assert_eq!(got, 43);
        assert_eq!(DEPTH.get(), 0);
    }
}
