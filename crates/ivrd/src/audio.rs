//! The real-time audio loop: one thread owns every channel of a board and its `media`
//! pipeline.
//!
//! The loop is generic over the board contract ([`VoiceChannel`]) plus an fd to wait on
//! ([`AsFd`]), so DAHDI and the simulated card run through the same code:
//!
//! - It waits in `mio` (epoll, edge-triggered, readable and priority) or, if a driver's
//!   readiness is only reliable level-triggered, in level-triggered epoll through `nix`
//!   ([`WaitMode`]). Channels are registered from inside the loop when a reload adds them:
//!   one `epoll_ctl`, no allocation, and mio is built without its `log` feature so its
//!   registry never logs.
//! - It wakes either per channel (each channel's fd, as DAHDI offers:
//!   [`spawn_channel_fds`]) or per board tick (one timer fd for all channels, as a
//!   `dahdi_dummy`-style card or the simulated card offers: [`spawn_ticked`]).
//! - For each ready channel it reads blocks until "would block": a block (20 ms, or the
//!   shorter block the channel reports, [`VoiceChannel::block_samples`]: 10 ms on DAHDI by
//!   default) goes through the pipeline and the block to send is written back at once, so
//!   a command reaches the line within one block; "event pending" (DAHDI's errno 500) takes the
//!   signalling events and hands them to the pipeline; a driver error takes the channel out
//!   of service (the control side sees [`LineEvent::Removed`]) while the others go on.
//! - It then carries out what the pipeline asks of the board (hook changes, bridges) and,
//!   once per wake-up, wakes the control thread if any events were queued. A bridge is
//!   carried by the board ([`HwBridge`], both legs in one DAHDI conference) where both lines
//!   allow it, else mixed in user space; a refused board bridge falls back to user space
//!   and is counted for the control side to log ([`BridgeFailureLog`]).
//!
//! - Channels come and go while it runs (a `SIGHUP` that adds or removes channels): the
//!   control thread hands a new [`Line`] over, and asks for one back, through an SPSC
//!   `ringbuf` ([`membership`]); the loop adds it to its table and its epoll set, or takes
//!   it out (bridges undone, on-hook, out of epoll) and hands it back whole, so the channel
//!   is closed and its pipeline freed on the control thread.
//!
//! # Channel ids and indices
//!
//! Inside the loop a line lives at a dense index (`0..lines`); the outside world names it
//! by [`ChannelId`]. `index_of` (channel number → index) is a table sized once, for
//! channel numbers up to [`Capacity::max_number`]; the epoll token of a channel is its
//! number. Removing a line moves the last line into its index (`swap_remove`) and fixes
//! `index_of` and the bridge table for the moved one, so nothing outside the loop ever
//! holds an index. (The controller keeps its own stable slots, which become vacant.)
//!
//! # Real-time rules
//!
//! Everything is allocated before the loop: the line table, the bridge table, `index_of`
//! and the epoll event buffer are sized for [`Capacity`] (`daemon.max_channels`), so a
//! channel added later only moves a value into reserved storage. Inside it the thread never allocates, locks,
//! logs or blocks except in its one poll call; counters are relaxed atomics
//! ([`AudioStats`]). Real-time priority (SCHED_FIFO) and locked memory are requested before
//! the loop; a refusal is logged once, before the loop, and the loop runs anyway.

pub(crate) mod check;
mod rt;
pub(crate) mod timed;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::thread::JoinHandle;

use media::{LineControl, Pipeline};
use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{ChannelId, FRAME_SAMPLES, LineEvent, SampleTime};

/// Audio read from one channel per wake-up at most, in 20 ms frames (so many blocks of a
/// shorter block size), so a flooding channel cannot starve the others.
const MAX_FRAMES_PER_WAKE: usize = 4;
/// Signalling events taken from one channel per "event pending" at most.
const MAX_EVENTS_PER_PENDING: usize = 16;

/// What a board answered to [`HwBridge::hw_bridge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HwBridged {
    /// The board has no conferencing of its own: bridge in user space.
    Unsupported,
    /// Both channels are in one board conference: the board carries the audio both ways.
    Bridged,
    /// The board refused with this errno; neither channel was left in a conference.
    Failed(i32),
}

/// A board's optional ability to bridge two of its channels itself (DAHDI conferencing).
///
/// Where the board offers it and the lines allow it ([`Line::hw_bridge`]), the loop joins
/// both legs in one board conference and the pipelines stop mixing; otherwise (the
/// default), or when the board refuses, the loop bridges in user space by handing each
/// pipeline its peer's received frame.
pub(crate) trait HwBridge {
    /// Joins this channel and `peer` in one board conference, each hearing the other and
    /// neither hearing itself. On failure neither channel may be left conferenced.
    ///
    /// # Real-time
    /// Called on the audio thread: must not allocate, lock, log or block (an ioctl on the
    /// channel's own fd is fine).
    fn hw_bridge(&mut self, _peer: &mut Self) -> HwBridged {
        HwBridged::Unsupported
    }

    /// Takes this channel out of its board conference; `Err(errno)` if the board refused.
    ///
    /// # Real-time
    /// As [`HwBridge::hw_bridge`].
    fn hw_unbridge(&mut self) -> Result<(), i32> {
        Ok(())
    }
}

/// A board-wide timing source: one fd that becomes readable once per frame period for all
/// channels (a `dahdi_dummy`-style card, or the simulated card in real time).
pub(crate) trait Ticker: AsFd + Send {
    /// The fd is readable: consume it. Returns how many periods passed (more than 1 means
    /// the loop woke too late and a frame deadline was missed).
    ///
    /// # Real-time
    /// Called on the audio thread: must not allocate, lock or block.
    fn on_ready(&mut self) -> u64;

    /// Every channel has been serviced for this tick.
    fn after_service(&mut self) {}
}

