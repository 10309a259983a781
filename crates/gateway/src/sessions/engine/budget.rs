//! The gateway's memory for remote desktops, shared by every session: each framebuffer (4
//! bytes a pixel, up to 64 MiB for one session) is reserved here before it is allocated, so a
//! few targets announcing huge desktops cannot take the memory every other session needs.
//! What encoding a frame costs besides is short-lived and bounded by the one framebuffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hoshu_guac::Status;

use super::lifetime::Ending;
use super::outcome::Outcome;

/// Bytes a framebuffer holds per pixel (RGBA or BGRX, as both the RFB client and IronRDP keep
/// them).
pub const BYTES_PER_PIXEL: u64 = 4;

/// The shared budget: its size and what the sessions hold of it.
#[derive(Debug, Clone)]
pub struct FramebufferBudget(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    total: u64,
    used: AtomicU64,
}

/// What one session holds of the budget; given back when dropped, whatever way the session
/// ends.
#[derive(Debug)]
pub struct Reservation {
    budget: FramebufferBudget,
    bytes: u64,
}

/// The budget cannot give a session what it asks for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    /// What the session asked for, in bytes.
    pub wanted: u64,
    /// The whole budget, in bytes.
    pub total: u64,
}

impl FramebufferBudget {
    pub fn new(total_bytes: u64) -> Self {
        FramebufferBudget(Arc::new(Shared {
            total: total_bytes,
            used: AtomicU64::new(0),
        }))
    }

    pub fn total(&self) -> u64 {
        self.0.total
    }

    /// What every session holds together now.
    pub fn used(&self) -> u64 {
        self.0.used.load(Ordering::Relaxed)
    }

    /// An empty reservation for a session that has no framebuffer yet.
    pub fn reservation(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

impl Reservation {
    /// The whole budget, in bytes.
    pub fn total(&self) -> u64 {
        self.budget.total()
    }

    /// What `self` could grow to now: what it holds and what nobody holds.
    pub fn available(&self) -> u64 {
        let shared = &self.budget.0;
        shared
            .total
            .saturating_sub(shared.used.load(Ordering::Relaxed))
            .saturating_add(self.bytes)
    }

    /// The most pixels a framebuffer replacing this session's could have now.
    pub fn available_pixels(&self) -> u64 {
        self.available() / BYTES_PER_PIXEL
    }

    /// Makes the reservation `bytes` (the session's new framebuffer replaces its old one), or
    /// leaves it as it was when the budget has not that much left.
    pub fn resize(&mut self, bytes: u64) -> Result<(), Exhausted> {
        let shared = &self.budget.0;
        let held = self.bytes;
        let result = shared
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                let others = used.saturating_sub(held);
                let after = others.checked_add(bytes)?;
                (after <= shared.total).then_some(after)
            });
        match result {
            Ok(_) => {
                self.bytes = bytes;
                Ok(())
            }
            Err(_) => Err(Exhausted {
                wanted: bytes,
                total: shared.total,
            }),
        }
    }

    /// [`Reservation::resize`] for a `width` × `height` framebuffer.
    pub fn resize_to(&mut self, width: u32, height: u32) -> Result<(), Exhausted> {
        self.resize(u64::from(width) * u64::from(height) * BYTES_PER_PIXEL)
    }

    /// [`Reservation::resize_to`] for `target`'s new desktop, or the session's ending when it
    /// does not fit.
    pub fn claim(&mut self, target: &str, width: u32, height: u32) -> Result<(), Ending> {
        self.resize_to(width, height)
            .map_err(|_| self.refusal(target, width, height))
    }

    /// The ending of a session whose `target` wants a `width` × `height` desktop the budget
    /// cannot hold now.
    pub fn refusal(&self, target: &str, width: u32, height: u32) -> Ending {
        tracing::warn!(target = %target, width, height, "No framebuffer budget left for the target's desktop");
        Ending::error(
            Status::SERVER_BUSY,
            Outcome::FramebufferBudget {
                target: target.to_owned(),
                width,
                height,
                budget_mib: self.total() >> 20,
            },
        )
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.0.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_budget_and_give_it_back() {
        let budget = FramebufferBudget::new(100);
        let mut a = budget.reservation();
        let mut b = budget.reservation();
        assert_eq!(a.resize(60), Ok(()));
        assert_eq!(b.available(), 40);
        assert_eq!(
            b.resize(41),
            Err(Exhausted {
                wanted: 41,
                total: 100
            })
        );
        assert_eq!(b.resize(40), Ok(()));
        // A session's new framebuffer replaces its old one: it may take what it held.
        assert_eq!(a.available(), 60);
        assert_eq!(a.resize(10), Ok(()));
        assert_eq!(budget.used(), 50);
        drop(b);
        assert_eq!(budget.used(), 10);
        drop(a);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_failed_resize_keeps_what_was_held() {
        let budget = FramebufferBudget::new(16);
        let mut a = budget.reservation();
        assert_eq!(a.resize_to(2, 2), Ok(()));
        assert!(a.resize_to(3, 3).is_err());
        assert_eq!(budget.used(), 16);
        assert_eq!(a.available_pixels(), 4);
    }

    #[test]
    fn sizes_past_u64_are_refused_not_wrapped() {
        let budget = FramebufferBudget::new(u64::MAX);
        let mut a = budget.reservation();
        assert_eq!(a.resize(u64::MAX), Ok(()));
        let mut b = budget.reservation();
        assert!(b.resize(1).is_err());
    }
}
