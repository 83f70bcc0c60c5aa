//! The audio thread's side of a channel: one call of [`Pipeline::process`] per 20 ms frame,
//! or one call of [`Pipeline::process_block`] per board block (10 ms blocks: the receive side
//! still analyses whole 20 ms frames, the transmit side is built block by block).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ringbuf::traits::{Consumer, Producer};
use ringbuf::{HeapCons, HeapProd};
use tel_types::{
    CallerId, ChannelId, Digit, DigitSet, FRAME_SAMPLES, Hook, Law, LineEvent, MediaCommand,
    MediaEvent, ProgressTone, PromptId, RecordingId, SAMPLES_PER_MS, SampleTime,
};

use dsp::callerid::CallerIdSender;
use dsp::fsk::FskModem;

use crate::clamp::Clamp;
use crate::control::{Command, Counters};
use crate::detect::{Detected, Receivers};
use crate::fifo::Fifo;
use crate::gain::mix_into;
use crate::tap::{TapFrame, TapProducer};
use crate::tones::ToneSource;
use crate::{Gain, PromptTable};

/// One 20 ms frame of 8 kHz linear audio.
pub type Frame = [i16; FRAME_SAMPLES];

/// Level of caller ID sent to a station, dBm0 (Bellcore GR-30: -13.5 ± 1.5).
const CID_LEVEL_DBM0: f32 = -13.5;
/// Caller ID starts this long after a ring burst ends (at least 500 ms per GR-30).
const CID_DELAY_SAMPLES: u64 = 600 * SAMPLES_PER_MS;

/// Prompts that can wait behind the one playing.
const QUEUE_DEPTH: usize = 16;
/// Hook/bridge requests the loop has not collected yet.
const LINE_CONTROL_DEPTH: usize = 8;

/// Events kept when the event ring is full: one fixed slot per kind of event whose loss
/// would leave a call wrong, so they reach the control side once there is room. Everything
/// else that does not fit is counted and reported as [`MediaEvent::EventsLost`].
///
/// Coalescing to the latest of a kind is exact for what the control side does with them:
/// a `PlaybackDone` (or `RecordingDone`) also completes every earlier prompt (recording);
/// the hook slots are delivered in the order of their last change, so the final hook state
/// is right and each change that happened is seen at least once; a removed channel stays
/// removed.
#[derive(Debug, Default, Clone, Copy)]
#[repr(C)] // `any`, read on every block, last: next to the fields `Pipeline` reads then.
struct Held {
    /// Events dropped (not kept in a slot) since the last `EventsLost` went out.
    lost: u32,
    /// `Removed` (sticky), `Alarm` or `NoAlarm`.
    fault: Option<MediaEvent>,
    /// The last on-hook and off-hook (ring / answer) events, with their order.
    on_hook: Option<(u32, MediaEvent)>,
    off_hook: Option<(u32, MediaEvent)>,
    /// The first hang-up signal: a polarity reversal or busy tone.
    hangup: Option<MediaEvent>,
    playback: Option<MediaEvent>,
    recording: Option<MediaEvent>,
    seq: u32,
    /// Something is held (kept up to date by `hold` and `flush_held`): the check made on
    /// every call reads this one byte, not the slots spread over several cache lines.
    any: bool,
}

impl Held {
    fn is_empty(&self) -> bool {
        !self.any
    }

    /// Whether every slot is empty and nothing is counted lost, from the slots themselves.
    fn slots_empty(&self) -> bool {
        self.lost == 0
            && self.fault.is_none()
            && self.on_hook.is_none()
            && self.off_hook.is_none()
            && self.hangup.is_none()
            && self.playback.is_none()
            && self.recording.is_none()
    }
}

/// Something the audio loop must do to the board (the pipeline itself never touches it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineControl {
    /// Change the hook state of this channel.
    Hook(Hook),
    /// Connect this channel with `peer` both ways. The loop tells the peer's pipeline with
    /// [`Pipeline::set_peer`] (user-space bridge) or asks the board to conference them.
    Bridge(ChannelId),
    /// Undo the bridge with this peer.
    Unbridge(ChannelId),
}

#[derive(Debug, Clone, Copy)]
struct Queued {
    prompt: PromptId,
    barge_in: DigitSet,
}

#[derive(Debug, Clone, Copy)]
struct Playing {
    prompt: PromptId,
    barge_in: DigitSet,
    samples: &'static [i16],
    pos: usize,
}

#[derive(Debug, Clone, Copy)]
struct Recording {
    slot: RecordingId,
    seq: u32,
    samples: u32,
    max_samples: u64,
    silence_limit: u64,
    started_at: SampleTime,
    stop_keys: DigitSet,
}

/// An end-of-recording marker that did not fit in the tap ring yet.
#[derive(Debug, Clone, Copy)]
struct PendingEnd {
    slot: RecordingId,
    seq: u32,
}

