//! The simulated card: ports, their far ends (the exchange and callers, or agents' phones),
//! the master clock, and the channels handed to the board's user.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use tel_types::board::{PortKind, ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{CallerId, FRAME_MS, FRAME_SAMPLES, Hook, Law, LineEvent, SampleTime, Tone};

use crate::audio::{
    Codec, NoiseTable, coded_noise_at, db_gain, noise_rms, render_caller_id, render_zone_tone,
    to_pcm,
};
use crate::hearing::{Hearing, NoteKind};
use crate::load::LoadGenerator;
use crate::persona::{Action, Persona, Running};
use crate::profile::{CallerIdStandard, CallerIdTiming, LineParams, PortType, Profile};

/// Frames of receive and transmit buffering per channel (DAHDI's `bufs`): 160 ms each way,
/// whatever the channel's block.
pub const BUFFER_FRAMES: usize = 8;
/// Samples in the short block a channel may be switched to ([`SimChannel::set_io_block`]):
/// 10 ms, half a frame, as DAHDI with `DAHDI_SET_BLOCKSIZE 80`.
const HALF_BLOCK: usize = FRAME_SAMPLES / 2;
/// Signalling events a channel holds before the board drops new ones.
pub const EVENT_QUEUE: usize = 64;
const MAX_FRAME_BYTES: usize = 320;
const ECHO_LEN: usize = 1024;
/// Samples an idle station's phone remembers (4 s), for caller ID sent before the ring.
const IDLE_AUDIO: usize = 32_000;

/// A channel of the simulated card, as the board's user (the daemon's audio thread) sees it.
///
/// It talks to the board only through lock-free single-producer rings, so it can live on
/// another thread than the board. No method allocates, locks or blocks.
pub struct SimChannel {
    number: u16,
    kind: PortKind,
    law: Law,
    rx: HeapCons<u8>,
    tx: HeapProd<u8>,
    events: HeapCons<LineEvent>,
    commands: HeapProd<Hook>,
    off_hook: bool,
    /// Samples per read and write on this side.
    block: usize,
    /// The block the board's side of the port should run, read by the board at the start
    /// of each frame.
    block_to_board: Arc<AtomicUsize>,
}

/// Why a simulated channel refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// The hook command does not apply to this kind of port (e.g. `Ring` on a trunk).
    HookNotSupported {
        /// The channel.
        channel: u16,
        /// The command.
        hook: Hook,
    },
    /// A flash while on-hook.
    FlashWhileOnHook {
        /// The channel.
        channel: u16,
    },
    /// The buffer is not one block (a frame, or 80 samples on a 10 ms channel) in the
    /// channel's law.
    BadFrameLength {
        /// The channel.
        channel: u16,
        /// Bytes given.
        got: usize,
        /// Bytes of one block.
        want: usize,
    },
    /// Too many hook commands are waiting for the board's next tick.
    CommandQueueFull {
        /// The channel.
        channel: u16,
    },
    /// An I/O block the simulated card does not run: it runs 160 samples (20 ms) and 80
    /// (10 ms).
    BlockNotSupported {
        /// The channel.
        channel: u16,
        /// Samples asked for.
        samples: usize,
    },
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HookNotSupported { channel, hook } => {
                write!(
                    f,
                    "channel {channel}: {hook:?} does not apply to this kind of port"
                )
            }
            Self::FlashWhileOnHook { channel } => {
                write!(f, "channel {channel}: cannot flash while on-hook")
            }
            Self::BadFrameLength { channel, got, want } => write!(
                f,
                "channel {channel}: block of {got} bytes, the channel's law and block need {want}"
            ),
            Self::CommandQueueFull { channel } => {
                write!(
                    f,
                    "channel {channel}: hook commands are coming faster than the board ticks"
                )
            }
            Self::BlockNotSupported { channel, samples } => write!(
                f,
                "channel {channel}: blocks of {samples} samples; the simulated card runs 160 (20 ms) or 80 (10 ms)"
            ),
        }
    }
}

impl std::error::Error for SimError {}

impl std::fmt::Debug for SimChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimChannel")
            .field("number", &self.number)
            .field("kind", &self.kind)
            .field("law", &self.law)
            .field("block", &self.block)
            .field("rx_bytes", &self.rx.occupied_len())
            .field("events", &self.events.occupied_len())
            .finish()
    }
}

impl std::fmt::Debug for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Port")
            .field("number", &self.number)
            .field("kind", &self.kind)
            .field("state", &self.state)
            .field("off_hook", &self.off_hook)
            .field("half", &self.half)
            .finish_non_exhaustive()
    }
}

impl VoiceChannel for SimChannel {
    type Error = SimError;

    fn number(&self) -> u16 {
        self.number
    }

    fn port_kind(&self) -> PortKind {
        self.kind
    }

    fn law(&self) -> Law {
        self.law
    }

    fn block_samples(&self) -> usize {
        self.block
    }

