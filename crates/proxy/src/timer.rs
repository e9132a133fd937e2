//! A finer sleep than tokio's, for the latency toxic.
//!
//! Why: tokio's timer wheel has a resolution of 1 ms, rounds every deadline
//! up to its next tick, and the runtime parks in `epoll_wait` with a
//! millisecond timeout, so a 10 ms sleep wakes 1.1 to 1.2 ms late at p50
//! on the project's machine, and a 10 ms latency toxic added that much too
//! (Toxiproxy, on Go's timers, overshoots by about 330 µs). The target is
//! at most 100 µs of error (issue 8, BENCHMARKS.md).
//!
//! How: tokio's wheel sleeps until [`FINE_WINDOW`] before the deadline
//! (cheap, and early enough even when it wakes many ticks late); the last
//! stretch is left to one timer thread of the process, which parks with a
//! nanosecond timeout (a futex wait on an hrtimer) with its timer slack set
//! to 1 ns. It wakes each task [`WAKE_LEAD`] before its deadline, since a
//! runtime worker takes tens of microseconds to pick a woken task up; a
//! task polled before its deadline spins the few microseconds left, so it
//! never resumes early. Spinning or yielding for the whole last tick
//! instead would be as precise but would keep a core busy for up to a
//! millisecond per chunk, which on a 2-core machine would slow down the
//! producers the toxic is applied to.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long before the deadline tokio's wheel hands over to the timer
/// thread. tokio wakes 1.1 to 1.3 ms late at p50 to p99 on a quiet
/// machine, and later on a busy one: with a 2 ms window the coarse sleep
/// sometimes ended after the deadline, and the 10 ms latency toxic's p99
/// error was over 1 ms in a full `faultlab bench` (behind Toxiproxy's).
/// A longer window is not better: with 20 ms (a 10 ms wait entirely on the
/// timer thread) the overshoot at p50 grew from about 25 µs to about
/// 100 µs, measured with `faultlab bench --only proxy`; a thread that has
/// slept for long wakes more slowly on this VM. A dropped sleep's waker stays
/// queued until its deadline (holding its task's memory), at most this long.
const FINE_WINDOW: Duration = Duration::from_millis(5);

/// How long before its deadline the timer thread wakes a task: about what
/// a woken task waits for a worker on this kind of machine. A task that
/// runs before its deadline spins at most this long. With 30 µs a 10 ms
/// sleep overshot by about 25 µs at p50; with 50 µs by 0 to 4 µs
/// (`faultlab bench --only proxy`, the "timer overshoot" row).
const WAKE_LEAD: Duration = Duration::from_micros(50);

/// Sleep until `deadline`, waking within tens of microseconds after it
/// (tokio's own `sleep_until` wakes up to a millisecond or more late).
/// Cancel-safe: dropping it leaves at most a stale wake-up behind.
pub async fn sleep_until(deadline: tokio::time::Instant) {
    if let Some(coarse) = deadline.checked_sub(FINE_WINDOW)
        && tokio::time::Instant::now() < coarse
    {
        tokio::time::sleep_until(coarse).await;
    }
    FineSleep { deadline: deadline.into_std(), registered: None }.await
}

struct FineSleep {
    deadline: Instant,
    /// The waker handed to the timer thread, so a re-poll from the same
    /// task does not queue it again.
    registered: Option<Waker>,
}

impl Future for FineSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if now >= self.deadline {
            return Poll::Ready(());
        }
        if self.deadline - now <= WAKE_LEAD {
            while Instant::now() < self.deadline {
                std::hint::spin_loop();
            }
            return Poll::Ready(());
        }
        if !self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.registered = Some(cx.waker().clone());
            register(self.deadline - WAKE_LEAD, cx.waker().clone());
        }
        Poll::Pending
    }
}

struct Entry {
    deadline: Instant,
    waker: Waker,
}

// Ordered by deadline, reversed: BinaryHeap is a max-heap and the timer
// thread wants the earliest deadline on top.
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.deadline.cmp(&self.deadline)
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}

impl Eq for Entry {}

static QUEUE: Mutex<BinaryHeap<Entry>> = Mutex::new(BinaryHeap::new());
static THREAD: OnceLock<Thread> = OnceLock::new();

fn queue() -> MutexGuard<'static, BinaryHeap<Entry>> {
    QUEUE.lock().unwrap_or_else(|e| e.into_inner())
}

fn register(deadline: Instant, waker: Waker) {
    let thread = THREAD.get_or_init(|| {
        std::thread::Builder::new().name("faultlab-timer".into()).spawn(run).expect("spawning the latency timer thread").thread().clone()
    });
    let earliest = {
        let mut queue = queue();
        queue.push(Entry { deadline, waker });
        queue.peek().is_some_and(|e| e.deadline == deadline)
    };
    // A new earliest deadline: the thread may be parked until a later one.
    if earliest {
        thread.unpark();
    }
}

fn run() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack
    // (default 50 µs, by which the kernel may delay its timed waits).
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
    let mut due = Vec::new();
    loop {
        let next = {
            let mut queue = queue();
            let now = Instant::now();
            while queue.peek().is_some_and(|e| e.deadline <= now) {
                due.extend(queue.pop().map(|e| e.waker));
            }
            queue.peek().map(|e| e.deadline)
        };
        for waker in due.drain(..) {
            waker.wake();
        }
        match next {
            Some(deadline) => std::thread::park_timeout(deadline.saturating_duration_since(Instant::now())),
            None => std::thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wakes_at_the_deadline_never_before() {
        let mut late = Vec::new();
        for ms in [0u64, 1, 3, 10] {
            let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
            sleep_until(deadline).await;
            let now = tokio::time::Instant::now();
            assert!(now >= deadline, "woke {:?} early", deadline - now);
            late.push(now - deadline);
        }
        // Loose bound: the machine may be busy; the benchmark measures it.
        assert!(late.iter().all(|l| *l < Duration::from_millis(20)), "{late:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_sleepers_in_any_order_all_wake() {
        let base = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..50u64)
            .map(|i| {
                let deadline = base + Duration::from_micros((50 - i) * 100);
                tokio::spawn(async move {
                    sleep_until(deadline).await;
                    assert!(tokio::time::Instant::now() >= deadline);
                })
            })
            .collect();
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(5), task).await.expect("woken").unwrap();
        }
    }
}