/// How the loop waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitMode {
    /// `mio` (epoll, edge-triggered). Each wake-up drains a channel until "would block".
    Edge,
    /// epoll, level-triggered: the fallback for drivers whose readiness edge-triggered
    /// epoll can miss.
    Level,
}

/// How the audio thread runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// How to wait.
    pub(crate) wait: WaitMode,
    /// SCHED_FIFO priority to ask for (1–99); `None` leaves the scheduler alone.
    pub(crate) rt_priority: Option<u8>,
    /// Lock all memory (`mlockall`) so the loop never waits for a page fault.
    pub(crate) lock_memory: bool,
    /// Pin the audio thread to this CPU (best kept free of other work with `isolcpus=`).
    pub(crate) cpu: Option<usize>,
    /// Silent blocks written ahead of each channel's first (`[[boards]] tx_prime_blocks`).
    pub(crate) tx_prime_blocks: u8,
    /// Hold the CPUs' wake-up latency at this many µs while the loop runs (PM QoS, see
    /// [`rt`]), so blocks do not start with caches a deep idle state emptied; `None`: no
    /// request.
    pub(crate) cpu_latency_us: Option<u32>,
    /// Longest wait in one poll, so the loop notices the stop flag.
    pub(crate) poll_timeout_ms: u16,
    /// Room reserved for lines added while the loop runs (`None`: the lines it starts with).
    pub(crate) capacity: Option<Capacity>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            wait: WaitMode::Edge,
            rt_priority: Some(50),
            lock_memory: true,
            cpu: None,
            tx_prime_blocks: 0,
            cpu_latency_us: None,
            poll_timeout_ms: 100,
            capacity: None,
        }
    }
}

/// Counters of the audio loop, written with relaxed atomics on the audio thread and read
/// (and logged) by the control thread.
#[derive(Debug, Default)]
pub(crate) struct AudioStats {
    /// Wake-ups from the poll.
    pub(crate) wakeups: AtomicU64,
    /// Frames processed, all channels.
    pub(crate) frames: AtomicU64,
    /// "Event pending" answers (DAHDI's errno 500) handled.
    pub(crate) events_pending: AtomicU64,
    /// Signalling events taken from the board.
    pub(crate) line_events: AtomicU64,
    /// Frames the board would not take (transmit buffers full).
    pub(crate) tx_would_block: AtomicU64,
    /// Silent transmit blocks left out to take back the lead a late wake-up added.
    pub(crate) tx_trimmed: AtomicU64,
    /// Channels taken out of service after a driver error.
    pub(crate) channel_errors: AtomicU64,
    /// Hook changes the board refused.
    pub(crate) hook_errors: AtomicU64,
    /// Requests the loop could not carry out (unknown or failed bridge peer).
    pub(crate) unsupported: AtomicU64,
    /// Poll calls that failed (other than EINTR).
    pub(crate) poll_errors: AtomicU64,
    /// Failed wake-ups of the control thread.
    pub(crate) wake_errors: AtomicU64,
    /// Bridges carried by the board itself.
    pub(crate) hw_bridges: AtomicU64,
    /// Kernel bridges the board refused (those calls were bridged in user space).
    pub(crate) hw_bridge_failures: AtomicU64,
    /// The last refused kernel bridge, packed: channel a (bits 48..64), channel b (32..48),
    /// errno (0..32). Read with [`AudioStats::last_hw_bridge_failure`].
    pub(crate) hw_bridge_last_failure: AtomicU64,
    /// Channels the board would not take out of a conference.
    pub(crate) hw_unbridge_failures: AtomicU64,
    /// The audio thread got SCHED_FIFO.
    pub(crate) rt_fifo: AtomicBool,
    /// The audio thread's memory is locked.
    pub(crate) memory_locked: AtomicBool,
    /// The CPU wake-up latency held while the loop runs, µs.
    pub(crate) cpu_latency_us: OptionalI64,
    /// The CPU the audio thread is pinned to.
    pub(crate) pinned_cpu: OptionalI64,
}

/// A number the audio thread sets once it starts; -1 (also before then): none.
#[derive(Debug)]
pub(crate) struct OptionalI64(pub(crate) AtomicI64);

impl Default for OptionalI64 {
    fn default() -> Self {
        Self(AtomicI64::new(-1))
    }
}

impl AudioStats {
    /// Copies the counters into the metrics registry (the control thread, once per tick).
    pub(crate) fn export(&self, m: &ivrd::metrics::AudioMetrics) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        m.frames.store(get(&self.frames));
        m.tx_would_block.store(get(&self.tx_would_block));
        m.tx_trimmed.store(get(&self.tx_trimmed));
        m.hook_errors.store(get(&self.hook_errors));
        m.kernel_bridges.store(get(&self.hw_bridges));
        m.kernel_bridge_refusals
            .store(get(&self.hw_bridge_failures));
        m.realtime
            .set(i64::from(self.rt_fifo.load(Ordering::Relaxed)));
        m.memory_locked
            .set(i64::from(self.memory_locked.load(Ordering::Relaxed)));
        m.cpu_wakeup_latency_us
            .set(self.cpu_latency_us.0.load(Ordering::Relaxed));
    }

    /// The last kernel bridge the board refused: `(channel a, channel b, errno)`, if any.
    pub(crate) fn last_hw_bridge_failure(&self) -> Option<(u16, u16, i32)> {
        if self.hw_bridge_failures.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let v = self.hw_bridge_last_failure.load(Ordering::Relaxed);
        Some(((v >> 48) as u16, (v >> 32) as u16, v as u32 as i32))
    }
}

/// The control side's report of refused kernel bridges (the audio thread only counts
/// them): the first one at once, with the channels and the kernel's reason, later ones
/// summed up at most once a minute.
#[derive(Debug, Default)]
pub(crate) struct BridgeFailureLog {
    reported: u64,
    last_log_ms: Option<u64>,
}