    fn read_frame(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, SimError> {
        if !self.events.is_empty() {
            return Ok(ReadOutcome::EventPending);
        }
        let want = self.block * self.law.bytes_per_sample();
        if buf.len() < want {
            return Err(SimError::BadFrameLength {
                channel: self.number,
                got: buf.len(),
                want,
            });
        }
        if self.rx.occupied_len() < want {
            return Ok(ReadOutcome::WouldBlock);
        }
        let n = self.rx.pop_slice(&mut buf[..want]);
        Ok(ReadOutcome::Data(n))
    }

    fn write_frame(&mut self, buf: &[u8]) -> Result<WriteOutcome, SimError> {
        if !self.events.is_empty() {
            return Ok(WriteOutcome::EventPending);
        }
        let want = self.block * self.law.bytes_per_sample();
        if buf.len() != want {
            return Err(SimError::BadFrameLength {
                channel: self.number,
                got: buf.len(),
                want,
            });
        }
        if self.tx.vacant_len() < want {
            return Ok(WriteOutcome::WouldBlock);
        }
        Ok(WriteOutcome::Written(self.tx.push_slice(buf)))
    }

    fn next_event(&mut self) -> Result<Option<LineEvent>, SimError> {
        Ok(self.events.try_pop())
    }

    fn set_hook(&mut self, hook: Hook) -> Result<(), SimError> {
        let channel = self.number;
        let ok = match (self.kind, hook) {
            (PortKind::FxsStation, Hook::Ring | Hook::RingOff | Hook::OnHook | Hook::OffHook) => {
                true
            }
            (PortKind::FxsStation, _) => false,
            (_, Hook::Ring | Hook::RingOff) => false,
            _ => true,
        };
        if !ok {
            return Err(SimError::HookNotSupported { channel, hook });
        }
        if hook == Hook::Flash && !self.off_hook {
            return Err(SimError::FlashWhileOnHook { channel });
        }
        self.commands
            .try_push(hook)
            .map_err(|_| SimError::CommandQueueFull { channel })?;
        match hook {
            Hook::OffHook => self.off_hook = true,
            Hook::OnHook => self.off_hook = false,
            _ => {}
        }
        Ok(())
    }
}

impl SimChannel {
    /// Sets the I/O block, as DAHDI's `Channel::set_io_block`: `samples` per read and
    /// write, 160 (20 ms, the default) or 80 (10 ms, as `DAHDI_SET_BLOCKSIZE 80`). The
    /// buffering stays [`BUFFER_FRAMES`] frames each way (16 blocks of 80).
    ///
    /// On 80-sample blocks the board hands out one block per 10 ms of board time: each
    /// 20 ms frame of line audio as two blocks, the first 10 ms before the second; and it
    /// takes one written block every 10 ms, so what is written reaches the far end in order
    /// with no gap or repeat, a block after the one before. The line (the exchange, the
    /// caller, the agent's phone) is still modelled in 20 ms frames: a received frame's
    /// first block is ready at the frame's end and its second 10 ms later, and hook
    /// commands and line events still fall on frame boundaries.
    ///
    /// This side reads and writes the new block at once; the board's side of the port
    /// follows from the next frame it starts (from the first frame if the channel is set
    /// before the board runs). The audio stays one stream in order across the switch. Set
    /// it before use; the call never allocates, locks or blocks.
    ///
    /// # Errors
    /// [`SimError::BlockNotSupported`] for any other size (the block is unchanged).
    ///
    /// ```
    /// use simboard::{Profile, SimBoard};
    /// use tel_types::board::{ReadOutcome, VoiceChannel};
    ///
    /// let profile = Profile::parse(r#"
    ///     [board]
    ///     name = "one line"
    ///     zone = "cn"
    ///     [[cards]]
    ///     model = "demo"
    ///     ports = [{ kind = "fxo-trunk", count = 1 }]
    /// "#, "inline.toml").unwrap();
    /// let mut board = SimBoard::from_profile(profile);
    /// let mut ch = board.take_channel(1).unwrap();
    /// ch.set_io_block(80).unwrap();
    /// assert_eq!(ch.block_samples(), 80);
    /// let mut buf = [0u8; 80];
    /// board.advance_ms(20);                       // the first frame of line audio ends
    /// assert_eq!(ch.read_frame(&mut buf).unwrap(), ReadOutcome::Data(80));
    /// assert_eq!(ch.read_frame(&mut buf).unwrap(), ReadOutcome::WouldBlock);
    /// board.advance_ms(10);                       // its second half, 10 ms later
    /// assert_eq!(ch.read_frame(&mut buf).unwrap(), ReadOutcome::Data(80));
    /// assert!(ch.set_io_block(40).is_err());
    /// ```
    pub fn set_io_block(&mut self, samples: usize) -> Result<(), SimError> {
        if samples != FRAME_SAMPLES && samples != HALF_BLOCK {
            return Err(SimError::BlockNotSupported {
                channel: self.number,
                samples,
            });
        }
        self.block = samples;
        self.block_to_board.store(samples, Ordering::Relaxed);
        Ok(())
    }
}

/// Why two ports could not be wired together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// No port has that channel number.
    UnknownChannel,
    /// The first port must be a station, the second a trunk (FXO or E1).
    WrongKinds,
    /// A port is already wired or has a call.
    Busy,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UnknownChannel => "no port has that channel number",
            Self::WrongKinds => "wire a station port to a trunk port",
            Self::Busy => "a port is already wired or has a call",
        })
    }
}

impl std::error::Error for WireError {}

/// How a call ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Still going.
    InProgress,
    /// The caller gave up while it rang.
    Abandoned,
    /// The far end (caller or agent) hung up first.
    FarEndHungUp,
    /// The board's user hung up first.
    ReleasedByUs,
    /// No trunk was free (load generator only).
    Blocked,
    /// The line went into alarm (span down, cable cut) during the call.
    LineDown,
}

/// Everything known about one simulated call.
#[derive(Debug)]
pub struct CallRecord {
    /// A board-wide call number, from 1.
    pub id: u64,
    /// The channel.
    pub channel: u16,
    /// The persona's name.
    pub persona: String,
    /// The caller ID the exchange sent (trunks).
    pub caller_id: Option<CallerId>,
    /// When the call arrived (ms of board time).
    pub arrived_ms: u64,
    /// When it was answered.
    pub answered_ms: Option<u64>,
    /// When it ended.
    pub ended_ms: Option<u64>,
    /// How it ended.
    pub outcome: Outcome,
    /// Keys the persona pressed, in order.
    pub keys_sent: String,
    /// Each key pressed: digit, start ms, tone length ms.
    pub key_log: Vec<(tel_types::Digit, u64, u32)>,
    /// What the persona heard and did.
    pub hearing: Hearing,
}

/// An inbound call to offer on a trunk.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// The caller.
    pub persona: Arc<Persona>,
    /// The caller ID to send (sent only if the profile has a caller-ID standard).
    pub caller_id: CallerId,
    /// Hang up this long after answer even if the script has not ended (the hold time).
    pub hold_ms: Option<u32>,
    /// Give up if not answered within this many ms (`None`: the persona's own patience).
    pub give_up_ms: Option<u32>,
    /// Seed for the persona's random manner.
    pub seed: u64,
}

#[derive(Debug)]
struct Call {
    record: CallRecord,
    run: Running,
    hold_ms: Option<u32>,
    give_up_ms: Option<u32>,
}

#[derive(Debug)]
enum LineState {
    Idle,
    /// Trunk: the exchange rings us.
    Incoming {
        call: Box<Call>,
        first_ring_ms: u64,
        cid: Vec<i16>,
        cid_at_ms: u64,
        cid_pos: usize,
    },
    /// Trunk: we answered; or station: the agent is off-hook.
    Connected {
        call: Box<Call>,
        released_at: Option<u64>,
    },
    /// Trunk: the far end hung up; the exchange sends busy tone.
    FarEndGone {
        pos: usize,
    },
    /// Trunk: we seized an idle line; the exchange gives dial tone.
    Seized {
        pos: usize,
    },
    /// Station: we ring the phone.
    Ringing {
        since_ms: u64,
        call: Box<Call>,
    },
}

struct Port {
    number: u16,
    kind: PortType,
    line: LineParams,
    rx: RxOut,
    tx: HeapCons<u8>,
    /// The block the channel's user asked for ([`SimChannel::set_io_block`]).
    block: Arc<AtomicUsize>,
    /// This frame runs 80-sample blocks: half the transmit frame is taken at its middle,
    /// and the receive frame is handed out in two halves 10 ms apart.
    half: bool,
    ev: EventOut,
    commands: HeapCons<Hook>,
    off_hook: bool,
    state: LineState,
    peer: Option<usize>,
    wired_ring_since: Option<u64>,
    alarm: bool,
    last_tx: [i16; FRAME_SAMPLES],
    idle_audio: Option<Box<[i16]>>,
    idle_pos: usize,
    agent: Option<Arc<Persona>>,
    gain: f32,
    echo_gain: f32,
    echo_delay: usize,
    echo: Box<[i16; ECHO_LEN]>,
    echo_pos: usize,
    noise_rms: f32,
    noise_pos: usize,
    /// An analog line's noise alone, coded ([`NoiseTable::coded`]): what it carries while
    /// idle and on-hook, copied rather than computed frame by frame.
    quiet: Option<Arc<[u8]>>,
    tx_underruns: u64,
}