/// The audio thread's end of one channel: receive detectors, playback, tones, recording,
/// bridging, gain.
///
/// Everything it needs is allocated in [`crate::channel`]; no method here allocates, locks,
/// blocks or frees memory (`tests/no_alloc.rs` checks this).
///
/// How it carries out [`MediaCommand`]s:
///
/// - `Play` queues up to 16 prompts, played back to back. An unknown prompt or a full queue
///   is answered at once with `PlaybackDone { played_samples: 0 }` and counted. A key in the
///   playing prompt's barge-in set stops it and the queue: one `PlaybackDone` each, with the
///   samples played and the key.
/// - `PlayTone` mixes the zone's tone (or a DTMF key, or the beep) into what is sent, for
///   `duration_ms` or, with 0, until `StopTone` (the beep ends by itself).
/// - `StartRecording` writes clean received audio to the recording tap until `StopRecording`,
///   a stop key, `max_ms` (0: no limit), `end_on_silence_ms` of silence (0: off) or an
///   on-hook event; then `RecordingDone`. Without a tap it is refused the same way as `Play`.
/// - `Bridge`/`Unbridge`/`SetHook` come out of [`Pipeline::poll_line_control`] for the loop
///   to carry out on the board.
/// - `SendCallerId` (station ports) sends FSK caller ID (MDMF, the configured modem) 600 ms
///   after the next ring burst ends ([`LineEvent::RingerOff`]); an answer cancels it.
/// - `FlushDigits` is carried out by [`crate::ControlHandle::try_send`].
//
// `repr(C)` keeps the fields in the order written: what every block reads (the held-event
// flag at the end of `held`, the command ring, playback, the block's place in the frame,
// the gains, the tone flag at the start of `tone`) sits in a few adjacent cache lines
// instead of being spread over the 9 KB of state, most of which only the frame's last
// block (the receivers, the received frames) or an occasional event touches. With 10 ms
// blocks each block starts with cold caches, so every line saved is a miss saved.
#[repr(C)]
pub struct Pipeline {
    // Read on every block (three cache lines, from `held.any` to `queue.len`).
    held: Held,
    commands: HeapCons<Command>,
    prompts: &'static PromptTable,
    playing: Option<Playing>,
    /// Block mode: the sample time of the first sample of the frame being collected, and
    /// how much of it has arrived (`rx_fill` samples).
    rx_start: SampleTime,
    rx_fill: usize,
    /// When the caller ID in `cid_sending` starts (`None`: nothing to send).
    cid_at: Option<SampleTime>,
    listen_seq: Option<u32>,
    peer: Option<ChannelId>,
    tx_gain: Gain,
    rx_gain: Gain,
    /// What [`Pipeline::bridge_audio`] returns: `(slot of the clean frame in `rx`, offset,
    /// length)`.
    published: (u8, u8, u8),
    law: Law,
    wake: bool,
    /// `tone.is_active()`, kept here next to the rest (`tone` is 2 KB of generators).
    tone_on: bool,
    /// Block mode: `tx_acc` holds every block of the frame so far (a listener was on at
    /// its first block), so the listen tap may have it.
    tx_acc_whole: bool,
    counters: Arc<Counters>,
    queue: Fifo<Queued, QUEUE_DEPTH>,
    tone: ToneSource,
    /// Block mode: the transmitted blocks of the frame (built in place by
    /// [`Pipeline::process_block_coded`]), kept for the listen tap.
    tx_acc: Frame,

    // Read at the frame's end or on an event.
    id: ChannelId,
    events: HeapProd<MediaEvent>,
    record_tap: Option<TapProducer>,
    listen_tap: Option<TapProducer>,
    line_control: Fifo<LineControl, LINE_CONTROL_DEPTH>,
    recording: Option<Recording>,
    pending_end: Option<PendingEnd>,
    cid_modem: FskModem,
    /// Caller ID to send to a station after its next ring burst.
    cid_pending: Option<CallerId>,
    /// Caller ID being sent (from `cid_at` on).
    cid_sending: Option<CallerIdSender>,
    receivers: Receivers,
    /// The received frames: the one being collected, the DTMF clamp's delay line, the clean
    /// frame and the one before it (see [`Clamp`]).
    rx: Clamp,
}

/// Where a transmit block is built.
enum TxDest<'a> {
    /// The caller's buffer.
    Caller(&'a mut [i16]),
    /// `tx_acc[off..off + len]`: the frame's transmitted blocks, kept for the listen tap.
    Acc(usize, usize),
}

/// The samples `dest` stands for.
#[inline]
fn tx_buf<'s>(acc: &'s mut Frame, dest: &'s mut TxDest<'_>) -> &'s mut [i16] {
    match dest {
        TxDest::Caller(b) => b,
        TxDest::Acc(off, len) => &mut acc[*off..*off + *len],
    }
}

/// Arguments of [`Pipeline::new`], split out of [`crate::Config`] by [`crate::channel`].
pub(crate) struct Parts {
    pub(crate) commands: HeapCons<Command>,
    pub(crate) events: HeapProd<MediaEvent>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) record_tap: Option<TapProducer>,
    pub(crate) listen_tap: Option<TapProducer>,
}

impl Pipeline {
    pub(crate) fn new(config: &crate::Config, parts: Parts) -> Self {
        let rx = if config.dtmf_clamp {
            Clamp::new()
        } else {
            Clamp::off()
        };
        let clean = rx.clean_slot() as u8;
        Self {
            id: config.id,
            law: config.law,
            prompts: config.prompts,
            commands: parts.commands,
            events: parts.events,
            counters: parts.counters,
            record_tap: parts.record_tap,
            listen_tap: parts.listen_tap,
            held: Held::default(),
            wake: false,
            line_control: Fifo::new(),
            playing: None,
            queue: Fifo::new(),
            tone_on: false,
            tx_acc_whole: false,
            tone: ToneSource::new(config),
            recording: None,
            pending_end: None,
            cid_modem: config.caller_id_fsk.unwrap_or(FskModem::V23),
            cid_pending: None,
            cid_at: None,
            cid_sending: None,
            listen_seq: None,
            peer: None,
            tx_gain: config.tx_gain,
            rx_gain: config.rx_gain,
            receivers: Receivers::new(config),
            rx,
            rx_fill: 0,
            rx_start: SampleTime::ZERO,
            tx_acc: [0; FRAME_SAMPLES],
            published: (clean, 0, FRAME_SAMPLES as u8),
        }
    }