impl BridgeFailureLog {
    /// Looks at the counters; logs if the board refused bridges since the last report.
    /// `now_ms`: any monotonic milliseconds. Returns whether it logged.
    pub(crate) fn check(&mut self, stats: &AudioStats, now_ms: u64) -> bool {
        let failures = stats.hw_bridge_failures.load(Ordering::Relaxed);
        if failures == self.reported
            || self
                .last_log_ms
                .is_some_and(|t| now_ms < t.saturating_add(60_000))
        {
            return false;
        }
        let Some((a, b, errno)) = stats.last_hw_bridge_failure() else {
            return false;
        };
        let why = nix::errno::Errno::from_raw(errno);
        let new = failures - self.reported;
        log::warn!(
            "kernel bridge refused {new} time(s) (last: channels {a} and {b}: {} [{why:?}]); \
             those calls are bridged in user space",
            why.desc()
        );
        self.reported = failures;
        self.last_log_ms = Some(now_ms);
        true
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One channel and its pipeline, handed to [`spawn`].
#[derive(Debug)]
pub(crate) struct Line<C> {
    /// The board channel.
    pub(crate) dev: C,
    /// Its media pipeline.
    pub(crate) pipe: Pipeline,
    /// May be bridged by the board itself ([`HwBridge`]); a bridge is done in the board
    /// only if both legs allow it. `false` keeps this line's bridges in user space, where
    /// the pipeline sees the audio (recording, DTMF clamping).
    pub(crate) hw_bridge: bool,
}

/// The highest channel number DAHDI can have (`DAHDI_MAX_CHANNELS` is 1024, numbered
/// from 1).
pub(crate) const DAHDI_MAX_CHANNEL: u16 = 1024;

/// What the loop reserves before it starts, so adding a channel later never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Capacity {
    /// Lines the loop can hold at once (`daemon.max_channels`).
    pub(crate) lines: usize,
    /// The highest channel number it can address.
    pub(crate) max_number: u16,
}

impl Capacity {
    /// Room for `lines` lines numbered up to DAHDI's highest channel number.
    pub(crate) fn new(lines: usize) -> Self {
        Self {
            lines,
            max_number: DAHDI_MAX_CHANNEL,
        }
    }
}

/// A request from the control thread to the audio thread.
///
/// A line travels by value on purpose: a boxed one would have to be freed on the audio
/// thread when it moves into the loop's table.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Membership<C> {
    /// Start servicing this line.
    Add(Line<C>),
    /// Take this channel out (bridges undone, on-hook) and hand its line back.
    Remove(ChannelId),
}

/// What the audio thread hands back to the control thread (which drops it: the channel is
/// closed and the pipeline freed there, never on the audio thread). By value, as
/// [`Membership`].
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Returned<C> {
    /// A removed line.
    Removed(Line<C>),
    /// An added line the loop could not take: its channel number is in use or beyond
    /// [`Capacity::max_number`], the table is full, or its law is not the board's.
    Refused(Line<C>),
    /// A removal of a channel the loop does not have.
    Unknown(ChannelId),
}

/// The control thread's ends of the membership rings.
pub(crate) struct MembershipControl<C> {
    /// Requests to the audio thread.
    pub(crate) requests: ringbuf::HeapProd<Membership<C>>,
    /// Lines coming back.
    pub(crate) returned: ringbuf::HeapCons<Returned<C>>,
}

impl<C> std::fmt::Debug for MembershipControl<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MembershipControl").finish_non_exhaustive()
    }
}

/// The audio thread's ends of the membership rings.
pub(crate) struct MembershipAudio<C> {
    requests: ringbuf::HeapCons<Membership<C>>,
    returned: ringbuf::HeapProd<Returned<C>>,
}

impl<C> std::fmt::Debug for MembershipAudio<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MembershipAudio").finish_non_exhaustive()
    }
}

/// The two SPSC rings that carry lines between the control and audio threads, each
/// holding `depth` entries (more requests wait on the control side).
pub(crate) fn membership<C>(depth: usize) -> (MembershipControl<C>, MembershipAudio<C>) {
    let (req_p, req_c) = ringbuf::HeapRb::new(depth.max(1)).split();
    let (ret_p, ret_c) = ringbuf::HeapRb::new(depth.max(1)).split();
    (
        MembershipControl {
            requests: req_p,
            returned: ret_c,
        },
        MembershipAudio {
            requests: req_c,
            returned: ret_p,
        },
    )
}

/// An epoll change the loop asks of its waiter when a line comes or goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reg {
    /// Watch this channel's fd.
    Add,
    /// Stop watching it.
    Remove,
}

struct LineState<C> {
    dev: C,
    pipe: Pipeline,
    clock: SampleTime,
    failed: bool,
    hw_allowed: bool,
    hw_peer: Option<usize>,
    /// Blocks written beyond the first in a late wake-up and not yet made up (see
    /// [`AudioLoop::service`]).
    tx_excess: u16,
    /// The primed silence went out ahead of the first block (see [`AudioLoop::write_tx`]).
    primed: bool,
}

impl<C> LineState<C> {
    fn from_line(l: Line<C>) -> Self {
        Self {
            dev: l.dev,
            pipe: l.pipe,
            clock: SampleTime::ZERO,
            failed: false,
            hw_allowed: l.hw_bridge,
            hw_peer: None,
            tx_excess: 0,
            primed: false,
        }
    }
}

/// The loop's state: every channel, the bridge table and the I/O buffers.
pub(crate) struct AudioLoop<C> {
    lines: Vec<LineState<C>>,
    index_of: Vec<Option<usize>>,
    peer_of: Vec<Option<usize>>,
    rx: [u8; 2 * FRAME_SAMPLES],
    tx: [u8; 2 * FRAME_SAMPLES],
    stats: Arc<AudioStats>,
    waker: Arc<mio::Waker>,
    wake_pending: bool,
    /// Lines coming and going while the loop runs (`None`: a fixed set).
    members: Option<MembershipAudio<C>>,
    /// Silent blocks written ahead of each channel's first (`[[boards]] tx_prime_blocks`).
    tx_prime: u8,
}

