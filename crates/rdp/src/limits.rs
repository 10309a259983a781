//! What an RDP server may make the gateway allocate. IronRDP bounds what it decodes, but the
//! desktop image is the driver's: its size comes from the server's Bitmap Capability Set
//! (MS-RDPBCGR 2.2.7.1.2, up to 65535×65535, 16 GiB at 4 bytes a pixel), in the Demand Active of
//! the connection and of every reactivation (1.3.1.3). So the size is checked before the image
//! is made, and a server that reactivates again and again is ended before the new images cost
//! more than the checks.

use std::time::{Duration, Instant};

/// Most reactivations (Deactivate All, then a new Demand Active) in [`REACTIVATION_WINDOW`]: a
/// resolution change, a log-on screen switching to the session, a reconnection of the console
/// are each one; a person never causes thirty in ten seconds.
pub const MAX_REACTIVATIONS: u32 = 30;
pub const REACTIVATION_WINDOW: Duration = Duration::from_secs(10);

/// A desktop of more pixels than one session's framebuffer budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {width}×{height} desktop is more than {max_pixels} pixels")]
pub struct DesktopTooLarge {
    pub width: u16,
    pub height: u16,
    pub max_pixels: u32,
}

/// Whether a `width`×`height` desktop fits in `max_pixels`.
pub fn check_desktop(width: u16, height: u16, max_pixels: u32) -> Result<(), DesktopTooLarge> {
    // 65535 × 65535 < 2^32: no overflow.
    if u32::from(width) * u32::from(height) > max_pixels {
        return Err(DesktopTooLarge {
            width,
            height,
            max_pixels,
        });
    }
    Ok(())
}

/// Counts reactivations in a window of [`REACTIVATION_WINDOW`] from the first of them.
#[derive(Debug, Clone)]
pub struct Reactivations {
    since: Instant,
    count: u32,
}

impl Reactivations {
    pub fn new(now: Instant) -> Reactivations {
        Reactivations {
            since: now,
            count: 0,
        }
    }

    /// Records one at `now`; the count within the window when it is more than
    /// [`MAX_REACTIVATIONS`] (the session should end), else `None`.
    pub fn record(&mut self, now: Instant) -> Option<u32> {
        if now.duration_since(self.since) > REACTIVATION_WINDOW {
            self.since = now;
            self.count = 0;
        }
        self.count += 1;
        (self.count > MAX_REACTIVATIONS).then_some(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_in_pixels_not_sides() {
        assert!(check_desktop(4096, 4096, 1 << 24).is_ok());
        assert!(check_desktop(7680, 2160, 1 << 24).is_ok());
        let err = check_desktop(8192, 8192, 1 << 24).unwrap_err();
        assert_eq!((err.width, err.height), (8192, 8192));
        assert!(check_desktop(u16::MAX, u16::MAX, 1 << 24).is_err());
        assert!(check_desktop(u16::MAX, 1, 1 << 24).is_ok());
    }

    #[test]
    fn thirty_reactivations_in_ten_seconds_pass_the_thirty_first_does_not() {
        let start = Instant::now();
        let mut r = Reactivations::new(start);
        for i in 0..30 {
            assert_eq!(r.record(start + Duration::from_millis(i * 100)), None);
        }
        assert_eq!(r.record(start + Duration::from_secs(5)), Some(31));
        // A new window starts after ten seconds.
        let mut slow = Reactivations::new(start);
        for i in 0..100 {
            assert_eq!(slow.record(start + Duration::from_secs(i)), None);
        }
    }
}