/// A port's receive side: the ring to the channel, and on 80-sample blocks the second
/// half of the last frame, held back until the frame's middle.
struct RxOut {
    q: HeapProd<u8>,
    hold: [u8; MAX_FRAME_BYTES / 2],
    held: usize,
    overruns: u64,
}

impl RxOut {
    /// Hands a frame of line audio to the channel: all of it now, or (`half`) its first
    /// half now and the second at [`RxOut::flush`]. A block that does not fit is dropped
    /// and counted.
    fn push(&mut self, frame: &[u8], half: bool) {
        if half {
            let h = frame.len() / 2;
            self.put(&frame[..h]);
            self.hold[..h].copy_from_slice(&frame[h..]);
            self.held = h;
        } else {
            self.put(frame);
        }
    }

    /// Hands out the held half frame, if any.
    fn flush(&mut self) {
        if self.held > 0 {
            let h = std::mem::take(&mut self.held);
            if self.q.vacant_len() >= h {
                self.q.push_slice(&self.hold[..h]);
            } else {
                self.overruns += 1;
            }
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        if self.q.vacant_len() >= bytes.len() {
            self.q.push_slice(bytes);
        } else {
            self.overruns += 1;
        }
    }
}

/// Counters over the whole board.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardStats {
    /// Calls offered to trunks.
    pub offered: u64,
    /// Calls offered when no trunk was free.
    pub blocked: u64,
    /// Calls answered.
    pub answered: u64,
    /// Calls abandoned while ringing.
    pub abandoned: u64,
    /// Frames the board produced for its user.
    pub frames: u64,
    /// Blocks (frames, or 10 ms halves on 80-sample channels) dropped because a channel's
    /// receive buffer was full.
    pub rx_overruns: u64,
    /// Blocks (frames, or 10 ms halves on 80-sample channels) the user did not write in
    /// time while off-hook (silence was sent).
    pub tx_underruns: u64,
}

/// Options of a board beyond its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardOptions {
    /// Keep what every persona heard (the transmit audio) for assertions. Costs 16 kB per
    /// second of call; turn it off for load runs.
    pub capture_audio: bool,
    /// Seed for everything random on the board (noise phases, personas' manners).
    pub seed: u64,
}

impl Default for BoardOptions {
    fn default() -> Self {
        Self {
            capture_audio: true,
            seed: 1,
        }
    }
}

/// The simulated voice card.
///
/// The board is driven by its clock: [`SimBoard::advance_ms`] in virtual time, or
/// [`crate::RealTimeClock`] in real time. Every 20 ms of board time each port produces one
/// receive frame and consumes one transmit frame (on a channel set to 80-sample blocks,
/// [`SimChannel::set_io_block`]: one block each way every 10 ms). Hook commands take
/// effect at the next frame boundary.
///
/// The board side (this type) allocates when a call starts and, with audio capture on, as
/// it records; its per-frame work does not otherwise allocate.
#[derive(Debug)]
pub struct SimBoard {
    profile: Profile,
    options: BoardOptions,
    codec: Codec,
    noise: NoiseTable,
    busy: Arc<[i16]>,
    dial: Arc<[i16]>,
    now_ms: u64,
    ports: Vec<Port>,
    channels: Vec<Option<SimChannel>>,
    finished: Vec<CallRecord>,
    next_call_id: u64,
    stats: BoardStats,
    load: Option<LoadGenerator>,
    tx_pcm: [i16; FRAME_SAMPLES],
    rx_f: [f32; FRAME_SAMPLES],
    rx_pcm: [i16; FRAME_SAMPLES],
    frame: [u8; MAX_FRAME_BYTES],
    /// A frame of silence, encoded in the board's law (what an idle digital line carries).
    silence: [u8; MAX_FRAME_BYTES],
    /// The frame (its start, ms) whose ports' blocks were last read from their channels.
    blocks_for: Option<u64>,
    /// Some port runs 80-sample blocks or holds half a frame: the board ticks at the
    /// middle of each frame too.
    mid_ticks: bool,
}

impl SimBoard {
    /// A board built from `profile`, with default options.
    pub fn from_profile(profile: Profile) -> Self {
        Self::with_options(profile, BoardOptions::default())
    }

    /// A board built from `profile` with `options`.
    pub fn with_options(profile: Profile, options: BoardOptions) -> Self {
        let law = profile.law;
        let fb = law.frame_bytes();
        let codec = Codec::new(law);
        let noise = NoiseTable::new();
        // Coded noise per level, shared by the analog lines with that level.
        let mut quiet: Vec<(u32, Arc<[u8]>)> = Vec::new();
        let mut ports = Vec::new();
        let mut channels = Vec::new();
        for (i, (number, kind, line)) in profile.ports().enumerate() {
            let (rx_p, rx_c) = HeapRb::<u8>::new(fb * BUFFER_FRAMES).split();
            let (tx_p, tx_c) = HeapRb::<u8>::new(fb * BUFFER_FRAMES).split();
            let (ev_p, ev_c) = HeapRb::<LineEvent>::new(EVENT_QUEUE).split();
            let (cmd_p, cmd_c) = HeapRb::<Hook>::new(16).split();
            let block = Arc::new(AtomicUsize::new(FRAME_SAMPLES));
            channels.push(Some(SimChannel {
                number,
                kind: kind.port_kind(),
                law,
                rx: rx_c,
                tx: tx_p,
                events: ev_c,
                commands: cmd_p,
                off_hook: false,
                block: FRAME_SAMPLES,
                block_to_board: Arc::clone(&block),
            }));
            ports.push(Port {
                number,
                kind,
                line,
                rx: RxOut {
                    q: rx_p,
                    hold: [0; MAX_FRAME_BYTES / 2],
                    held: 0,
                    overruns: 0,
                },
                tx: tx_c,
                block,
                half: false,
                ev: EventOut { q: ev_p, lost: 0 },
                commands: cmd_c,
                off_hook: false,
                state: LineState::Idle,
                peer: None,
                wired_ring_since: None,
                alarm: false,
                last_tx: [0; FRAME_SAMPLES],
                idle_audio: (kind == PortType::FxsStation && options.capture_audio)
                    .then(|| vec![0i16; IDLE_AUDIO].into_boxed_slice()),
                idle_pos: 0,
                agent: (kind == PortType::FxsStation)
                    .then(|| Arc::new(Persona::new("agent", Vec::new()))),
                gain: db_gain(line.gain_db),
                echo_gain: db_gain(-line.echo_return_loss_db),
                echo_delay: (line.echo_delay_ms as usize * 8).min(ECHO_LEN - FRAME_SAMPLES),
                echo: Box::new([0; ECHO_LEN]),
                echo_pos: 0,
                noise_rms: noise_rms(line.noise_dbm0),
                quiet: {
                    let rms = noise_rms(line.noise_dbm0);
                    (kind != PortType::E1Bchannel && rms > 0.5).then(|| {
                        if let Some((_, q)) = quiet.iter().find(|(b, _)| *b == rms.to_bits()) {
                            Arc::clone(q)
                        } else {
                            let q = noise.coded(rms, &codec);
                            quiet.push((rms.to_bits(), Arc::clone(&q)));
                            q
                        }
                    })
                },
                noise_pos: (options.seed as usize)
                    .wrapping_mul(31)
                    .wrapping_add(i * 977)
                    % 8192,
                tx_underruns: 0,
            });
        }
        Self {
            codec,
            noise,
            busy: render_zone_tone(profile.zone, Tone::Busy),
            dial: render_zone_tone(profile.zone, Tone::Dial),
            profile,
            options,
            now_ms: 0,
            ports,
            channels,
            finished: Vec::new(),
            next_call_id: 1,
            stats: BoardStats::default(),
            load: None,
            tx_pcm: [0; FRAME_SAMPLES],
            rx_f: [0.0; FRAME_SAMPLES],
            rx_pcm: [0; FRAME_SAMPLES],
            frame: [0; MAX_FRAME_BYTES],
            silence: {
                let mut f = [0; MAX_FRAME_BYTES];
                Codec::new(law).encode(&[0; FRAME_SAMPLES], &mut f[..law.frame_bytes()]);
                f
            },
            blocks_for: None,
            mid_ticks: false,
        }
    }