impl<C> std::fmt::Debug for AudioLoop<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioLoop")
            .field("lines", &self.lines.len())
            .finish_non_exhaustive()
    }
}

impl<C: VoiceChannel + HwBridge> AudioLoop<C> {
    /// Takes ownership of the channels; allocates everything the loop will use.
    ///
    /// # Panics
    /// If a pipeline was configured for another law than its channel's (a wiring bug: the
    /// audio would be garbage), or two channels share a channel id.
    #[cfg(test)]
    pub(crate) fn new(lines: Vec<Line<C>>, waker: Arc<mio::Waker>, stats: Arc<AudioStats>) -> Self {
        let cap = Capacity {
            lines: lines.len(),
            max_number: 0,
        };
        Self::with_capacity(lines, waker, stats, cap, None)
    }

    /// [`AudioLoop::new`] with room for `cap` (lines added later through `members` never
    /// allocate).
    ///
    /// # Panics
    /// As [`AudioLoop::new`].
    pub(crate) fn with_capacity(
        lines: Vec<Line<C>>,
        waker: Arc<mio::Waker>,
        stats: Arc<AudioStats>,
        cap: Capacity,
        members: Option<MembershipAudio<C>>,
    ) -> Self {
        let max_id = lines.iter().map(|l| usize::from(l.pipe.id().0)).max();
        let slots = max_id
            .map_or(0, |m| m + 1)
            .max(usize::from(cap.max_number) + 1);
        let mut index_of = vec![None; slots];
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(
                l.dev.law(),
                l.pipe.law(),
                "channel {}: the pipeline's law must be the board's",
                l.dev.number()
            );
            let slot = &mut index_of[usize::from(l.pipe.id().0)];
            assert!(slot.is_none(), "channel id {} used twice", l.pipe.id());
            *slot = Some(i);
        }
        let n = lines.len();
        let room = n.max(cap.lines);
        let mut states = Vec::with_capacity(room);
        states.extend(lines.into_iter().map(LineState::from_line));
        let mut peer_of = Vec::with_capacity(room);
        peer_of.resize(n, None);
        Self {
            lines: states,
            index_of,
            peer_of,
            rx: [0; 2 * FRAME_SAMPLES],
            tx: [0; 2 * FRAME_SAMPLES],
            stats,
            waker,
            wake_pending: false,
            members,
            tx_prime: 0,
        }
    }

    /// How many lines the loop services now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    /// The index of channel `id`, if the loop has it.
    pub(crate) fn index(&self, id: ChannelId) -> Option<usize> {
        self.index_of.get(usize::from(id.0)).copied().flatten()
    }

    /// Carries out what the control thread asked through the membership rings: adds the
    /// lines handed over (registering each with `reg`, which answers whether it worked)
    /// and hands removed ones back. A removal waits while the return ring is full.
    ///
    /// # Real-time
    /// Does not allocate, free, lock, log or block: a line moves into storage reserved by
    /// [`AudioLoop::with_capacity`] or out into the return ring; `reg` is one `epoll_ctl`.
    pub(crate) fn apply_membership(&mut self, reg: &mut dyn FnMut(&C, u16, Reg) -> bool) {
        let Some(mut m) = self.members.take() else {
            return;
        };
        while !m.returned.is_full() {
            let Some(req) = m.requests.try_pop() else {
                break;
            };
            let back = match req {
                Membership::Add(line) => self.add_line(line, reg).err().map(Returned::Refused),
                Membership::Remove(id) => Some(match self.remove_line(id, reg) {
                    Some(line) => Returned::Removed(line),
                    None => Returned::Unknown(id),
                }),
            };
            if let Some(back) = back {
                // Not full: checked above, and only this thread pushes.
                let _ = m.returned.try_push(back);
            }
            self.wake_pending = true;
        }
        self.members = Some(m);
    }

    // The refused line goes back by value (see `Membership`).
    #[allow(clippy::result_large_err)]
    fn add_line(
        &mut self,
        line: Line<C>,
        reg: &mut dyn FnMut(&C, u16, Reg) -> bool,
    ) -> Result<(), Line<C>> {
        let n = line.pipe.id().0;
        let free = self
            .index_of
            .get(usize::from(n))
            .is_some_and(Option::is_none);
        if !free || self.lines.len() == self.lines.capacity() || line.dev.law() != line.pipe.law() {
            return Err(line);
        }
        let i = self.lines.len();
        self.lines.push(LineState::from_line(line));
        self.peer_of.push(None);
        self.index_of[usize::from(n)] = Some(i);
        if reg(&self.lines[i].dev, n, Reg::Add) {
            // Whatever is ready already (epoll reports it too; this is cheaper than a wait).
            self.service(i);
        } else {
            self.fail(i);
        }
        Ok(())
    }

    fn remove_line(
        &mut self,
        id: ChannelId,
        reg: &mut dyn FnMut(&C, u16, Reg) -> bool,
    ) -> Option<Line<C>> {
        let i = self.index(id)?;
        self.unlink(i);
        if !self.lines[i].failed && self.lines[i].dev.set_hook(tel_types::Hook::OnHook).is_err() {
            bump(&self.stats.hook_errors);
        }
        // A failed line may be out of the epoll set already; that answer is ignored.
        reg(&self.lines[i].dev, id.0, Reg::Remove);
        self.index_of[usize::from(id.0)] = None;
        let gone = self.lines.swap_remove(i);
        self.peer_of.swap_remove(i);
        if i < self.lines.len() {
            // The last line moved into `i`: point its id and its bridge peer at `i`.
            let moved = usize::from(self.lines[i].pipe.id().0);
            self.index_of[moved] = Some(i);
            if let Some(j) = self.peer_of[i] {
                self.peer_of[j] = Some(i);
            }
            if let Some(j) = self.lines[i].hw_peer {
                self.lines[j].hw_peer = Some(i);
            }
        }
        Some(Line {
            dev: gone.dev,
            pipe: gone.pipe,
            hw_bridge: gone.hw_allowed,
        })
    }

    /// Whether channel `i` was taken out of service.
    #[cfg(test)]
    pub(crate) fn is_failed(&self, i: usize) -> bool {
        self.lines[i].failed
    }

    /// The pipeline of channel `i` (tests and the check tool look at it).
    #[cfg(test)]
    pub(crate) fn pipe(&self, i: usize) -> &Pipeline {
        &self.lines[i].pipe
    }

    /// The board channel `i` (tests look at it).
    #[cfg(test)]
    pub(crate) fn dev(&self, i: usize) -> &C {
        &self.lines[i].dev
    }

    /// Writes `blocks` silent blocks ahead of each channel's first block from now on
    /// (channels already written to keep their lead), and lets a late wake-up eat into
    /// that lead before any block is left out (see [`AudioLoop::service`]).
    pub(crate) fn set_tx_prime(&mut self, blocks: u8) {
        self.tx_prime = blocks;
    }

    /// Services channel `i`: frames until "would block", events, then the pipeline's
    /// requests to the board.
    ///
    /// # Real-time
    /// Does not allocate, lock, log or block (the channel is non-blocking).
    pub(crate) fn service(&mut self, i: usize) {
        if self.lines[i].failed {
            return;
        }
        let dev = &self.lines[i].dev;
        let block = dev.block_samples().clamp(1, FRAME_SAMPLES);
        let block_bytes = block * dev.law().bytes_per_sample();
        let mut blocks_read = 0u32;
        for _ in 0..MAX_FRAMES_PER_WAKE * FRAME_SAMPLES / block {
            let outcome = self.lines[i].dev.read_frame(&mut self.rx[..block_bytes]);
            if matches!(outcome, Ok(ReadOutcome::Data(_))) {
                blocks_read += 1;
                if blocks_read > 1 + u32::from(self.tx_prime) {
                    // A second block in one wake-up (beyond the primed ones): the loop woke
                    // a block late, the board's transmit queue ran dry meanwhile, and
                    // writing every block would leave the transmit lead (and every later
                    // prompt's start) a block longer for good. The next silent blocks are
                    // left out until it is made up. A primed block covers one block of
                    // lateness: the queue only ran low, and writing every block refills it.
                    let line = &mut self.lines[i];
                    line.tx_excess = line.tx_excess.saturating_add(1);
                }
            }
            match outcome {
                Ok(ReadOutcome::Data(n)) if block == FRAME_SAMPLES => {
                    self.frame(i, n, block_bytes);
                }
                Ok(ReadOutcome::Data(n)) => self.block(i, n, block, block_bytes),
                Ok(ReadOutcome::WouldBlock) => break,
                Ok(ReadOutcome::EventPending) => self.take_events(i),
                Err(_) => {
                    self.fail(i);
                    break;
                }
            }
            if self.lines[i].failed {
                break;
            }
        }
        self.apply_line_control(i);
        if self.lines[i].pipe.take_wake() {
            self.wake_pending = true;
        }
    }

    fn frame(&mut self, i: usize, n: usize, frame_bytes: usize) {
        // The bridged peer's pipeline is borrowed beside this one (no copy of its frame).
        let (line, peer) = line_and_peer(&mut self.lines, i, self.peer_of[i]);
        let m = line.pipe.process_coded(
            line.clock,
            &self.rx[..n.min(frame_bytes)],
            &mut self.tx[..frame_bytes],
            peer.map(Pipeline::last_rx),
        );
        line.clock += FRAME_SAMPLES as u64;
        bump(&self.stats.frames);
        self.write_tx(i, m);
    }

    /// One block shorter than the frame (`block` samples, `block_bytes` on the board):
    /// through the pipeline's block path, and the block to send written back at once.
    fn block(&mut self, i: usize, n: usize, block: usize, block_bytes: usize) {
        // The peer's clean audio for this block (a block, or a whole frame from a peer on
        // 20 ms blocks), borrowed beside this pipeline (no copy).
        let (line, peer) = line_and_peer(&mut self.lines, i, self.peer_of[i]);
        let m = line.pipe.process_block_coded(
            line.clock,
            &self.rx[..n.min(block_bytes)],
            &mut self.tx[..block_bytes],
            peer.map(|p| {
                let audio = p.bridge_audio();
                &audio[..audio.len().min(FRAME_SAMPLES)]
            }),
        );
        line.clock += block as u64;
        if line.clock.0 % FRAME_SAMPLES as u64 == 0 {
            bump(&self.stats.frames);
        }
        self.write_tx(i, m);
    }

    /// Writes the first `m` bytes of the transmit buffer to channel `i`, or leaves a silent
    /// block out while a late wake-up's extra lead is being made up (the board sends its
    /// idle silence in its place, so nothing audible changes).
    fn write_tx(&mut self, i: usize, m: usize) {
        let line = &mut self.lines[i];
        if !line.primed {
            line.primed = true;
            // The primed lead: silence ahead of the channel's first block.
            let silence = [line.dev.law().silence_byte(); 2 * FRAME_SAMPLES];
            for _ in 0..self.tx_prime {
                if !matches!(
                    line.dev.write_frame(&silence[..m.min(silence.len())]),
                    Ok(WriteOutcome::Written(_))
                ) {
                    break;
                }
            }
        }
        let line = &mut self.lines[i];
        if line.tx_excess > 0 {
            let silence = line.dev.law().silence_byte();
            if self.tx[..m].iter().all(|&b| b == silence) {
                line.tx_excess -= 1;
                bump(&self.stats.tx_trimmed);
                return;
            }
        }
        // An event can block the write as it blocks reads; take it and write once more.
        for _ in 0..2 {
            match self.lines[i].dev.write_frame(&self.tx[..m]) {
                Ok(WriteOutcome::Written(_)) => return,
                Ok(WriteOutcome::WouldBlock) => {
                    bump(&self.stats.tx_would_block);
                    self.lines[i].pipe.count_tx_underrun();
                    return;
                }
                Ok(WriteOutcome::EventPending) => self.take_events(i),
                Err(_) => return self.fail(i),
            }
        }
    }

    /// DAHDI's errno 500: take the pending events and hand them to the pipeline.
    fn take_events(&mut self, i: usize) {
        bump(&self.stats.events_pending);
        for _ in 0..MAX_EVENTS_PER_PENDING {
            let line = &mut self.lines[i];
            match line.dev.next_event() {
                Ok(Some(ev)) => {
                    bump(&self.stats.line_events);
                    line.pipe.on_line_event(line.clock, ev);
                    if ev == LineEvent::Removed {
                        return self.fail(i);
                    }
                }
                Ok(None) => return,
                Err(_) => return self.fail(i),
            }
        }
    }

    fn fail(&mut self, i: usize) {
        if self.lines[i].failed {
            return;
        }
        bump(&self.stats.channel_errors);
        self.unlink(i);
        let line = &mut self.lines[i];
        line.failed = true;
        line.pipe.on_line_event(line.clock, LineEvent::Removed);
        if line.pipe.take_wake() {
            self.wake_pending = true;
        }
    }

    fn apply_line_control(&mut self, i: usize) {
        while let Some(ctl) = self.lines[i].pipe.poll_line_control() {
            match ctl {
                LineControl::Hook(h) => {
                    if self.lines[i].dev.set_hook(h).is_err() {
                        bump(&self.stats.hook_errors);
                    }
                }
                LineControl::Bridge(peer) => self.link(i, peer),
                LineControl::Unbridge(_) => self.unlink(i),
                _ => bump(&self.stats.unsupported),
            }
        }
    }

    fn link(&mut self, i: usize, peer: ChannelId) {
        let j = self.index_of.get(usize::from(peer.0)).copied().flatten();
        let Some(j) = j.filter(|&j| j != i && !self.lines[j].failed) else {
            bump(&self.stats.unsupported);
            self.lines[i].pipe.set_peer(None);
            return;
        };
        self.unlink(i);
        self.unlink(j);
        // Both pipelines know their peer (so either side's `Unbridge` works); only a
        // user-space bridge also gets the peer's frames handed in.
        let my_id = self.lines[i].pipe.id();
        self.lines[i].pipe.set_peer(Some(peer));
        self.lines[j].pipe.set_peer(Some(my_id));
        // A call whose whole-call tap is on (recorded, or a supervisor listens) stays in
        // user space, where the tap hears both parties.
        let (a, b) = (&self.lines[i], &self.lines[j]);
        if a.hw_allowed && b.hw_allowed && !a.pipe.is_listening() && !b.pipe.is_listening() {
            let (a, b) = pair_mut(&mut self.lines, i, j);
            match a.dev.hw_bridge(&mut b.dev) {
                HwBridged::Bridged => {
                    bump(&self.stats.hw_bridges);
                    a.hw_peer = Some(j);
                    b.hw_peer = Some(i);
                    return;
                }
                HwBridged::Failed(errno) => {
                    // The control side logs it; the call is bridged in user space below.
                    let packed = u64::from(a.dev.number()) << 48
                        | u64::from(b.dev.number()) << 32
                        | u64::from(errno as u32);
                    self.stats
                        .hw_bridge_last_failure
                        .store(packed, Ordering::Relaxed);
                    bump(&self.stats.hw_bridge_failures);
                }
                HwBridged::Unsupported => {}
            }
        }
        self.peer_of[i] = Some(j);
        self.peer_of[j] = Some(i);
    }

    fn unlink(&mut self, i: usize) {
        if let Some(j) = self.peer_of[i].take() {
            self.peer_of[j] = None;
            self.lines[j].pipe.set_peer(None);
            self.lines[i].pipe.set_peer(None);
        }
        if let Some(j) = self.lines[i].hw_peer.take() {
            self.lines[j].hw_peer = None;
            self.lines[j].pipe.set_peer(None);
            self.lines[i].pipe.set_peer(None);
            for k in [i, j] {
                if self.lines[k].dev.hw_unbridge().is_err() {
                    bump(&self.stats.hw_unbridge_failures);
                }
            }
        }
    }

    /// Undoes every bridge (the loop is ending: no conference outlives the daemon).
    fn unlink_all(&mut self) {
        for i in 0..self.lines.len() {
            self.unlink(i);
        }
    }

    /// Wakes the control thread once if any channel queued events since the last call.
    fn wake_control(&mut self) {
        if core::mem::take(&mut self.wake_pending) && self.waker.wake().is_err() {
            bump(&self.stats.wake_errors);
        }
    }

    pub(crate) fn service_all(&mut self) {
        for i in 0..self.lines.len() {
            self.service(i);
        }
    }

    /// Runs until `stop` is set, waking on `ticker` and servicing every channel per tick.
    ///
    /// # Errors
    /// Setting up the poll failed (before the loop starts).
    pub(crate) fn run_ticked(
        &mut self,
        ticker: &mut dyn Ticker,
        mode: WaitMode,
        timeout_ms: u16,
        stop: &AtomicBool,
    ) -> io::Result<()> {
        let mut waiter = Waiter::new(mode, 1, timeout_ms)?;
        waiter.add(ticker.as_fd(), TICKER_TOKEN)?;
        // Every line ticks with the board: a line added later needs no fd of its own.
        let mut no_fd = |_: &C, _: u16, _: Reg| true;
        while !stop.load(Ordering::Relaxed) {
            let woke = waiter.wait(&self.stats);
            self.apply_membership(&mut no_fd);
            if woke && waiter.ready_tokens().any(|t| t == TICKER_TOKEN) {
                ticker.on_ready();
                self.service_all();
                ticker.after_service();
            }
            self.wake_control();
        }
        self.unlink_all();
        Ok(())
    }
}

