//! CPU-heavy session work (encoding a frame, a full picture, a thumbnail) off the async
//! executor: the executor's few threads serve every request and every session, so one target
//! that makes its session draw huge frames again and again must not hold one of them.
//!
//! The work runs where it is (it borrows the session's framebuffer) on a thread the runtime
//! hands its other tasks away from (`block_in_place`), and at most `permits()` sessions do such
//! work at once, so the drawing of all sessions together cannot take every core from the
//! executor either. The permits are taken in turn (first come, first served): a session
//! waiting for one waits behind at most that many pieces of work, each bounded by its one
//! framebuffer.

use std::sync::OnceLock;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Work smaller than this many pixels is cheaper done at once than handed off.
pub const HEAVY_PIXELS: u64 = 256 * 256;

/// Sessions drawing at once: all cores but one, which is left to the executor.
fn permits() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

fn gate() -> &'static Semaphore {
    static GATE: OnceLock<Semaphore> = OnceLock::new();
    GATE.get_or_init(|| Semaphore::new(permits()))
}

/// A turn to do work of some size: taken (awaited) before the work, so that nothing the work
/// borrows is held across an await, then spent by [`Turn::run`].
#[derive(Debug)]
#[must_use = "a turn is for running work"]
pub struct Turn {
    permit: Option<SemaphorePermit<'static>>,
}

/// Waits for a turn to do work of about `pixels` pixels: at once for small work.
pub async fn turn(pixels: u64) -> Turn {
    if pixels < HEAVY_PIXELS {
        return Turn { permit: None };
    }
    // The semaphore is never closed, so the permit always comes; were it closed, the work would
    // still run (drawing must not stop), only in place.
    Turn {
        permit: gate().acquire().await.ok(),
    }
}

impl Turn {
    /// Runs `work`, without holding an executor thread when it is large.
    pub fn run<T>(self, work: impl FnOnce() -> T) -> T {
        if self.permit.is_none() {
            return work();
        }
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
            // A single-threaded runtime (unit tests) has no other thread to hand its tasks to.
            _ => work(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn small_work_and_single_threaded_runtimes_run_in_place() {
        // block_in_place would panic here: a current-thread runtime has no other thread.
        assert_eq!(turn(1).await.run(|| 7), 7);
        assert_eq!(turn(HEAVY_PIXELS * 4).await.run(|| 8), 8);
    }
}