    /// The profile the board was built from.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Board time in ms since start.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Board time as the channels' sample clock.
    pub fn now(&self) -> SampleTime {
        SampleTime::from_millis(self.now_ms)
    }

    /// The channel numbers of every port, in order.
    pub fn channel_numbers(&self) -> impl Iterator<Item = (u16, PortType)> + '_ {
        self.ports.iter().map(|p| (p.number, p.kind))
    }

    /// Takes the user's end of channel `number` (once; `None` if unknown or already taken).
    pub fn take_channel(&mut self, number: u16) -> Option<SimChannel> {
        let i = self.index(number)?;
        self.channels[i].take()
    }

    /// Takes every channel not yet taken, in order.
    pub fn take_all_channels(&mut self) -> Vec<SimChannel> {
        self.channels.iter_mut().filter_map(Option::take).collect()
    }

    fn index(&self, number: u16) -> Option<usize> {
        let i = usize::from(number.checked_sub(self.profile.first_channel)?);
        (i < self.ports.len()).then_some(i)
    }

    /// Sets the agent who answers the phone on station `number` (replacing the default, who
    /// answers after 3 s and listens).
    pub fn set_agent(&mut self, number: u16, agent: Arc<Persona>) -> bool {
        match self.index(number) {
            Some(i) if self.ports[i].kind == PortType::FxsStation => {
                self.ports[i].agent = Some(agent);
                true
            }
            _ => false,
        }
    }

    /// Attaches a load generator: its calls are offered to free trunks as board time passes.
    pub fn set_load(&mut self, load: LoadGenerator) {
        self.load = Some(load);
    }

    /// The attached load generator, e.g. to change its persona mix as the day goes on.
    pub fn load_mut(&mut self) -> Option<&mut LoadGenerator> {
        self.load.as_mut()
    }

    /// Offers an inbound call on trunk `number` now. Returns the call id, or `None` if the
    /// port is not a trunk or is not idle and on-hook (then the call is counted as blocked).
    pub fn offer_call(&mut self, number: u16, spec: CallSpec) -> Option<u64> {
        let i = self.index(number)?;
        self.offer_on(i, spec)
    }

    /// Offers a call on the lowest-numbered free trunk; `None` if all are busy (blocked).
    pub fn offer_call_any(&mut self, spec: CallSpec) -> Option<u64> {
        let free = self.ports.iter().position(|p| {
            p.kind.is_trunk()
                && p.peer.is_none()
                && !p.alarm
                && !p.off_hook
                && matches!(p.state, LineState::Idle)
        });
        match free {
            Some(i) => self.offer_on(i, spec),
            None => {
                self.stats.offered += 1;
                self.stats.blocked += 1;
                let id = self.next_call_id;
                self.next_call_id += 1;
                let mut record = self.new_record(id, 0, &spec);
                record.outcome = Outcome::Blocked;
                record.ended_ms = Some(self.now_ms);
                self.finished.push(record);
                None
            }
        }
    }

    /// The caller ID sent on channel `channel` (0: no channel, the board's).
    fn caller_id_params(&self, channel: u16) -> crate::profile::CallerIdParams {
        if channel == 0 {
            self.profile.caller_id
        } else {
            self.profile.caller_id_of(channel)
        }
    }

    fn new_record(&self, id: u64, channel: u16, spec: &CallSpec) -> CallRecord {
        CallRecord {
            id,
            channel,
            persona: spec.persona.name.clone(),
            caller_id: (self.caller_id_params(channel).standard != CallerIdStandard::None)
                .then_some(spec.caller_id),
            arrived_ms: self.now_ms,
            answered_ms: None,
            ended_ms: None,
            outcome: Outcome::InProgress,
            keys_sent: String::new(),
            key_log: Vec::new(),
            hearing: Hearing::new(self.profile.zone, self.options.capture_audio),
        }
    }

    fn offer_on(&mut self, i: usize, spec: CallSpec) -> Option<u64> {
        self.stats.offered += 1;
        let p = &self.ports[i];
        if !p.kind.is_trunk()
            || p.peer.is_some()
            || p.alarm
            || p.off_hook
            || !matches!(p.state, LineState::Idle)
        {
            self.stats.blocked += 1;
            return None;
        }
        let id = self.next_call_id;
        self.next_call_id += 1;
        let record = self.new_record(id, p.number, &spec);
        let cid_params = self.caller_id_params(p.number);
        let cid = render_caller_id(cid_params.standard, self.profile.zone, &spec.caller_id);
        // Calls start on a frame boundary.
        let t0 = align_up(self.now_ms);
        let (cid_at_ms, first_ring_ms) = match cid_params.timing {
            _ if cid.is_empty() => (u64::MAX, t0),
            CallerIdTiming::BeforeFirstRing => {
                let len_ms = cid.len() as u64 / 8;
                (t0, align_up(t0 + len_ms + u64::from(cid_params.delay_ms)))
            }
            CallerIdTiming::AfterFirstRing => {
                let cad = &self.profile.ring_cadence_ms;
                let first_on: u64 = cad[..cad.len() - 1].iter().map(|&x| u64::from(x)).sum();
                (t0 + first_on + u64::from(cid_params.delay_ms), t0)
            }
        };
        let call = Box::new(Call {
            record,
            run: Running::new(spec.persona, spec.seed),
            hold_ms: spec.hold_ms,
            give_up_ms: spec.give_up_ms,
        });
        self.ports[i].state = LineState::Incoming {
            call,
            first_ring_ms,
            cid,
            cid_at_ms,
            cid_pos: 0,
        };
        Some(id)
    }

    /// Makes the agent on station `number` lift the handset and run `persona` (e.g. to dial).
    /// Returns the call id, or `None` if the station is not idle (or is wired to a trunk).
    pub fn lift_handset(&mut self, number: u16, persona: Arc<Persona>, seed: u64) -> Option<u64> {
        let i = self.index(number)?;
        if self.ports[i].kind != PortType::FxsStation
            || self.ports[i].peer.is_some()
            || self.ports[i].alarm
            || !matches!(self.ports[i].state, LineState::Idle)
        {
            return None;
        }
        let id = self.next_call_id;
        self.next_call_id += 1;
        let spec = CallSpec {
            persona: persona.clone(),
            caller_id: CallerId::default(),
            hold_ms: None,
            give_up_ms: None,
            seed,
        };
        let mut record = self.new_record(id, number, &spec);
        record.caller_id = None;
        record.answered_ms = Some(self.now_ms);
        let p = &mut self.ports[i];
        p.ev.push(LineEvent::RingOffHook);
        p.state = LineState::Connected {
            call: Box::new(Call {
                record,
                run: Running::new(persona, seed),
                hold_ms: None,
                give_up_ms: None,
            }),
            released_at: None,
        };
        Some(id)
    }

    /// The call in progress on channel `number`, if any.
    pub fn active_call(&self, number: u16) -> Option<&CallRecord> {
        let i = self.index(number)?;
        match &self.ports[i].state {
            LineState::Incoming { call, .. }
            | LineState::Connected { call, .. }
            | LineState::Ringing { call, .. } => Some(&call.record),
            _ => None,
        }
    }

    /// The call with board-wide id `id`, if it is in progress.
    pub fn active_call_by_id(&self, id: u64) -> Option<&CallRecord> {
        self.ports.iter().find_map(|p| match &p.state {
            LineState::Incoming { call, .. }
            | LineState::Connected { call, .. }
            | LineState::Ringing { call, .. }
                if call.record.id == id =>
            {
                Some(&call.record)
            }
            _ => None,
        })
    }

    /// Whether channel `number`'s far end is sending busy tone (the far end hung up).
    pub fn far_end_gone(&self, number: u16) -> bool {
        self.index(number)
            .is_some_and(|i| matches!(self.ports[i].state, LineState::FarEndGone { .. }))
    }

    /// Calls that have ended, oldest first.
    pub fn finished_calls(&self) -> &[CallRecord] {
        &self.finished
    }

    /// Takes the records of ended calls.
    pub fn take_finished(&mut self) -> Vec<CallRecord> {
        std::mem::take(&mut self.finished)
    }

    /// Board-wide counters (per-port overruns and underruns summed).
    pub fn stats(&self) -> BoardStats {
        let mut s = self.stats;
        s.rx_overruns = self.ports.iter().map(|p| p.rx.overruns).sum();
        s.tx_underruns = self.ports.iter().map(|p| p.tx_underruns).sum();
        s
    }

    /// Puts channel `number` into alarm (`on`: span down, cable cut; the board reports
    /// `Alarm`, a call in progress ends as [`Outcome::LineDown`], no audio, no new calls) or
    /// clears it (`NoAlarm`). Returns whether the state changed.
    pub fn set_alarm(&mut self, number: u16, on: bool) -> bool {
        let Some(i) = self.index(number) else {
            return false;
        };
        if self.ports[i].alarm == on {
            return false;
        }
        self.ports[i].alarm = on;
        if on {
            let now = self.now_ms;
            self.end_call(i, now, Outcome::LineDown);
            let p = &mut self.ports[i];
            p.state = LineState::Idle;
            if p.kind == PortType::FxsStation {
                p.off_hook = false;
            }
            p.wired_ring_since = None;
            p.ev.push(LineEvent::Alarm);
        } else {
            self.ports[i].ev.push(LineEvent::NoAlarm);
        }
        true
    }

    /// Puts every channel of card `card` (0-based, in profile order) into alarm or clears it,
    /// as when an E1 span goes down. Returns how many channels changed.
    pub fn set_card_alarm(&mut self, card: usize, on: bool) -> usize {
        let Some(c) = self.profile.cards.get(card) else {
            return 0;
        };
        let before: u16 = self.profile.cards[..card]
            .iter()
            .flat_map(|c| c.ports.iter())
            .map(|g| g.count)
            .sum();
        let count: u16 = c.ports.iter().map(|g| g.count).sum();
        let first = self.profile.first_channel + before;
        (first..first + count)
            .filter(|&n| self.set_alarm(n, on))
            .count()
    }

    /// Events dropped on channel `number` because its queue was full.
    pub fn events_lost(&self, number: u16) -> u64 {
        self.index(number).map_or(0, |i| self.ports[i].ev.lost)
    }

    /// Runs the board for `ms` milliseconds of board time (virtual time: instantly).
    pub fn advance_ms(&mut self, ms: u64) {
        let target = self.now_ms + ms;
        let frame = u64::from(FRAME_MS);
        loop {
            let start = self.now_ms / frame * frame;
            let mid = start + frame / 2;
            let next = if self.now_ms < mid {
                mid
            } else {
                start + frame
            };
            if next > target {
                break;
            }
            if self.blocks_for != Some(start) {
                // The first tick of this frame: each port runs the block its channel asks
                // for now, for the whole frame.
                self.blocks_for = Some(start);
                self.read_blocks();
            }
            if next == mid {
                if self.mid_ticks {
                    self.mid_tick(mid);
                }
                self.now_ms = mid;
            } else {
                self.frame_tick(next);
            }
        }
        self.now_ms = target;
    }

    /// Reads the block each channel asks for, for the frame starting now.
    fn read_blocks(&mut self) {
        let mut mid = false;
        for p in &mut self.ports {
            p.half = p.block.load(Ordering::Relaxed) == HALF_BLOCK;
            mid |= p.half || p.rx.held > 0;
        }
        self.mid_ticks = mid;
    }

    /// The middle of a frame: ports on 80-sample blocks hand out the second half of the
    /// last frame and take the first half of this frame's transmit audio.
    fn mid_tick(&mut self, mid: u64) {
        self.now_ms = mid;
        for i in 0..self.ports.len() {
            self.ports[i].rx.flush();
            if self.ports[i].half {
                self.take_tx(i, 0, HALF_BLOCK);
            }
        }
    }

    /// Runs the board until just after channel `number` has an event pending or `max_ms`
    /// passed; returns the ms advanced. For tests that wait for a line event.
    pub fn advance_until_event(&mut self, number: u16, max_ms: u64) -> u64 {
        let Some(i) = self.index(number) else {
            return 0;
        };
        let start = self.now_ms;
        while self.now_ms - start < max_ms {
            if self.ports[i].ev.q.occupied_len() > 0 {
                break;
            }
            self.advance_ms(u64::from(FRAME_MS));
        }
        self.now_ms - start
    }

    /// One frame for every port; the frame covers `[end - 20, end)` ms.
    fn frame_tick(&mut self, end: u64) {
        let start = end - u64::from(FRAME_MS);
        self.now_ms = start;
        if let Some(mut load) = self.load.take() {
            while let Some(spec) = load.next_due(start) {
                self.offer_call_any(spec);
            }
            self.load = Some(load);
        }
        for i in 0..self.ports.len() {
            self.port_input(i, start);
        }
        for i in 0..self.ports.len() {
            self.port_frame(i, start);
        }
        self.stats.frames += self.ports.len() as u64;
        self.now_ms = end;
    }

    /// Phase 1 of a frame: the user's hook commands and transmit audio.
    fn port_input(&mut self, i: usize, start: u64) {
        while let Some(hook) = self.ports[i].commands.try_pop() {
            if self.ports[i].alarm {
                // A line in alarm takes hook commands but nothing happens on it.
                continue;
            }
            if self.ports[i].peer.is_some() {
                self.apply_wired_hook(i, hook, start);
            } else {
                self.apply_hook(i, hook, start);
            }
        }
        if self.ports[i].half {
            // The first half was taken at the frame's middle.
            self.take_tx(i, HALF_BLOCK, FRAME_SAMPLES);
        } else {
            self.take_tx(i, 0, FRAME_SAMPLES);
        }
    }

    /// Takes samples `from..to` of this frame's transmit audio from the user's buffer.
    fn take_tx(&mut self, i: usize, from: usize, to: usize) {
        let n = (to - from) * self.codec.bytes_per_sample();
        let p = &mut self.ports[i];
        if p.tx.occupied_len() >= n {
            p.tx.pop_slice(&mut self.frame[..n]);
            if p.peer.is_none()
                && matches!(p.state, LineState::Idle)
                && (p.kind == PortType::E1Bchannel || (!p.off_hook && p.idle_audio.is_none()))
            {
                // Nobody listens on an idle B-channel (not wired to a station), nor on an
                // idle on-hook analog line (no echo; no phone keeping what it hears).
                p.last_tx[from..to].fill(0);
            } else {
                self.codec
                    .decode(&self.frame[..n], &mut p.last_tx[from..to]);
            }
        } else {
            p.tx_underruns += u64::from(p.off_hook);
            p.last_tx[from..to].fill(0);
        }
    }

    /// Phase 2 of a frame: the far end, the line, and the receive frame.
    fn port_frame(&mut self, i: usize, start: u64) {
        let fb = self.profile.law.frame_bytes();
        self.tx_pcm = self.ports[i].last_tx;
        self.rx_f = [0.0; FRAME_SAMPLES];
        if self.ports[i].alarm {
            // A line in alarm carries no audio and no far end.
            let p = &mut self.ports[i];
            self.codec
                .encode(&[0; FRAME_SAMPLES], &mut self.frame[..fb]);
            p.rx.push(&self.frame[..fb], p.half);
            return;
        }
        if let Some(j) = self.ports[i].peer {
            self.wired_frame(i, j, start);
            return;
        }
        let p = &mut self.ports[i];
        if p.kind == PortType::E1Bchannel && matches!(p.state, LineState::Idle) {
            // An idle B-channel: digital silence, nothing to simulate.
            p.rx.push(&self.silence[..fb], p.half);
            return;
        }
        if matches!(p.state, LineState::Idle) && !p.off_hook {
            if let Some(quiet) = &p.quiet {
                // An idle on-hook analog line: its noise alone (no echo on-hook, no far
                // end), as the steps below would compute it, from the coded table.
                if let Some(buf) = p.idle_audio.as_mut() {
                    let at = p.idle_pos;
                    buf[at..at + FRAME_SAMPLES].copy_from_slice(&self.tx_pcm);
                    p.idle_pos = (at + FRAME_SAMPLES) % IDLE_AUDIO;
                }
                let (at, next) = coded_noise_at(p.noise_pos);
                p.noise_pos = next;
                let bps = fb / FRAME_SAMPLES;
                p.rx.push(&quiet[at * bps..at * bps + fb], p.half);
                return;
            }
        }
        let ring = &self.profile.ring_cadence_ms;
        let mut finished = None;
        let mut answered_station = false;
        let mut talking = false;
        match &mut p.state {
            LineState::Idle => {
                // An idle phone still listens (for DTMF caller ID before the first ring).
                if let Some(buf) = p.idle_audio.as_mut() {
                    let at = p.idle_pos;
                    buf[at..at + FRAME_SAMPLES].copy_from_slice(&self.tx_pcm);
                    p.idle_pos = (at + FRAME_SAMPLES) % IDLE_AUDIO;
                }
            }
            LineState::Seized { pos } => {
                add_loop(&self.dial, pos, &mut self.rx_f);
                talking = true;
            }
            LineState::FarEndGone { pos } => {
                add_loop(&self.busy, pos, &mut self.rx_f);
                talking = true;
            }
            LineState::Incoming {
                call,
                first_ring_ms,
                cid,
                cid_at_ms,
                cid_pos,
            } => {
                // Caller ID audio.
                if start + u64::from(FRAME_MS) > *cid_at_ms && *cid_pos < cid.len() {
                    let off = (cid_at_ms.saturating_sub(start) * 8) as usize;
                    for o in self.rx_f.iter_mut().skip(off) {
                        if *cid_pos >= cid.len() {
                            break;
                        }
                        *o += f32::from(cid[*cid_pos]);
                        *cid_pos += 1;
                    }
                    if *cid_pos >= cid.len() {
                        call.record.hearing.note(start, NoteKind::CallerIdSent);
                    }
                }
                // Ring bursts: `RingBegin` when a burst starts and, as DAHDI reports ring
                // detection, `RingOffHook` when it ends.
                if start >= *first_ring_ms {
                    let t = start - *first_ring_ms;
                    if ring_burst_starts(ring, t) {
                        call.record.hearing.note(start, NoteKind::RingBurst);
                        p.ev.push(LineEvent::RingBegin);
                    } else if ring_burst_ends(ring, t) {
                        p.ev.push(LineEvent::RingOffHook);
                    }
                }
                // The caller's patience.
                if start.saturating_sub(call.record.arrived_ms)
                    >= u64::from(
                        call.give_up_ms
                            .unwrap_or(call.run.persona.give_up_ringing_ms),
                    )
                {
                    call.record.hearing.note(start, NoteKind::GaveUp);
                    finished = Some(Outcome::Abandoned);
                }
            }
            LineState::Ringing { since_ms, call } => {
                call.record.hearing.hear(start, &self.tx_pcm);
                let t = start - *since_ms;
                if ring_burst_starts(ring, t) {
                    p.ev.push(LineEvent::RingerOn);
                } else if ring_burst_ends(ring, t) {
                    p.ev.push(LineEvent::RingerOff);
                }
                if call
                    .run
                    .persona
                    .answer_after_ms
                    .is_some_and(|a| t >= u64::from(a))
                {
                    answered_station = true;
                }
            }
            LineState::Connected { call, released_at } => {
                talking = true;
                call.record.hearing.hear(start, &self.tx_pcm);
                let heard = if released_at.is_some() {
                    [0; FRAME_SAMPLES]
                } else {
                    self.tx_pcm
                };
                let mut action = call.run.frame(start, &heard, &mut self.rx_f);
                if let Some(h) = call.hold_ms {
                    let answered = call.record.answered_ms.unwrap_or(start);
                    if start >= answered + u64::from(h) {
                        action = Action::HangUp;
                    }
                }
                if released_at.is_some_and(|r| start >= r + 1000) {
                    action = Action::HangUp;
                }
                match action {
                    Action::None => {}
                    Action::Flash => {
                        call.record.hearing.note(start, NoteKind::Flash);
                        if p.kind == PortType::FxsStation {
                            p.ev.push(LineEvent::WinkFlash);
                        }
                    }
                    Action::HangUp => {
                        call.record.hearing.note(start, NoteKind::HungUp);
                        finished = Some(if released_at.is_some() {
                            Outcome::ReleasedByUs
                        } else {
                            Outcome::FarEndHungUp
                        });
                    }
                }
            }
        }
        if answered_station {
            let LineState::Ringing { call, .. } = std::mem::replace(&mut p.state, LineState::Idle)
            else {
                unreachable!()
            };
            let mut call = call;
            call.record.answered_ms = Some(start);
            call.record.hearing.note(start, NoteKind::Answered);
            call.run.start(start);
            p.ev.push(LineEvent::RingerOff);
            p.ev.push(LineEvent::RingOffHook);
            p.off_hook = true;
            p.state = LineState::Connected {
                call,
                released_at: None,
            };
        }
        if let Some(outcome) = finished {
            self.end_call(i, start, outcome);
        }
        let p = &mut self.ports[i];
        // 4. The line: gain, echo of our own transmit, noise.
        let analog = p.kind != PortType::E1Bchannel;
        if talking || analog {
            if p.gain != 1.0 {
                for o in self.rx_f.iter_mut() {
                    *o *= p.gain;
                }
            }
            if analog && p.off_hook {
                let d = p.echo_delay;
                for (k, (o, s)) in self.rx_f.iter_mut().zip(self.tx_pcm.iter()).enumerate() {
                    let w = (p.echo_pos + k) % ECHO_LEN;
                    p.echo[w] = *s;
                    let r = (w + ECHO_LEN - d) % ECHO_LEN;
                    *o += f32::from(p.echo[r]) * p.echo_gain;
                }
                p.echo_pos = (p.echo_pos + FRAME_SAMPLES) % ECHO_LEN;
            }
            if analog && p.noise_rms > 0.5 {
                self.noise
                    .add_to(&mut self.rx_f, p.noise_rms, &mut p.noise_pos);
            }
        }
        // 5. Hand the frame to the user: a silent one (a caller listening on a digital
        // line) as the coded silence, without converting and coding it.
        // Room for what goes out now: the frame, or its first half on 80-sample blocks.
        let now_bytes = if p.half { fb / 2 } else { fb };
        if p.rx.q.vacant_len() >= now_bytes {
            let silent = self
                .rx_f
                .iter()
                .fold(0u32, |acc, x| acc | (x.to_bits() & 0x7fff_ffff))
                == 0;
            if silent {
                p.rx.push(&self.silence[..fb], p.half);
            } else {
                to_pcm(&self.rx_f, &mut self.rx_pcm);
                self.codec.encode(&self.rx_pcm, &mut self.frame[..fb]);
                p.rx.push(&self.frame[..fb], p.half);
            }
        } else {
            p.rx.overruns += 1;
        }
    }

    /// Wires station port `station` to trunk port `trunk` back to back, like a DAHDI loop
    /// span pair: what one side's user writes, the other side's user reads (no impairments);
    /// the trunk side going off-hook, on-hook or flashing is seen on the station side as
    /// `RingOffHook`, `OnHook`, `WinkFlash`; ringing the station side rings the trunk side
    /// (`RingBegin` when a burst starts, `RingOffHook` when it ends). Both ports stop
    /// simulating a far end.
    ///
    /// # Errors
    /// [`crate::WireError`] if a number is unknown, the kinds are not a station and a trunk, or a
    /// port is already wired or busy.
    pub fn wire_pair(&mut self, station: u16, trunk: u16) -> Result<(), WireError> {
        let (Some(s), Some(t)) = (self.index(station), self.index(trunk)) else {
            return Err(WireError::UnknownChannel);
        };
        if self.ports[s].kind != PortType::FxsStation || !self.ports[t].kind.is_trunk() {
            return Err(WireError::WrongKinds);
        }
        for k in [s, t] {
            if self.ports[k].peer.is_some() || !matches!(self.ports[k].state, LineState::Idle) {
                return Err(WireError::Busy);
            }
        }
        self.ports[s].peer = Some(t);
        self.ports[t].peer = Some(s);
        Ok(())
    }

    fn apply_wired_hook(&mut self, i: usize, hook: Hook, now: u64) {
        let Some(j) = self.ports[i].peer else {
            return;
        };
        let is_station = self.ports[i].kind == PortType::FxsStation;
        let (station, trunk) = if is_station { (i, j) } else { (j, i) };
        match (is_station, hook) {
            (true, Hook::Ring)
                if self.ports[station].wired_ring_since.is_none()
                    && !self.ports[trunk].off_hook =>
            {
                self.ports[station].wired_ring_since = Some(now);
            }
            (true, Hook::RingOff | Hook::OnHook | Hook::OffHook) => {
                self.stop_wired_ring(station, now);
            }
            (false, Hook::OffHook) if !self.ports[trunk].off_hook => {
                self.ports[trunk].off_hook = true;
                self.stop_wired_ring(station, now);
                self.ports[station].ev.push(LineEvent::RingOffHook);
            }
            (false, Hook::OnHook) if self.ports[trunk].off_hook => {
                self.ports[trunk].off_hook = false;
                self.ports[station].ev.push(LineEvent::OnHook);
            }
            (false, Hook::Flash) if self.ports[trunk].off_hook => {
                self.ports[station].ev.push(LineEvent::WinkFlash);
            }
            _ => {}
        }
    }

    fn stop_wired_ring(&mut self, station: usize, now: u64) {
        if let Some(since) = self.ports[station].wired_ring_since.take() {
            if ring_in_burst(&self.profile.ring_cadence_ms, now - since) {
                self.ports[station].ev.push(LineEvent::RingerOff);
            }
        }
    }

    fn wired_frame(&mut self, i: usize, j: usize, start: u64) {
        let fb = self.profile.law.frame_bytes();
        let peer_tx = self.ports[j].last_tx;
        if let Some(since) = self.ports[i].wired_ring_since {
            let t = start - since;
            let cad = &self.profile.ring_cadence_ms;
            if ring_burst_starts(cad, t) {
                self.ports[i].ev.push(LineEvent::RingerOn);
                self.ports[j].ev.push(LineEvent::RingBegin);
            } else if ring_burst_ends(cad, t) {
                self.ports[i].ev.push(LineEvent::RingerOff);
                self.ports[j].ev.push(LineEvent::RingOffHook);
            }
        }
        let p = &mut self.ports[i];
        self.codec.encode(&peer_tx, &mut self.frame[..fb]);
        p.rx.push(&self.frame[..fb], p.half);
    }

    fn apply_hook(&mut self, i: usize, hook: Hook, now: u64) {
        let p = &mut self.ports[i];
        match hook {
            Hook::OffHook => {
                if p.kind == PortType::FxsStation {
                    // Off-hook on a station port stops ringing.
                    self.stop_station_ring(i, now);
                    return;
                }
                p.off_hook = true;
                match std::mem::replace(&mut p.state, LineState::Idle) {
                    LineState::Incoming { mut call, .. } => {
                        call.record.answered_ms = Some(now);
                        call.record.hearing.note(now, NoteKind::Answered);
                        call.run.start(now);
                        self.stats.answered += 1;
                        p.state = LineState::Connected {
                            call,
                            released_at: None,
                        };
                    }
                    LineState::Idle => p.state = LineState::Seized { pos: 0 },
                    other => p.state = other,
                }
            }
            Hook::OnHook => {
                if p.kind == PortType::FxsStation {
                    match &mut p.state {
                        LineState::Ringing { .. } => self.stop_station_ring(i, now),
                        LineState::Connected { call, released_at } if released_at.is_none() => {
                            call.record.hearing.note(now, NoteKind::ReleasedByBoard);
                            *released_at = Some(now);
                        }
                        _ => {}
                    }
                    return;
                }
                p.off_hook = false;
                match &mut p.state {
                    LineState::Connected { call, .. } => {
                        call.record.hearing.note(now, NoteKind::ReleasedByBoard);
                        self.end_call(i, now, Outcome::ReleasedByUs);
                    }
                    LineState::FarEndGone { .. } | LineState::Seized { .. } => {
                        p.state = LineState::Idle;
                    }
                    _ => {}
                }
            }
            Hook::Ring => {
                if matches!(p.state, LineState::Idle) {
                    let agent = p
                        .agent
                        .clone()
                        .unwrap_or_else(|| Arc::new(Persona::new("agent", Vec::new())));
                    let id = self.next_call_id;
                    self.next_call_id += 1;
                    let spec = CallSpec {
                        persona: agent.clone(),
                        caller_id: CallerId::default(),
                        hold_ms: None,
                        give_up_ms: None,
                        seed: self.options.seed ^ id,
                    };
                    let mut record = self.new_record(id, self.ports[i].number, &spec);
                    record.caller_id = None;
                    let p = &mut self.ports[i];
                    // What the phone heard just before it rang (oldest first).
                    if let Some(buf) = p.idle_audio.as_ref() {
                        let from = now.saturating_sub((IDLE_AUDIO / 8) as u64);
                        for k in 0..IDLE_AUDIO / FRAME_SAMPLES {
                            let at = (p.idle_pos + k * FRAME_SAMPLES) % IDLE_AUDIO;
                            record.hearing.hear(
                                from + k as u64 * u64::from(FRAME_MS),
                                &buf[at..at + FRAME_SAMPLES],
                            );
                        }
                    }
                    p.state = LineState::Ringing {
                        since_ms: now,
                        call: Box::new(Call {
                            record,
                            run: Running::new(agent, spec.seed),
                            hold_ms: None,
                            give_up_ms: None,
                        }),
                    };
                }
            }
            Hook::RingOff => self.stop_station_ring(i, now),
            Hook::Flash => {
                if let LineState::Connected { call, .. } = &mut p.state {
                    call.record.hearing.note(now, NoteKind::FlashFromBoard);
                }
            }
            _ => {}
        }
    }

    fn stop_station_ring(&mut self, i: usize, now: u64) {
        let p = &mut self.ports[i];
        if let LineState::Ringing { since_ms, .. } = p.state {
            let t = now - since_ms;
            if ring_in_burst(&self.profile.ring_cadence_ms, t) {
                p.ev.push(LineEvent::RingerOff);
            }
            let LineState::Ringing { call, .. } = std::mem::replace(&mut p.state, LineState::Idle)
            else {
                unreachable!()
            };
            let mut rec = call.record;
            rec.ended_ms = Some(now);
            rec.outcome = Outcome::ReleasedByUs;
            self.finished.push(rec);
        }
    }

    fn end_call(&mut self, i: usize, now: u64, outcome: Outcome) {
        let p = &mut self.ports[i];
        let state = std::mem::replace(&mut p.state, LineState::Idle);
        let call = match state {
            LineState::Incoming { call, .. }
            | LineState::Connected { call, .. }
            | LineState::Ringing { call, .. } => call,
            other => {
                p.state = other;
                return;
            }
        };
        let mut rec = call.record;
        rec.ended_ms = Some(now);
        rec.outcome = outcome;
        rec.keys_sent = call.run.sent.as_str().to_owned();
        rec.key_log = call.run.key_log;
        if outcome == Outcome::Abandoned {
            self.stats.abandoned += 1;
        }
        if outcome == Outcome::FarEndHungUp {
            if p.kind == PortType::FxsStation {
                p.ev.push(LineEvent::OnHook);
                p.off_hook = false;
            } else {
                rec.hearing.note(now, NoteKind::BusyToneStarted);
                p.state = LineState::FarEndGone { pos: 0 };
                if p.line.polarity_on_hangup {
                    p.ev.push(LineEvent::PolarityReversal);
                }
                if p.line.loop_drop_on_hangup {
                    p.ev.push(LineEvent::OnHook);
                }
            }
        }
        if outcome == Outcome::ReleasedByUs && p.kind == PortType::FxsStation {
            p.ev.push(LineEvent::OnHook);
            p.off_hook = false;
        }
        self.finished.push(rec);
    }
}