impl<C: VoiceChannel + HwBridge + AsFd> AudioLoop<C> {
    /// Runs until `stop` is set, waking on each channel's own fd (readable: a frame is
    /// ready; priority: an event is pending).
    ///
    /// # Errors
    /// Setting up the poll failed (before the loop starts).
    pub(crate) fn run_channel_fds(
        &mut self,
        mode: WaitMode,
        timeout_ms: u16,
        stop: &AtomicBool,
    ) -> io::Result<()> {
        // Room in the event buffer for every line the loop can ever hold.
        let room = self.lines.capacity().max(1);
        let mut waiter = Waiter::new(mode, room, timeout_ms)?;
        for l in &self.lines {
            waiter.add(l.dev.as_fd(), u64::from(l.pipe.id().0))?;
        }
        // Anything that became ready before registration: look once.
        self.service_all();
        self.wake_control();
        while !stop.load(Ordering::Relaxed) {
            let woke = waiter.wait(&self.stats);
            {
                let w = &waiter;
                self.apply_membership(&mut |dev: &C, n: u16, op: Reg| match op {
                    Reg::Add => w.add(dev.as_fd(), u64::from(n)).is_ok(),
                    Reg::Remove => w.remove(dev.as_fd()),
                });
            }
            if woke {
                for t in waiter.ready_tokens() {
                    let Some(i) = usize::try_from(t)
                        .ok()
                        .and_then(|n| self.index_of.get(n).copied().flatten())
                    else {
                        continue;
                    };
                    self.service(i);
                    if self.lines[i].failed && waiter.mode() == WaitMode::Level {
                        // A dead fd must not wake a level-triggered wait forever.
                        waiter.remove(self.lines[i].dev.as_fd());
                    }
                }
            }
            self.wake_control();
        }
        self.unlink_all();
        Ok(())
    }
}

