//! The received frames of a channel, and DTMF clamping: received audio, delayed by two
//! frames, with every sample of an accepted key (from its measured start to its end plus a
//! short hangover) muted.
//!
//! The receiver accepts a key 30–40 ms after it began and reports the start time; holding
//! the audio back 40 ms lets the clamp mute the key from its first sample, so neither the
//! recording nor the bridged party hears it.
//!
//! Every frame lives in one slot of a ring from the moment it is received (decoded straight
//! into it, block by block) until the bridged peer has taken the last of it: the frame being
//! collected, the two frames of the delay line, the clean frame (the oldest of the delay
//! line, muted in place) and the clean frame before it (whose end a peer on 10 ms blocks is
//! still owed). Nothing is copied from one slot to another.

use tel_types::{FRAME_SAMPLES, SampleTime};

use crate::Frame;

/// Frames of delay (40 ms).
pub(crate) const DELAY_FRAMES: usize = 2;
/// Muted after a key ends, in samples (10 ms): covers the receiver's end-time resolution.
const HANGOVER_SAMPLES: u64 = 80;
/// Keys tracked at once (a key's range is kept until its audio has left the delay line).
const RANGES: usize = 4;
/// Slots: the frame being collected, the delay line, the clean frame and the one before.
const SLOTS: usize = DELAY_FRAMES + 2;

#[derive(Debug, Clone, Copy)]
struct Range {
    from: u64,
    /// Exclusive end; `u64::MAX` while the key is held.
    until: u64,
}

/// The ring of received frames, the delay line and the muted ranges.
#[derive(Debug)]
pub(crate) struct Clamp {
    ring: [Frame; SLOTS],
    /// Sample time of each slot's first sample.
    times: [u64; SLOTS],
    /// The slot the next frame is collected in.
    next: usize,
    /// Frames between a received frame and its clean version: [`DELAY_FRAMES`], or 0 when
    /// clamping is off (clean audio is the received audio, nothing is muted).
    delay: usize,
    ranges: [Option<Range>; RANGES],
}

impl Clamp {
    /// Clamping on: clean audio is delayed by [`DELAY_FRAMES`] and keys are muted.
    pub(crate) fn new() -> Self {
        Self::with_delay(DELAY_FRAMES)
    }

    /// Clamping off: the clean frame is the frame just received.
    pub(crate) fn off() -> Self {
        Self::with_delay(0)
    }

    fn with_delay(delay: usize) -> Self {
        Self {
            ring: [[0; FRAME_SAMPLES]; SLOTS],
            times: [0; SLOTS],
            next: 0,
            delay,
            ranges: [None; RANGES],
        }
    }

    /// The frame being collected (received samples go straight in).
    #[inline]
    pub(crate) fn collecting(&mut self) -> &mut Frame {
        &mut self.ring[self.next]
    }

    /// The frame being collected, to read.
    #[inline]
    pub(crate) fn collected(&self) -> &Frame {
        &self.ring[self.next]
    }

    /// The slot of the clean frame (the last one [`Clamp::complete`] made).
    #[inline]
    pub(crate) fn clean_slot(&self) -> usize {
        (self.next + SLOTS - 1 - self.delay) % SLOTS
    }

    /// A slot's frame.
    #[inline]
    pub(crate) fn slot(&self, slot: usize) -> &Frame {
        &self.ring[slot]
    }

    /// The clean frame: received audio with DTMF removed, [`DELAY_FRAMES`] behind (or the
    /// frame just received if clamping is off).
    #[inline]
    pub(crate) fn clean(&self) -> &Frame {
        &self.ring[self.clean_slot()]
    }

    /// A key was accepted; mute from its start until [`Clamp::key_up`].
    pub(crate) fn key_down(&mut self, start: SampleTime) {
        if self.delay == 0 {
            return;
        }
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

    /// The frame being collected, received at `now`, is complete: it joins the delay line,
    /// and the frame from [`DELAY_FRAMES`] frames ago, with muted ranges zeroed, becomes the
    /// clean frame ([`Clamp::clean`]).
    pub(crate) fn complete(&mut self, now: SampleTime) {
        self.times[self.next] = now.0;
        self.next = (self.next + 1) % SLOTS;
        if self.delay == 0 {
            return;
        }
        let slot = self.clean_slot();
        let t0 = self.times[slot];
        let out = &mut self.ring[slot];
        let t1 = t0 + FRAME_SAMPLES as u64;
        for r in &mut self.ranges {
            let Some(range) = *r else { continue };
            if range.until <= t0 {
                *r = None; // entirely in the past
                continue;
            }
            let a = range.from.clamp(t0, t1) - t0;
            let b = range.until.clamp(t0, t1) - t0;
            out[a as usize..b as usize].fill(0);
        }
    }

    /// Takes the frame received at `now` and writes to `out` the frame from
    /// [`DELAY_FRAMES`] frames ago, with muted ranges zeroed.
    #[cfg(test)]
    pub(crate) fn push(&mut self, now: SampleTime, frame: &Frame, out: &mut Frame) {
        *self.collecting() = *frame;
        self.complete(now);
        *out = *self.clean();
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