fn align_up(ms: u64) -> u64 {
    ms.div_ceil(u64::from(FRAME_MS)) * u64::from(FRAME_MS)
}

struct EventOut {
    q: HeapProd<LineEvent>,
    lost: u64,
}

impl EventOut {
    fn push(&mut self, e: LineEvent) {
        if self.q.try_push(e).is_err() {
            self.lost += 1;
        }
    }
}

impl std::fmt::Debug for EventOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventOut")
            .field("queued", &self.q.occupied_len())
            .field("lost", &self.lost)
            .finish()
    }
}

fn add_loop(tone: &[i16], pos: &mut usize, out: &mut [f32]) {
    for o in out.iter_mut() {
        *o += f32::from(tone[*pos]);
        *pos = (*pos + 1) % tone.len();
    }
}

/// Whether a ring burst starts at `t` ms into the cadence (frame resolution).
fn ring_burst_starts(cadence: &[u32], t: u64) -> bool {
    cadence_edge(cadence, t, 0)
}

/// Whether a ring burst ends at `t` ms into the cadence.
fn ring_burst_ends(cadence: &[u32], t: u64) -> bool {
    cadence_edge(cadence, t, 1)
}

fn cadence_edge(cadence: &[u32], t: u64, parity: usize) -> bool {
    let period: u64 = cadence.iter().map(|&x| u64::from(x)).sum();
    let mut t = t % period;
    for (k, &seg) in cadence.iter().enumerate() {
        if t == 0 && k % 2 == parity {
            return true;
        }
        if t < u64::from(seg) {
            return false;
        }
        t -= u64::from(seg);
    }
    false
}

fn ring_in_burst(cadence: &[u32], t: u64) -> bool {
    let period: u64 = cadence.iter().map(|&x| u64::from(x)).sum();
    let mut t = t % period;
    for (k, &seg) in cadence.iter().enumerate() {
        if t < u64::from(seg) {
            return k % 2 == 0;
        }
        t -= u64::from(seg);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_board_and_its_channels_can_live_on_different_threads() {
        fn send<T: Send>() {}
        send::<SimBoard>();
        send::<SimChannel>();
    }

    #[test]
    fn cadence_edges() {
        let gb = [400, 200, 400, 2000];
        let starts: Vec<u64> = (0..6000)
            .step_by(20)
            .filter(|&t| ring_burst_starts(&gb, t))
            .collect();
        assert_eq!(starts, vec![0, 600, 3000, 3600]);
        let ends: Vec<u64> = (0..6000)
            .step_by(20)
            .filter(|&t| ring_burst_ends(&gb, t))
            .collect();
        assert_eq!(ends, vec![400, 1000, 3400, 4000]);
        assert!(ring_in_burst(&gb, 380) && !ring_in_burst(&gb, 400) && ring_in_burst(&gb, 600));
    }
}
