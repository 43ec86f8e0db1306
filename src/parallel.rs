//! Mapping a slice on every core, the results in order. Each thread starts on
//! its own share of the items, in order, so neighbours stay on one thread
//! (for git, whose neighbouring objects share delta bases); one that runs
//! out takes the back half of what another has left, so none waits idle
//! while another still has costly items. Both fan-outs use it: reading a
//! repository ([`crate::git::Repo::par_map`], each thread with its own
//! handle) and parsing a file's documents ([`crate::model`], nothing per
//! thread).

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// How many threads to map on: the cores, at most 8.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// `f` of each item on `threads` threads, in the items' order. Each thread
/// makes its own state with `init` and hands it to `done` at the end. The
/// first error stops every thread at its next item and is returned; a
/// thread's panic is carried on.
pub fn map_with<I: Sync, S, T: Send, E: Send>(
    items: &[I],
    threads: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&S, &I) -> Result<T, E> + Sync,
    done: impl Fn(S) + Sync,
) -> Result<Vec<T>, E> {
    // No more threads than items.
    let threads = threads.clamp(1, items.len().max(1));
    let shares = Shares::new(items.len(), threads);
    let (init, f, done, shares) = (&init, &f, &done, &shares);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|me| {
                scope.spawn(move || -> Result<Vec<(usize, T)>, E> {
                    let state = init();
                    let mut mapped = Vec::new();
                    let out = loop {
                        let Some(i) = shares.next(me) else {
                            break Ok(mapped);
                        };
                        match f(&state, &items[i]) {
                            Ok(one) => mapped.push((i, one)),
                            Err(e) => {
                                shares.stop();
                                break Err(e);
                            }
                        }
                    };
                    done(state);
                    out
                })
            })
            .collect();
        let mut out: Vec<Option<T>> = (0..items.len()).map(|_| None).collect();
        let mut failed = None;
        for handle in handles {
            match handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
            {
                Ok(mapped) => {
                    for (i, one) in mapped {
                        out[i] = Some(one);
                    }
                }
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out
                .into_iter()
                .map(|o| o.expect("every item is mapped"))
                .collect()),
        }
    })
}

/// The items of a [`map_with`] shared among threads: each has a range of
/// indexes it takes from the front; a thread whose range is empty takes the
/// back half of the largest other range.
struct Shares {
    ranges: Vec<Mutex<Range<usize>>>,
    stopped: AtomicBool,
}

impl Shares {
    fn new(len: usize, threads: usize) -> Shares {
        let chunk = len.div_ceil(threads);
        Shares {
            ranges: (0..threads)
                .map(|t| Mutex::new((t * chunk).min(len)..((t + 1) * chunk).min(len)))
                .collect(),
            stopped: AtomicBool::new(false),
        }
    }

    fn lock(&self, t: usize) -> MutexGuard<'_, Range<usize>> {
        self.ranges[t].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next index for thread `me`; `None` when everything is taken (or a
    /// thread failed).
    fn next(&self, me: usize) -> Option<usize> {
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(i) = self.lock(me).next() {
                return Some(i);
            }
            // The thread with the most left gives up the back half of it.
            let (victim, most) = (0..self.ranges.len())
                .filter(|&t| t != me)
                .map(|t| (t, self.lock(t).len()))
                .max_by_key(|&(_, left)| left)?;
            if most == 0 {
                return None;
            }
            let taken = {
                let mut theirs = self.lock(victim);
                let left = theirs.len();
                let mid = theirs.end - left.div_ceil(2);
                let taken = mid..theirs.end;
                theirs.end = mid;
                taken
            };
            // (Empty when others took it meanwhile: then look again.)
            *self.lock(me) = taken;
        }
    }

    /// Every thread stops at its next item.
    fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads drawing from [`Shares`] take every index exactly once however
    /// they are scheduled; one that is slow gives up the back of its share to
    /// the others; a stop ends everyone's draw.
    #[test]
    fn shares_hand_out_every_index_once_and_the_slow_one_is_relieved() {
        for (len, threads) in [(0, 2), (1, 2), (3, 2), (7, 3), (1000, 4)] {
            let shares = Shares::new(len, threads);
            let taken: Vec<Vec<usize>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|me| {
                        let shares = &shares;
                        scope.spawn(move || {
                            let mut mine = Vec::new();
                            while let Some(i) = shares.next(me) {
                                if me == 0 {
                                    // Thread 0's objects cost more.
                                    std::thread::sleep(std::time::Duration::from_millis(2));
                                }
                                mine.push(i);
                            }
                            mine
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut all: Vec<usize> = taken.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(
                all,
                (0..len).collect::<Vec<_>>(),
                "{len} items, {threads} threads"
            );
            if len == 1000 {
                assert!(
                    taken[0].len() < 250,
                    "the slow thread kept {} of its 250",
                    taken[0].len()
                );
            }
        }
        // One thread at a time, so the order is known: each takes its own
        // share from the front, then the back half of the other's.
        let shares = Shares::new(10, 2);
        let mut order = Vec::new();
        for me in [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0] {
            order.push((me, shares.next(me)));
        }
        assert_eq!(
            order,
            [
                (1, Some(5)),
                (1, Some(6)),
                (1, Some(7)),
                (1, Some(8)),
                (1, Some(9)),
                (1, Some(2)), // the back half of 0..5 (rounded up)
                (0, Some(0)),
                (0, Some(1)),
                (0, Some(4)), // the back half of 3..5
                (1, Some(3)),
                (1, None),
                (0, None),
            ]
        );
        let shares = Shares::new(10, 2);
        assert_eq!(shares.next(1), Some(5));
        shares.stop();
        assert_eq!(shares.next(0), None);
        assert_eq!(shares.next(1), None);
    }

    #[test]
    fn results_come_in_order_and_the_first_error_stops_the_rest() {
        let items: Vec<u32> = (0..500).collect();
        let doubled: Result<Vec<u32>, ()> = map_with(&items, 3, || (), |_, i| Ok(i * 2), |_| {});
        assert_eq!(
            doubled.unwrap(),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let failed = map_with(
            &items,
            2,
            || (),
            |_, i| {
                seen.fetch_add(1, Ordering::Relaxed);
                if *i == 10 {
                    Err(format!("item {i}"))
                } else {
                    Ok(*i)
                }
            },
            |_| {},
        );
        assert_eq!(failed, Err("item 10".to_owned()));
        assert!(
            seen.load(Ordering::Relaxed) < 500,
            "the others stopped early"
        );
        // Each thread's state is made once and handed back once.
        let made = std::sync::atomic::AtomicUsize::new(0);
        let handed = std::sync::atomic::AtomicUsize::new(0);
        let _ = map_with(
            &items,
            4,
            || made.fetch_add(1, Ordering::Relaxed),
            |_, i| Ok::<_, ()>(*i),
            |_| {
                handed.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(made.load(Ordering::Relaxed), 4);
        assert_eq!(handed.load(Ordering::Relaxed), 4);
    }
}