/// Two distinct lines, both mutable (`i != j`).
fn pair_mut<T>(v: &mut [T], i: usize, j: usize) -> (&mut T, &mut T) {
    debug_assert_ne!(i, j);
    if i < j {
        let (lo, hi) = v.split_at_mut(j);
        (&mut lo[i], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(i);
        (&mut hi[0], &mut lo[j])
    }
}

/// Line `i`, mutable, and the pipeline of its user-space bridge peer `peer` (if any, and
/// not `i` itself), shared.
fn line_and_peer<C>(
    lines: &mut [LineState<C>],
    i: usize,
    peer: Option<usize>,
) -> (&mut LineState<C>, Option<&Pipeline>) {
    match peer.filter(|&j| j != i && j < lines.len()) {
        Some(j) => {
            let (line, other) = pair_mut(lines, i, j);
            (line, Some(&other.pipe))
        }
        None => (&mut lines[i], None),
    }
}

/// The epoll token of the board's ticker (channel tokens are channel numbers).
const TICKER_TOKEN: u64 = u64::MAX;

/// The one place the audio thread sleeps: `mio` (epoll, edge-triggered; the default) or
/// level-triggered epoll through `nix` (mio offers only edge-triggered readiness), over the
/// fds registered with [`Waiter::add`]. Adding and removing an fd is one `epoll_ctl` (no
/// allocation; mio is built without its `log` feature, so it never logs), so it is done
/// from inside the loop when a reload adds or removes a channel.
enum Waiter {
    Mio {
        poll: mio::Poll,
        /// Sized for every fd the loop can hold.
        events: mio::Events,
        timeout: std::time::Duration,
    },
    Level {
        epoll: Epoll,
        /// Sized for every fd the loop can hold; `ready` of them are valid after a wait.
        events: Vec<EpollEvent>,
        ready: usize,
        timeout: PollTimeout,
    },
}

impl Waiter {
    /// A waiter with room for `room` ready fds per wait.
    fn new(mode: WaitMode, room: usize, timeout_ms: u16) -> io::Result<Self> {
        let room = room.max(1);
        Ok(match mode {
            WaitMode::Edge => Self::Mio {
                poll: mio::Poll::new()?,
                events: mio::Events::with_capacity(room),
                timeout: std::time::Duration::from_millis(u64::from(timeout_ms)),
            },
            WaitMode::Level => Self::Level {
                epoll: Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?,
                events: vec![EpollEvent::empty(); room],
                ready: 0,
                timeout: PollTimeout::from(timeout_ms),
            },
        })
    }

    fn mode(&self) -> WaitMode {
        match self {
            Self::Mio { .. } => WaitMode::Edge,
            Self::Level { .. } => WaitMode::Level,
        }
    }

    /// Watches `fd` (readable: a frame is ready; priority: an event is pending).
    fn add(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        match self {
            Self::Mio { poll, .. } => poll.registry().register(
                &mut mio::unix::SourceFd(&fd.as_raw_fd()),
                mio::Token(token as usize),
                mio::Interest::READABLE | mio::Interest::PRIORITY,
            ),
            Self::Level { epoll, .. } => {
                let flags = EpollFlags::EPOLLIN | EpollFlags::EPOLLPRI;
                epoll.add(fd, EpollEvent::new(flags, token))?;
                Ok(())
            }
        }
    }

    /// Stops watching `fd`; whether it was watched.
    fn remove(&self, fd: BorrowedFd<'_>) -> bool {
        match self {
            Self::Mio { poll, .. } => poll
                .registry()
                .deregister(&mut mio::unix::SourceFd(&fd.as_raw_fd()))
                .is_ok(),
            Self::Level { epoll, .. } => epoll.delete(fd).is_ok(),
        }
    }

    /// Sleeps until something is ready or the timeout passes; `true` if something is ready.
    ///
    /// # Real-time
    /// Does not allocate: the event storage was sized in [`Waiter::new`].
    fn wait(&mut self, stats: &AudioStats) -> bool {
        let woke = match self {
            Self::Mio {
                poll,
                events,
                timeout,
            } => match poll.poll(events, Some(*timeout)) {
                Ok(()) => !events.is_empty(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => false,
                Err(_) => {
                    bump(&stats.poll_errors);
                    false
                }
            },
            Self::Level {
                epoll,
                events,
                ready,
                timeout,
            } => {
                *ready = match epoll.wait(events, *timeout) {
                    Ok(n) => n,
                    Err(nix::errno::Errno::EINTR) => 0,
                    Err(_) => {
                        bump(&stats.poll_errors);
                        0
                    }
                };
                *ready > 0
            }
        };
        if woke {
            bump(&stats.wakeups);
        }
        woke
    }

    /// The tokens ready in the last [`Waiter::wait`].
    fn ready_tokens(&self) -> ReadyTokens<'_> {
        match self {
            Self::Mio { events, .. } => ReadyTokens::Mio(events.iter()),
            Self::Level { events, ready, .. } => ReadyTokens::Level(events[..*ready].iter()),
        }
    }
}

/// The tokens of [`Waiter::ready_tokens`] (an enum, so no boxing on the audio thread).
enum ReadyTokens<'a> {
    Mio(mio::event::Iter<'a>),
    Level(std::slice::Iter<'a, EpollEvent>),
}

impl Iterator for ReadyTokens<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        match self {
            Self::Mio(it) => it.next().map(|e| e.token().0 as u64),
            Self::Level(it) => it.next().map(EpollEvent::data),
        }
    }
}