    /// The receive half of [`Pipeline::process`]: applies the queued commands, then runs the
    /// receivers, clamping and the recording tap on the frame received at `now`. Events it
    /// queues are visible to the control side at once.
    ///
    /// Call [`Pipeline::process_tx`] for the same `now` before the next `process_rx`. A loop
    /// that leaves a short time between the two (after waking the control thread) lets a
    /// command sent in answer to this frame's events (a prompt after a key) take effect in
    /// this frame's transmit audio instead of the next one.
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn process_rx(&mut self, now: SampleTime, rx: &Frame) {
        self.whole_frame_start(now);
        *self.rx.collecting() = *rx;
        self.whole_frame_receive(now);
    }

    /// Before a whole frame is put in the collecting slot: held events, commands.
    fn whole_frame_start(&mut self, now: SampleTime) {
        if !self.held.is_empty() {
            self.flush_held();
        }
        self.drain_commands(now);
        // A frame handed in whole ends any block-mode frame in progress.
        self.rx_fill = 0;
    }

    /// The receive side of the whole frame in the collecting slot.
    fn whole_frame_receive(&mut self, now: SampleTime) {
        self.receive(now);
        self.published = (self.rx.clean_slot() as u8, 0, FRAME_SAMPLES as u8);
    }

    /// Processes one board block received at `now` (the sample time of its first sample)
    /// and fills `tx` with the block to send: the entry point for boards whose I/O block is
    /// shorter than the 20 ms frame (80 samples: 10 ms).
    ///
    /// The block length is `tx.len()`, a divisor of [`FRAME_SAMPLES`] (80 or 160); `rx` is
    /// that long (a shorter `rx` is padded with silence). Blocks are consecutive: the first
    /// block after [`crate::channel`] (or after a [`Pipeline::process`]) starts a frame.
    ///
    /// - **Commands** queued since the last call take effect in this block: a `Play` sent
    ///   between the two 10 ms blocks of a frame starts at the second block's first sample.
    /// - **Receive side**: blocks are collected into the 20 ms frame, which goes through the
    ///   receivers, clamping and the recording tap when its last block arrives, exactly as
    ///   [`Pipeline::process`] would: detector events and sample times are the same for
    ///   any block length. A key that stops playback (barge-in) is heard at the end of the
    ///   frame, so the block sent with the frame's first block still carried the prompt.
    /// - **Transmit side**: `tx.len()` samples of prompt, tones, caller ID, the bridged
    ///   peer's audio, gain. Generators run on, so the samples are the same as
    ///   [`Pipeline::process`] would send for the same commands at the same frames.
    /// - `peer` is the bridged peer's [`Pipeline::bridge_audio`] (user-space bridge), as
    ///   long as the block (less is mixed as far as it goes); a whole frame (a peer driven
    ///   by [`Pipeline::process`]) gives this block its part of it.
    /// - The listen tap still gets whole frames: the frame's blocks as sent, with the frame's
    ///   clean received audio.
    ///
    /// With 160-sample blocks this is [`Pipeline::process`].
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn process_block(
        &mut self,
        now: SampleTime,
        rx: &[i16],
        tx: &mut [i16],
        peer: Option<&[i16]>,
    ) {
        let (off, len) = self.block_start(now, tx.len());
        let n = rx.len().min(len);
        let acc = &mut self.rx.collecting()[off..off + len];
        acc[..n].copy_from_slice(&rx[..n]);
        acc[n..].fill(0);
        self.block_finish(now, off, len, TxDest::Caller(&mut tx[..len]), peer);
    }

    /// The start of a block of (up to) `want` samples: held events, the frame's start time,
    /// the commands. Returns the block's offset in the frame and its length.
    fn block_start(&mut self, now: SampleTime, want: usize) -> (usize, usize) {
        if !self.held.is_empty() {
            self.flush_held();
        }
        if self.rx_fill == 0 {
            self.rx_start = now;
        }
        let off = self.rx_fill;
        let len = want.min(FRAME_SAMPLES - off);
        debug_assert!(
            len > 0 && FRAME_SAMPLES % len == 0,
            "block of {len} samples"
        );
        // Commands act on the frame being received (a recording starts with it).
        self.drain_commands(self.rx_start);
        (off, len)
    }

    /// The rest of a block whose received samples are in the collecting slot at
    /// `off..off + len`: the receive side if the frame is complete, then the transmit block.
    fn block_finish(
        &mut self,
        now: SampleTime,
        off: usize,
        len: usize,
        tx: TxDest<'_>,
        peer: Option<&[i16]>,
    ) {
        self.rx_fill += len;
        let mut slot = self.rx.clean_slot();
        if self.rx_fill == FRAME_SAMPLES {
            self.rx_fill = 0;
            self.receive(self.rx_start);
            if off == 0 {
                slot = self.rx.clean_slot();
            }
            // Otherwise the peer still needs the end of the previous clean frame, which
            // stays in its slot.
        }
        self.published = (slot as u8, off as u8, len as u8);
        // A peer on whole frames hands a frame: this block mixes its matching part.
        let peer = peer.map(|p| {
            if p.len() == FRAME_SAMPLES && len < FRAME_SAMPLES {
                &p[off..off + len]
            } else {
                p
            }
        });
        self.transmit_part(now, off, tx, peer);
    }

