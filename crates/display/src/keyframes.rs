//! When a recording gets its next full picture (a keyframe).

/// When the recording gets its next full picture (a keyframe): a player seeking to a moment
/// starts at the last keyframe before it and replays only what followed, so keyframes are
/// written often while much changes and rarely while little does — seeking stays fast and an
/// idle session's recording stays small.
#[derive(Debug, Clone, Copy)]
pub struct KeyframeSchedule {
    last_ms: u64,
    last_stream_len: u64,
}

impl KeyframeSchedule {
    /// After this much stream since the last keyframe, one is due once `BUSY_MS` passed
    /// (bounds what a seek replays in the browser: web/bench/seek-hour.mjs).
    const BUSY_BYTES: u64 = 256 * 1024;
    const BUSY_MS: u64 = 5_000;
    /// Any change at all makes one due after this long.
    const QUIET_MS: u64 = 300_000;

    pub fn new(now_ms: u64, stream_len: u64) -> KeyframeSchedule {
        KeyframeSchedule {
            last_ms: now_ms,
            last_stream_len: stream_len,
        }
    }

    pub fn due(&self, now_ms: u64, stream_len: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        let grown = stream_len.saturating_sub(self.last_stream_len);
        (elapsed >= Self::BUSY_MS && grown >= Self::BUSY_BYTES)
            || (elapsed >= Self::QUIET_MS && grown > 0)
    }

    /// A keyframe was written at `now_ms`, the stream then `stream_len` long.
    pub fn written(&mut self, now_ms: u64, stream_len: u64) {
        *self = KeyframeSchedule::new(now_ms, stream_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_follow_activity() {
        let mut schedule = KeyframeSchedule::new(0, 0);
        assert!(!schedule.due(4_999, 5 << 20), "not before 5 s");
        assert!(!schedule.due(5_000, 255 << 10), "not for less than 256 KiB");
        assert!(schedule.due(5_000, 256 << 10), "busy: 256 KiB in 5 s");
        assert!(!schedule.due(299_999, 1000), "quiet: little changed");
        assert!(
            schedule.due(300_000, 1),
            "quiet: something changed in 5 min"
        );
        schedule.written(300_000, 1);
        assert!(!schedule.due(900_000, 1), "idle: nothing changed since");
    }
}
