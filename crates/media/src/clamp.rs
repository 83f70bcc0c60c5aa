//! DTMF clamping: received audio, delayed by two frames, with every sample of an accepted
//! key (from its measured start to its end plus a short hangover) muted.
//!
//! The receiver accepts a key 30–40 ms after it began and reports the start time; holding
//! the audio back 40 ms lets the clamp mute the key from its first sample, so neither the
//! recording nor the bridged party hears it.

use tel_types::{FRAME_SAMPLES, SampleTime};

use crate::Frame;

/// Frames of delay (40 ms).
pub(crate) const DELAY_FRAMES: usize = 2;
/// Muted after a key ends, in samples (10 ms): covers the receiver's end-time resolution.
const HANGOVER_SAMPLES: u64 = 80;
/// Keys tracked at once (a key's range is kept until its audio has left the delay line).
const RANGES: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Range {
    from: u64,
    /// Exclusive end; `u64::MAX` while the key is held.
    until: u64,
}

/// The delay line and the muted ranges.
#[derive(Debug)]
pub(crate) struct Clamp {
    ring: [Frame; DELAY_FRAMES],
    times: [u64; DELAY_FRAMES],
    head: usize,
    ranges: [Option<Range>; RANGES],
}

impl Clamp {
    pub(crate) fn new() -> Self {
        Self {
            ring: [[0; FRAME_SAMPLES]; DELAY_FRAMES],
            times: [0; DELAY_FRAMES],
            head: 0,
            ranges: [None; RANGES],
        }
    }

    /// A key was accepted; mute from its start until [`Clamp::key_up`].
    pub(crate) fn key_down(&mut self, start: SampleTime) {
        let range = Range {
            from: start.0,
            until: u64::MAX,
        };
        // Reuse a free slot, else the one that ends first.
        let slot = self
            .ranges
            .iter()
            .position(Option::is_none)
            .unwrap_or_else(|| {
                (0..RANGES)
                    .min_by_key(|&i| self.ranges[i].map_or(0, |r| r.until))
                    .unwrap_or(0)
            });
        self.ranges[slot] = Some(range);
    }

    /// The key ended at `end`.
    pub(crate) fn key_up(&mut self, end: SampleTime) {
        for r in self.ranges.iter_mut().flatten() {
            if r.until == u64::MAX {
                r.until = end.0 + HANGOVER_SAMPLES;
            }
        }
    }

    /// Takes the frame received at `now` and writes to `out` the frame from
    /// [`DELAY_FRAMES`] frames ago, with muted ranges zeroed.
    pub(crate) fn push(&mut self, now: SampleTime, frame: &Frame, out: &mut Frame) {
        *out = self.ring[self.head];
        let t0 = self.times[self.head];
        self.ring[self.head] = *frame;
        self.times[self.head] = now.0;
        self.head = (self.head + 1) % DELAY_FRAMES;
        let t1 = t0 + FRAME_SAMPLES as u64;
        for slot in &mut self.ranges {
            let Some(r) = *slot else { continue };
            if r.until <= t0 {
                *slot = None; // entirely in the past
                continue;
            }
            let a = r.from.clamp(t0, t1) - t0;
            let b = r.until.clamp(t0, t1) - t0;
            out[a as usize..b as usize].fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_and_mutes_exactly_the_key() {
        let mut c = Clamp::new();
        let mut out = [0i16; FRAME_SAMPLES];
        let frame = |k: u64| [k as i16 + 1; FRAME_SAMPLES];
        let mut got = Vec::new();
        for k in 0..8u64 {
            if k == 3 {
                c.key_down(SampleTime(250)); // key started inside frame 1
            }
            if k == 5 {
                c.key_up(SampleTime(600)); // and ended inside frame 3
            }
            c.push(SampleTime(k * 160), &frame(k), &mut out);
            got.extend_from_slice(&out);
        }
        // Output k is input k-2; samples 250..680 of the input stream are muted.
        let input_at = |s: usize| got[s + 2 * FRAME_SAMPLES];
        assert_eq!(input_at(0), 1);
        assert_eq!(input_at(249), 2);
        assert!((250..680).all(|s| input_at(s) == 0));
        assert_eq!(input_at(680), 5);
        assert_eq!(input_at(900), 6);
    }
}