    /// [`Pipeline::process_block`] on coded blocks as the board reads and writes them (the
    /// channel's [`Law`]): the block is `tx.len()` bytes (80 samples of A-law: 80 bytes;
    /// linear: twice that); a short `rx` is padded with silence. Returns how many bytes of
    /// `tx` were filled.
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn process_block_coded(
        &mut self,
        now: SampleTime,
        rx: &[u8],
        tx: &mut [u8],
        peer: Option<&[i16]>,
    ) -> usize {
        let bps = self.law.bytes_per_sample();
        let (off, len) = self.block_start(now, tx.len() / bps);
        // Decoded straight into the frame being collected.
        let acc = &mut self.rx.collecting()[off..off + len];
        let n = dsp::g711::decode_slice(self.law, rx, acc);
        acc[n..].fill(0);
        if self.listen_seq.is_some() {
            // Built in place where the listen tap keeps the frame's blocks, encoded from there.
            self.block_finish(now, off, len, TxDest::Acc(off, len), peer);
            dsp::g711::encode_slice(self.law, &self.tx_acc[off..off + len], tx)
        } else {
            // Nobody listens: built on the stack, whose lines are warm, instead of in this
            // channel's `tx_acc`, whose lines the other channels' blocks have evicted.
            let mut lin = [0; FRAME_SAMPLES];
            self.block_finish(now, off, len, TxDest::Caller(&mut lin[..len]), peer);
            dsp::g711::encode_slice(self.law, &lin[..len], tx)
        }
    }

    /// The clean received audio (DTMF clamped) this channel hands its user-space bridge peer
    /// for the peer's next transmit block, as long as the block of the last call.
    ///
    /// After [`Pipeline::process`] it is the frame just received ([`Pipeline::last_rx`]).
    /// After [`Pipeline::process_block`] it runs one frame behind, block by block: the
    /// blocks of frame N-1 are handed out while frame N comes in, because frame N is only
    /// complete (and clamped) at its last block. Each call hands out the next block of that
    /// stream, so the peer hears every sample once whatever order the loop serves the two
    /// channels in.
    pub fn bridge_audio(&self) -> &[i16] {
        let (slot, off, len) = self.published;
        let (off, len) = (usize::from(off), usize::from(len));
        &self.rx.slot(usize::from(slot))[off..off + len]
    }

    /// The transmit half of [`Pipeline::process`]: applies the commands queued since
    /// [`Pipeline::process_rx`], then fills `tx` with the frame to send for `now`.
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn process_tx(&mut self, now: SampleTime, tx: &mut Frame, peer: Option<&Frame>) {
        self.drain_commands(now);
        self.transmit(now, tx, peer);
    }

    /// [`Pipeline::process_rx`] on a coded frame (as [`Pipeline::process_coded`]).
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn process_rx_coded(&mut self, now: SampleTime, rx: &[u8]) {
        self.whole_frame_start(now);
        // Decoded straight into the frame's slot.
        crate::codec::decode(self.law, rx, self.rx.collecting());
        self.whole_frame_receive(now);
    }

    /// [`Pipeline::process_tx`] into a coded frame (as [`Pipeline::process_coded`]); returns
    /// how many bytes of `tx` were filled.
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn process_tx_coded(
        &mut self,
        now: SampleTime,
        tx: &mut [u8],
        peer: Option<&Frame>,
    ) -> usize {
        let mut tx_lin = [0; FRAME_SAMPLES];
        self.process_tx(now, &mut tx_lin, peer);
        crate::codec::encode(self.law, &tx_lin, tx)
    }

    /// The channel.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// How the board codes this channel's frames.
    pub fn law(&self) -> Law {
        self.law
    }

    /// Processes one frame received at `now` (the sample time of its first sample) and fills
    /// `tx` with the frame to send.
    ///
    /// `peer` is the bridged peer's last clean received frame ([`Pipeline::last_rx`]), if this
    /// channel is bridged in user space; the loop looks it up by [`Pipeline::peer`].
    ///
    /// # Real-time
    /// Does not allocate, lock or block. Commands queued since the last call take effect in
    /// this frame, so a prompt starts at most one frame after its `Play` command.
    pub fn process(&mut self, now: SampleTime, rx: &Frame, tx: &mut Frame, peer: Option<&Frame>) {
        self.process_rx(now, rx);
        self.transmit(now, tx, peer);
    }

    /// [`Pipeline::process`] on coded frames as the board reads and writes them (the
    /// channel's [`Law`]); `rx` and `tx` are `law.frame_bytes()` long. A short `rx` is padded
    /// with silence. Returns how many bytes of `tx` were filled.
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn process_coded(
        &mut self,
        now: SampleTime,
        rx: &[u8],
        tx: &mut [u8],
        peer: Option<&Frame>,
    ) -> usize {
        self.process_rx_coded(now, rx);
        let mut tx_lin = [0; FRAME_SAMPLES];
        self.transmit(now, &mut tx_lin, peer);
        crate::codec::encode(self.law, &tx_lin, tx)
    }