/// Starts the audio thread (`audio-rt`) over `lines`: it asks for real-time priority and
/// locked memory (logging once if refused), then runs `run` until `stop` is set.
fn spawn_with<C, F>(
    lines: Vec<Line<C>>,
    members: Option<MembershipAudio<C>>,
    waker: Arc<mio::Waker>,
    stop: Arc<AtomicBool>,
    options: Options,
    run: F,
) -> io::Result<(JoinHandle<io::Result<()>>, Arc<AudioStats>)>
where
    C: VoiceChannel + HwBridge + Send + 'static,
    F: FnOnce(&mut AudioLoop<C>, &AtomicBool) -> io::Result<()> + Send + 'static,
{
    let stats = Arc::new(AudioStats::default());
    let thread_stats = Arc::clone(&stats);
    let handle = std::thread::Builder::new()
        .name("audio-rt".into())
        .spawn(move || {
            let cap = options.capacity.unwrap_or(Capacity {
                lines: lines.len(),
                max_number: 0,
            });
            let mut audio = AudioLoop::with_capacity(lines, waker, thread_stats, cap, members);
            audio.set_tx_prime(options.tx_prime_blocks);
            let rt = rt::enter_realtime(
                options.cpu,
                options.rt_priority,
                options.lock_memory,
                options.cpu_latency_us,
            );
            audio.stats.rt_fifo.store(rt.fifo, Ordering::Relaxed);
            audio
                .stats
                .memory_locked
                .store(rt.locked, Ordering::Relaxed);
            audio
                .stats
                .cpu_latency_us
                .0
                .store(rt.cpu_latency_us().map_or(-1, i64::from), Ordering::Relaxed);
            audio
                .stats
                .pinned_cpu
                .0
                .store(rt.pinned.map_or(-1, |n| n as i64), Ordering::Relaxed);
            let result = run(&mut audio, &stop);
            // The loop is over: dropping the channels and pipelines here is allowed, and
            // the wake-up latency request ends with `rt`.
            drop(audio);
            drop(rt);
            result
        })?;
    Ok((handle, stats))
}

