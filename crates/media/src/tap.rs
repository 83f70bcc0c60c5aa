//! Taps: frames of audio the audio thread hands to another thread (recording writer,
//! supervisor listen-in) through an SPSC ring.

use ringbuf::traits::Consumer;
use ringbuf::{HeapCons, HeapProd};
use tel_types::{ChannelId, FRAME_SAMPLES, RecordingId};

/// One frame of tapped audio, `Copy` and fixed-size so it crosses a ring without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapFrame {
    /// The channel the audio belongs to.
    pub channel: ChannelId,
    /// For recordings: the slot being written. For the listen tap: `RecordingId(0)`.
    pub slot: RecordingId,
    /// Frame number within this recording (or listen session), from 0; a gap means frames
    /// were dropped because the ring was full.
    pub seq: u32,
    /// This is the first frame of a recording (or listen session).
    pub first: bool,
    /// This is the last frame: the recording ended after it. `len` may be 0.
    pub last: bool,
    /// Valid samples in `samples`.
    pub len: u16,
    /// 8 kHz linear audio.
    pub samples: [i16; FRAME_SAMPLES],
}

impl TapFrame {
    /// The valid samples.
    pub fn audio(&self) -> &[i16] {
        &self.samples[..usize::from(self.len).min(FRAME_SAMPLES)]
    }
}

/// The receiving end of a tap, for a writer or listener thread.
pub struct TapConsumer {
    pub(crate) cons: HeapCons<TapFrame>,
}

impl TapConsumer {
    /// Takes the oldest frame, if any.
    pub fn pop(&mut self) -> Option<TapFrame> {
        self.cons.try_pop()
    }
}

impl core::fmt::Debug for TapConsumer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TapConsumer").finish_non_exhaustive()
    }
}

/// The audio thread's end of a tap.
pub(crate) struct TapProducer {
    pub(crate) prod: HeapProd<TapFrame>,
}