    /// The prompt table this channel plays from.
    pub fn prompt_table(&self) -> &'static PromptTable {
        self.prompts
    }

    /// The gains in force: (received, transmitted).
    pub fn gains(&self) -> (Gain, Gain) {
        (self.rx_gain, self.tx_gain)
    }

    /// The last received frame with DTMF clamped, for the bridged peer's transmit mix.
    pub fn last_rx(&self) -> &Frame {
        self.rx.clean()
    }

    /// The channel this one is bridged with in user space, if any.
    pub fn peer(&self) -> Option<ChannelId> {
        self.peer
    }

    /// Sets or clears the bridge peer without a command: the loop calls this on the other
    /// side of a [`LineControl::Bridge`], or with `None` when the board bridges in hardware.
    pub fn set_peer(&mut self, peer: Option<ChannelId>) {
        self.peer = peer;
    }

    /// Handles a signalling event the board reported at `now`: forwards it to the control
    /// side, and lets a digit from the board's own DTMF detector stop playback or recording.
    ///
    /// # Real-time
    /// Does not allocate, lock or block.
    pub fn on_line_event(&mut self, now: SampleTime, event: LineEvent) {
        self.emit(MediaEvent::Line { at: now, event });
        match event {
            LineEvent::DtmfDown(d) => self.on_digit(now, d),
            LineEvent::OnHook => self.finish_recording(None),
            // A station's ring burst ended: caller ID goes out in the silence after it.
            LineEvent::RingerOff => {
                if let Some(cid) = self.cid_pending.take() {
                    let sender = CallerIdSender::new(&cid, self.cid_modem, true, CID_LEVEL_DBM0);
                    self.cid_sending = Some(sender);
                    self.cid_at = Some(now + CID_DELAY_SAMPLES);
                }
            }
            // The station answered: too late for caller ID.
            LineEvent::RingOffHook => {
                self.cid_pending = None;
                self.cid_at = None;
                self.cid_sending = None;
            }
            _ => {}
        }
    }

    /// The next hook or bridge change the loop must carry out, if any.
    pub fn poll_line_control(&mut self) -> Option<LineControl> {
        self.line_control.pop()
    }

    /// Whether events were queued since the last call (the loop then wakes the control
    /// thread once for all channels).
    pub fn take_wake(&mut self) -> bool {
        core::mem::take(&mut self.wake)
    }

    /// Counts a frame the loop could not write to the board in time.
    pub fn count_tx_underrun(&self) {
        Counters::bump(&self.counters.tx_underruns, 1);
    }

    /// Whether the whole-call listen tap is on (a supervisor listens or the call is
    /// recorded). Such a call must not be bridged by the board: the tap would not hear the
    /// other party.
    pub fn is_listening(&self) -> bool {
        self.listen_seq.is_some()
    }

    /// Whether a prompt is playing or queued.
    pub fn is_playing(&self) -> bool {
        self.playing.is_some() || self.queue.len() > 0
    }

    fn drain_commands(&mut self, now: SampleTime) {
        while let Some(cmd) = self.commands.try_pop() {
            match cmd {
                Command::Media(m) => self.apply(now, m),
                Command::Listen(on) => self.listen_seq = if on { Some(0) } else { None },
                Command::TxGain(g) => self.tx_gain = g,
                Command::RxGain(g) => self.rx_gain = g,
                Command::Prompts(t) => {
                    self.stop_playback(None);
                    self.prompts = t;
                }
                Command::Line(l) => {
                    self.rx_gain = l.rx_gain;
                    self.tx_gain = l.tx_gain;
                    self.receivers
                        .set_line(l.progress_detection, l.caller_id_fsk);
                    if let Some(m) = l.caller_id_fsk {
                        self.cid_modem = m;
                    }
                }
            }
        }
    }

    fn apply(&mut self, now: SampleTime, cmd: MediaCommand) {
        match cmd {
            MediaCommand::Play { prompt, barge_in } => {
                // An unknown prompt or a full queue: refused, reported done at once.
                let known = self.prompts.samples(prompt).is_some();
                if !known || self.queue.push(Queued { prompt, barge_in }).is_err() {
                    self.refuse_prompt(prompt);
                }
            }
            MediaCommand::StopPlayback => self.stop_playback(None),
            MediaCommand::PlayTone { tone, duration_ms } => {
                self.tone_on = self
                    .tone
                    .start(tone, u64::from(duration_ms) * SAMPLES_PER_MS);
            }
            MediaCommand::StopTone => {
                self.tone.stop();
                self.tone_on = false;
            }
            MediaCommand::StartRecording {
                slot,
                max_ms,
                end_on_silence_ms,
                stop_keys,
            } => self.start_recording(now, slot, max_ms, end_on_silence_ms, stop_keys),
            MediaCommand::StopRecording => self.finish_recording(None),
            MediaCommand::Bridge(peer) => {
                if let Some(old) = self.peer.filter(|&p| p != peer) {
                    self.request(LineControl::Unbridge(old));
                }
                self.peer = Some(peer);
                self.request(LineControl::Bridge(peer));
            }
            MediaCommand::Unbridge => {
                if let Some(old) = self.peer.take() {
                    self.request(LineControl::Unbridge(old));
                }
            }
            MediaCommand::SetHook(hook) => {
                match hook {
                    Hook::OffHook => self.receivers.set_on_hook(false),
                    Hook::OnHook => self.receivers.set_on_hook(true),
                    _ => {}
                }
                self.request(LineControl::Hook(hook));
            }
            MediaCommand::SendCallerId(cid) => self.cid_pending = Some(cid),
            // Carried out by `ControlHandle::try_send`, which drops the digits still queued;
            // keys heard from now on are new.
            MediaCommand::FlushDigits => {}
            _ => Counters::bump(&self.counters.bad_commands, 1),
        }
    }

    fn refuse_prompt(&mut self, prompt: PromptId) {
        Counters::bump(&self.counters.bad_commands, 1);
        self.emit(MediaEvent::PlaybackDone {
            prompt,
            played_samples: 0,
            barged_in_by: None,
        });
    }

    fn request(&mut self, ctl: LineControl) {
        if self.line_control.push(ctl).is_err() {
            Counters::bump(&self.counters.line_control_dropped, 1);
        }
    }

    /// Queues an event for the control side. A full ring is never a panic: the event waits
    /// in its [`Held`] slot if it is one that matters, or is counted and reported later as
    /// [`MediaEvent::EventsLost`] (digits also in [`crate::Stats::digits_lost`]).
    fn emit(&mut self, ev: MediaEvent) {
        if !self.held.is_empty() {
            self.flush_held();
        }
        if self.held.is_empty() && self.events.try_push(ev).is_ok() {
            self.wake = true;
            return;
        }
        self.hold(ev);
    }

    /// Keeps `ev` in its slot, or counts it lost.
    fn hold(&mut self, ev: MediaEvent) {
        let h = &mut self.held;
        // Every way out of here keeps the event in a slot or counts it lost.
        h.any = true;
        h.seq = h.seq.wrapping_add(1);
        let seq = h.seq;
        let slot: Option<&mut Option<MediaEvent>> = match ev {
            MediaEvent::Line {
                event: LineEvent::Removed | LineEvent::Alarm | LineEvent::NoAlarm,
                ..
            } => {
                let removed = matches!(
                    h.fault,
                    Some(MediaEvent::Line {
                        event: LineEvent::Removed,
                        ..
                    })
                );
                if removed { None } else { Some(&mut h.fault) }
            }
            MediaEvent::Line {
                event: LineEvent::OnHook,
                ..
            } => {
                let replaced = h.on_hook.replace((seq, ev)).is_some();
                return self.count_held(replaced);
            }
            MediaEvent::Line {
                event: LineEvent::RingOffHook,
                ..
            } => {
                let replaced = h.off_hook.replace((seq, ev)).is_some();
                return self.count_held(replaced);
            }
            MediaEvent::Line {
                event: LineEvent::PolarityReversal,
                ..
            }
            | MediaEvent::Progress {
                tone: ProgressTone::Busy,
                ..
            } => {
                if h.hangup.is_some() {
                    // The first hang-up signal is the one that ends the call.
                    return self.count_lost(&ev);
                }
                Some(&mut h.hangup)
            }
            MediaEvent::PlaybackDone { .. } => Some(&mut h.playback),
            MediaEvent::RecordingDone { .. } => Some(&mut h.recording),
            _ => None,
        };
        match slot {
            Some(slot) => {
                let replaced = slot.replace(ev).is_some();
                self.count_held(replaced);
            }
            None => self.count_lost(&ev),
        }
    }

    fn count_held(&mut self, replaced: bool) {
        Counters::bump(&self.counters.held_events, 1);
        if replaced {
            // The older one of the kind is superseded (see `Held`): count it as lost.
            self.held.lost = self.held.lost.saturating_add(1);
            Counters::bump(&self.counters.events_lost, 1);
        }
    }

    fn count_lost(&mut self, ev: &MediaEvent) {
        self.held.lost = self.held.lost.saturating_add(1);
        Counters::bump(&self.counters.events_lost, 1);
        if matches!(
            ev,
            MediaEvent::Digit(_)
                | MediaEvent::Line {
                    event: LineEvent::DtmfDown(_) | LineEvent::DtmfUp(_) | LineEvent::PulseDigit(_),
                    ..
                }
        ) {
            Counters::bump(&self.counters.digits_lost, 1);
        }
    }

    /// Pushes what [`Pipeline::hold`] kept, in order: the count of events lost, a fault,
    /// the hook changes (in the order they last happened), a hang-up signal, then the
    /// playback and recording completions. Stops at the first that does not fit.
    fn flush_held(&mut self) {
        self.flush_held_slots();
        self.held.any = !self.held.slots_empty();
    }

    fn flush_held_slots(&mut self) {
        if self.held.lost > 0 {
            let lost = MediaEvent::EventsLost {
                count: self.held.lost,
            };
            if self.events.try_push(lost).is_err() {
                return;
            }
            self.held.lost = 0;
            self.wake = true;
        }
        let Self {
            held, events, wake, ..
        } = self;
        let mut push = |slot: &mut Option<MediaEvent>| -> bool {
            if let Some(ev) = *slot {
                if events.try_push(ev).is_err() {
                    return false;
                }
                *slot = None;
                *wake = true;
            }
            true
        };
        if !push(&mut held.fault) {
            return;
        }
        let on_first = match (held.on_hook, held.off_hook) {
            (Some((a, _)), Some((b, _))) => b.wrapping_sub(a) < u32::MAX / 2,
            _ => true,
        };
        let mut on = held.on_hook.map(|(_, e)| e);
        let mut off = held.off_hook.map(|(_, e)| e);
        let order: [&mut Option<MediaEvent>; 2] = if on_first {
            [&mut on, &mut off]
        } else {
            [&mut off, &mut on]
        };
        let mut ok = true;
        for slot in order {
            if ok && !push(slot) {
                ok = false;
            }
        }
        if on.is_none() {
            held.on_hook = None;
        }
        if off.is_none() {
            held.off_hook = None;
        }
        if !ok {
            return;
        }
        let _ = push(&mut held.hangup) && push(&mut held.playback) && push(&mut held.recording);
    }

    /// The receive side of the frame in the collecting slot, received at `now`: receive
    /// gain (in place), receivers, clamping, recording.
    fn receive(&mut self, now: SampleTime) {
        if !self.rx_gain.is_unity() {
            self.rx_gain.apply(self.rx.collecting());
        }
        self.receivers.process(now, self.rx.collected());
        self.detected();
        // Received audio with DTMF removed (delayed by [`crate::clamp::DELAY_FRAMES`] so a
        // key is muted from its first sample), or as received if clamping is off.
        self.rx.complete(now);
        self.record(now);
    }

    /// Acts on what the receivers found.
    fn detected(&mut self) {
        while let Some(det) = self.receivers.poll() {
            match det {
                Detected::Digit(ev) => {
                    self.rx.key_down(ev.start);
                    self.emit(MediaEvent::Digit(ev));
                    self.on_digit(ev.end, ev.digit);
                }
                Detected::DigitUp(ev) => self.rx.key_up(ev.end),
                Detected::Progress(at, tone) => self.emit(MediaEvent::Progress { at, tone }),
                Detected::CallerId(at, caller_id) => {
                    self.emit(MediaEvent::CallerId { at, caller_id });
                }
                Detected::Silence(at) => self.emit(MediaEvent::Silence { at }),
                Detected::Voice(at) => self.emit(MediaEvent::Voice { at }),
            }
        }
    }

    fn on_digit(&mut self, _now: SampleTime, digit: Digit) {
        if self.playing.is_some_and(|p| p.barge_in.contains(digit)) {
            self.stop_playback(Some(digit));
        }
        if self.recording.is_some_and(|r| r.stop_keys.contains(digit)) {
            self.finish_recording(Some(digit));
        }
    }

    /// Everything after the receive side: the transmit frame, the peer's audio, gain, the
    /// listen tap, the frame count.
    fn transmit(&mut self, now: SampleTime, tx: &mut Frame, peer: Option<&Frame>) {
        self.transmit_part(now, 0, TxDest::Caller(&mut tx[..]), peer.map(|p| &p[..]));
    }

    /// The transmit side of the samples `off..off + len` of a frame, built in `dest`: prompt,
    /// tones, caller ID, the peer's audio, gain; at the frame's end the listen tap and the
    /// frame count.
    fn transmit_part(
        &mut self,
        now: SampleTime,
        off: usize,
        mut dest: TxDest<'_>,
        peer: Option<&[i16]>,
    ) {
        self.fill_tx(now, &mut dest);
        let tx = tx_buf(&mut self.tx_acc, &mut dest);
        if let Some(peer_audio) = peer.filter(|_| self.peer.is_some()) {
            mix_into(tx, peer_audio);
        }
        self.tx_gain.apply(tx);
        let end = off + tx.len();
        match dest {
            TxDest::Caller(tx) if off == 0 && end == FRAME_SAMPLES => self.listen(tx),
            _ => {
                // The listen tap gets whole frames as sent: the blocks are kept in `tx_acc`
                // (`TxDest::Acc` was built there) while a listener is on. One switched on
                // mid-frame hears from the next frame on.
                if off == 0 {
                    self.tx_acc_whole = self.listen_seq.is_some();
                }
                if let TxDest::Caller(tx) = dest {
                    if self.tx_acc_whole {
                        self.tx_acc[off..end].copy_from_slice(tx);
                    }
                }
                if end < FRAME_SAMPLES {
                    return;
                }
                if self.tx_acc_whole && self.listen_seq.is_some() {
                    let whole = self.tx_acc;
                    self.listen(&whole);
                }
            }
        }
        // Only this thread writes `frames`: a plain load and store, not a locked
        // read-modify-write, which would drain the store buffer on every frame.
        let frames = &self.counters.frames;
        frames.store(frames.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn fill_tx(&mut self, now: SampleTime, dest: &mut TxDest<'_>) {
        let want = tx_buf(&mut self.tx_acc, dest).len();
        let mut filled = 0;
        while filled < want {
            if self.playing.is_none() {
                let Some(next) = self.queue.pop() else { break };
                let samples = self.prompts.samples(next.prompt).unwrap_or(&[]);
                self.playing = Some(Playing {
                    prompt: next.prompt,
                    barge_in: next.barge_in,
                    samples,
                    pos: 0,
                });
            }
            let Some(p) = &mut self.playing else { break };
            let n = (p.samples.len() - p.pos).min(want - filled);
            tx_buf(&mut self.tx_acc, dest)[filled..filled + n]
                .copy_from_slice(&p.samples[p.pos..p.pos + n]);
            p.pos += n;
            filled += n;
            if p.pos == p.samples.len() {
                let done = MediaEvent::PlaybackDone {
                    prompt: p.prompt,
                    played_samples: p.pos as u32,
                    barged_in_by: None,
                };
                self.playing = None;
                self.emit(done);
            }
        }
        // Nothing (more) to play: silence, never stale audio.
        let tx = tx_buf(&mut self.tx_acc, dest);
        tx[filled..].fill(0);
        debug_assert_eq!(self.tone_on, self.tone.is_active());
        if self.tone_on {
            self.tone_on = self.tone.mix_into(now, tx);
        }
        if self.cid_at.is_some_and(|start| now >= start) {
            if let Some(sender) = &mut self.cid_sending {
                let mut fsk = [0i16; FRAME_SAMPLES];
                let fsk = &mut fsk[..want];
                sender.fill(fsk);
                mix_into(tx, fsk);
                if sender.is_done() {
                    self.cid_sending = None;
                    self.cid_at = None;
                }
            }
        }
    }

    fn stop_playback(&mut self, by: Option<Digit>) {
        if let Some(p) = self.playing.take() {
            self.emit(MediaEvent::PlaybackDone {
                prompt: p.prompt,
                played_samples: p.pos as u32,
                barged_in_by: by,
            });
        }
        while let Some(q) = self.queue.pop() {
            self.emit(MediaEvent::PlaybackDone {
                prompt: q.prompt,
                played_samples: 0,
                barged_in_by: by,
            });
        }
    }

    fn start_recording(
        &mut self,
        now: SampleTime,
        slot: RecordingId,
        max_ms: u32,
        silence_ms: u32,
        keys: DigitSet,
    ) {
        self.finish_recording(None);
        if self.record_tap.is_none() {
            Counters::bump(&self.counters.bad_commands, 1);
            self.emit(MediaEvent::RecordingDone {
                slot,
                samples: 0,
                stopped_by: None,
            });
            return;
        }
        self.recording = Some(Recording {
            slot,
            seq: 0,
            samples: 0,
            max_samples: u64::from(max_ms) * SAMPLES_PER_MS,
            silence_limit: u64::from(silence_ms) * SAMPLES_PER_MS,
            started_at: now,
            stop_keys: keys,
        });
    }

    fn record(&mut self, now: SampleTime) {
        self.flush_pending_end();
        let Some(rec) = &mut self.recording else {
            return;
        };
        let Some(tap) = &mut self.record_tap else {
            return;
        };
        let room = if rec.max_samples == 0 {
            FRAME_SAMPLES
        } else {
            (rec.max_samples - u64::from(rec.samples)).min(FRAME_SAMPLES as u64) as usize
        };
        let mut frame = TapFrame {
            channel: self.id,
            slot: rec.slot,
            seq: rec.seq,
            first: rec.seq == 0,
            last: false,
            len: room as u16,
            samples: *self.rx.clean(),
        };
        frame.samples[room..].fill(0);
        if tap.prod.try_push(frame).is_err() {
            Counters::bump(&self.counters.record_frames_dropped, 1);
        }
        rec.seq += 1;
        rec.samples += room as u32;
        let full = rec.max_samples != 0 && u64::from(rec.samples) >= rec.max_samples;
        // Silence counts from when it began, or from the start of the recording.
        let frame_end = now + FRAME_SAMPLES as u64;
        let quiet = rec.silence_limit != 0
            && self.receivers.silence_since().is_some_and(|since| {
                frame_end.saturating_since(since.max(rec.started_at)) >= rec.silence_limit
            });
        if full || quiet {
            self.finish_recording(None);
        }
    }

    fn finish_recording(&mut self, by: Option<Digit>) {
        let Some(rec) = self.recording.take() else {
            return;
        };
        self.pending_end = Some(PendingEnd {
            slot: rec.slot,
            seq: rec.seq,
        });
        self.flush_pending_end();
        self.emit(MediaEvent::RecordingDone {
            slot: rec.slot,
            samples: rec.samples,
            stopped_by: by,
        });
    }

    /// Pushes the end-of-recording marker, retrying every frame until the writer makes room.
    fn flush_pending_end(&mut self) {
        let (Some(end), Some(tap)) = (self.pending_end, &mut self.record_tap) else {
            return;
        };
        let frame = TapFrame {
            channel: self.id,
            slot: end.slot,
            seq: end.seq,
            first: end.seq == 0,
            last: true,
            len: 0,
            samples: [0; FRAME_SAMPLES],
        };
        if tap.prod.try_push(frame).is_ok() {
            self.pending_end = None;
        }
    }

    fn listen(&mut self, tx: &[i16]) {
        let (Some(seq), Some(tap)) = (self.listen_seq, &mut self.listen_tap) else {
            return;
        };
        let mut frame = TapFrame {
            channel: self.id,
            slot: RecordingId(0),
            seq,
            first: seq == 0,
            last: false,
            len: FRAME_SAMPLES as u16,
            samples: *self.rx.clean(),
        };
        mix_into(&mut frame.samples, tx);
        if tap.prod.try_push(frame).is_err() {
            Counters::bump(&self.counters.listen_frames_dropped, 1);
        }
        self.listen_seq = Some(seq.wrapping_add(1));
    }
}

impl core::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pipeline")
            .field("id", &self.id)
            .field("law", &self.law)
            .field("playing", &self.playing.map(|p| (p.prompt, p.pos)))
            .field("queued", &self.queue.len())
            .field("recording", &self.recording.map(|r| r.slot))
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}