/// Starts the audio thread over channels that each have their own fd (DAHDI).
///
/// # Errors
/// The thread could not be started. Errors setting up the poll end the thread and come
/// back through its `JoinHandle`.
#[allow(dead_code)] // The daemon's DAHDI wiring calls this; `audio-check` uses a ticked board.
pub(crate) fn spawn_channel_fds<C>(
    lines: Vec<Line<C>>,
    members: Option<MembershipAudio<C>>,
    waker: Arc<mio::Waker>,
    stop: Arc<AtomicBool>,
    options: Options,
) -> io::Result<(JoinHandle<io::Result<()>>, Arc<AudioStats>)>
where
    C: VoiceChannel + HwBridge + AsFd + Send + 'static,
{
    spawn_with(lines, members, waker, stop, options, move |audio, stop| {
        audio.run_channel_fds(options.wait, options.poll_timeout_ms, stop)
    })
}

/// Starts the audio thread over a board whose channels all tick with `ticker`.
///
/// # Errors
/// As [`spawn_channel_fds`].
pub(crate) fn spawn_ticked<C>(
    lines: Vec<Line<C>>,
    members: Option<MembershipAudio<C>>,
    mut ticker: Box<dyn Ticker>,
    waker: Arc<mio::Waker>,
    stop: Arc<AtomicBool>,
    options: Options,
) -> io::Result<(JoinHandle<io::Result<()>>, Arc<AudioStats>)>
where
    C: VoiceChannel + HwBridge + Send + 'static,
{
    spawn_with(lines, members, waker, stop, options, move |audio, stop| {
        audio.run_ticked(ticker.as_mut(), options.wait, options.poll_timeout_ms, stop)
    })
}

/// The simulated card bridges only in user space.
impl HwBridge for simboard::SimChannel {}

#[cfg(test)]
mod tests;
