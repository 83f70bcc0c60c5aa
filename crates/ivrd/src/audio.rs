//! The real-time audio loop: one thread owns every channel of a board and its `media`
//! pipeline.
//!
//! The loop is generic over the board contract ([`VoiceChannel`]) plus an fd to wait on
//! ([`AsFd`]), so DAHDI and the simulated card run through the same code:
//!
//! - It waits in `mio` (epoll, edge-triggered, `READABLE | PRIORITY`) or, if a driver's
//!   readiness is only reliable level-triggered, in plain `poll(2)` over a pre-allocated
//!   array ([`WaitMode`]).
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
//! # Real-time rules
//!
//! Everything is allocated before the loop. Inside it the thread never allocates, locks,
//! logs or blocks except in its one poll call; counters are relaxed atomics
//! ([`AudioStats`]). Real-time priority (SCHED_FIFO) and locked memory are requested before
//! the loop; a refusal is logged once, before the loop, and the loop runs anyway.

pub(crate) mod check;
mod rt;
pub(crate) mod timed;

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use media::{Frame, LineControl, Pipeline};
use mio::unix::SourceFd;
use mio::{Events, Interest, Token};
use nix::poll::{PollFd, PollFlags, PollTimeout};
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
    /// `poll(2)` over a pre-allocated array, level-triggered: the fallback for drivers
    /// whose readiness edge-triggered epoll can miss.
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
    /// Longest wait in one poll, so the loop notices the stop flag.
    pub(crate) poll_timeout_ms: u16,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            wait: WaitMode::Edge,
            rt_priority: Some(50),
            lock_memory: true,
            poll_timeout_ms: 100,
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
}

impl AudioStats {
    /// Copies the counters into the metrics registry (the control thread, once per tick).
    pub(crate) fn export(&self, m: &ivrd::metrics::AudioMetrics) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        m.frames.store(get(&self.frames));
        m.tx_would_block.store(get(&self.tx_would_block));
        m.hook_errors.store(get(&self.hook_errors));
        m.kernel_bridges.store(get(&self.hw_bridges));
        m.kernel_bridge_refusals
            .store(get(&self.hw_bridge_failures));
        m.realtime
            .set(i64::from(self.rt_fifo.load(Ordering::Relaxed)));
        m.memory_locked
            .set(i64::from(self.memory_locked.load(Ordering::Relaxed)));
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

struct LineState<C> {
    dev: C,
    pipe: Pipeline,
    clock: SampleTime,
    failed: bool,
    hw_allowed: bool,
    hw_peer: Option<usize>,
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
    pub(crate) fn new(lines: Vec<Line<C>>, waker: Arc<mio::Waker>, stats: Arc<AudioStats>) -> Self {
        let max_id = lines.iter().map(|l| usize::from(l.pipe.id().0)).max();
        let mut index_of = vec![None; max_id.map_or(0, |m| m + 1)];
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
        Self {
            lines: lines
                .into_iter()
                .map(|l| LineState {
                    dev: l.dev,
                    pipe: l.pipe,
                    clock: SampleTime::ZERO,
                    failed: false,
                    hw_allowed: l.hw_bridge,
                    hw_peer: None,
                })
                .collect(),
            index_of,
            peer_of: vec![None; n],
            rx: [0; 2 * FRAME_SAMPLES],
            tx: [0; 2 * FRAME_SAMPLES],
            stats,
            waker,
            wake_pending: false,
        }
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
        for _ in 0..MAX_FRAMES_PER_WAKE * FRAME_SAMPLES / block {
            let outcome = self.lines[i].dev.read_frame(&mut self.rx[..block_bytes]);
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
        let peer: Option<Frame> = self.peer_of[i].map(|j| *self.lines[j].pipe.last_rx());
        let line = &mut self.lines[i];
        let m = line.pipe.process_coded(
            line.clock,
            &self.rx[..n.min(frame_bytes)],
            &mut self.tx[..frame_bytes],
            peer.as_ref(),
        );
        line.clock += FRAME_SAMPLES as u64;
        bump(&self.stats.frames);
        self.write_tx(i, m);
    }

    /// One block shorter than the frame (`block` samples, `block_bytes` on the board):
    /// through the pipeline's block path, and the block to send written back at once.
    fn block(&mut self, i: usize, n: usize, block: usize, block_bytes: usize) {
        // The peer's clean audio for this block (a block, or a whole frame from a peer on
        // 20 ms blocks), copied so both pipelines are not borrowed.
        let peer: Option<(Frame, usize)> = self.peer_of[i].map(|j| {
            let p = self.lines[j].pipe.bridge_audio();
            let k = p.len().min(FRAME_SAMPLES);
            let mut f = [0i16; FRAME_SAMPLES];
            f[..k].copy_from_slice(&p[..k]);
            (f, k)
        });
        let line = &mut self.lines[i];
        let m = line.pipe.process_block_coded(
            line.clock,
            &self.rx[..n.min(block_bytes)],
            &mut self.tx[..block_bytes],
            peer.as_ref().map(|(f, k)| &f[..*k]),
        );
        line.clock += block as u64;
        if line.clock.0 % FRAME_SAMPLES as u64 == 0 {
            bump(&self.stats.frames);
        }
        self.write_tx(i, m);
    }

    /// Writes the first `m` bytes of the transmit buffer to channel `i`.
    fn write_tx(&mut self, i: usize, m: usize) {
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
        let fd = ticker.as_fd().try_clone_to_owned()?;
        let mut waiter = Waiter::new(mode, std::slice::from_ref(&fd), timeout_ms)?;
        while !stop.load(Ordering::Relaxed) {
            if !waiter.wait(&self.stats) {
                continue;
            }
            if waiter.ready(0) {
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
        // Duplicates of the fds, so the waiter does not borrow the channels.
        let fds: Vec<OwnedFd> = self
            .lines
            .iter()
            .map(|l| l.dev.as_fd().try_clone_to_owned())
            .collect::<io::Result<_>>()?;
        let mut waiter = Waiter::new(mode, &fds, timeout_ms)?;
        // Edge-triggered: anything that became ready before registration is only seen by
        // looking once.
        self.service_all();
        self.wake_control();
        while !stop.load(Ordering::Relaxed) {
            if !waiter.wait(&self.stats) {
                continue;
            }
            for i in 0..self.lines.len() {
                if waiter.ready(i) {
                    self.service(i);
                    if self.lines[i].failed {
                        // A dead fd must not wake a level-triggered poll forever.
                        waiter.forget(i);
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

/// The one place the audio thread sleeps: epoll through `mio` (edge-triggered) or
/// `poll(2)` (level-triggered), over fds registered before the loop.
enum Waiter<'fd> {
    Edge {
        poll: mio::Poll,
        events: Events,
        ready: Vec<bool>,
        timeout: std::time::Duration,
    },
    Level {
        fds: Vec<PollFd<'fd>>,
        timeout: PollTimeout,
    },
}

impl<'fd> Waiter<'fd> {
    fn new(mode: WaitMode, fds: &'fd [OwnedFd], timeout_ms: u16) -> io::Result<Self> {
        Ok(match mode {
            WaitMode::Edge => {
                let poll = mio::Poll::new()?;
                for (i, fd) in fds.iter().enumerate() {
                    poll.registry().register(
                        &mut SourceFd(&fd.as_raw_fd()),
                        Token(i),
                        Interest::READABLE | Interest::PRIORITY,
                    )?;
                }
                Self::Edge {
                    poll,
                    events: Events::with_capacity(fds.len().max(1)),
                    ready: vec![false; fds.len()],
                    timeout: std::time::Duration::from_millis(u64::from(timeout_ms)),
                }
            }
            WaitMode::Level => Self::Level {
                fds: fds
                    .iter()
                    .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN | PollFlags::POLLPRI))
                    .collect(),
                timeout: PollTimeout::from(timeout_ms),
            },
        })
    }

    /// Sleeps until something is ready or the timeout passes; `true` if something is ready.
    ///
    /// # Real-time
    /// Does not allocate: the event storage was sized in [`Waiter::new`].
    fn wait(&mut self, stats: &AudioStats) -> bool {
        let woke = match self {
            Self::Edge {
                poll,
                events,
                ready,
                timeout,
            } => match poll.poll(events, Some(*timeout)) {
                Ok(()) => {
                    ready.fill(false);
                    for ev in events.iter() {
                        if let Some(r) = ready.get_mut(ev.token().0) {
                            *r = true;
                        }
                    }
                    !events.is_empty()
                }
                Err(e) => {
                    if e.kind() != io::ErrorKind::Interrupted {
                        bump(&stats.poll_errors);
                    }
                    false
                }
            },
            Self::Level { fds, timeout } => match nix::poll::poll(fds, *timeout) {
                Ok(n) => n > 0,
                Err(nix::errno::Errno::EINTR) => false,
                Err(_) => {
                    bump(&stats.poll_errors);
                    false
                }
            },
        };
        if woke {
            bump(&stats.wakeups);
        }
        woke
    }

    /// Whether fd `i` was ready in the last [`Waiter::wait`].
    fn ready(&self, i: usize) -> bool {
        match self {
            Self::Edge { ready, .. } => ready.get(i).copied().unwrap_or(false),
            Self::Level { fds, .. } => fds
                .get(i)
                .and_then(PollFd::revents)
                .is_some_and(|r| !r.is_empty()),
        }
    }

    /// Stops watching fd `i`.
    fn forget(&mut self, i: usize) {
        match self {
            Self::Edge { ready, .. } => {
                // Edge-triggered: a dead fd does not wake us again; nothing to do.
                let _ = ready;
            }
            Self::Level { fds, .. } => {
                if let Some(fd) = fds.get_mut(i) {
                    fd.set_events(PollFlags::empty());
                }
            }
        }
    }
}

/// Starts the audio thread (`audio-rt`) over `lines`: it asks for real-time priority and
/// locked memory (logging once if refused), then runs `run` until `stop` is set.
fn spawn_with<C, F>(
    lines: Vec<Line<C>>,
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
            let mut audio = AudioLoop::new(lines, waker, thread_stats);
            let rt = rt::enter_realtime(options.rt_priority, options.lock_memory);
            audio.stats.rt_fifo.store(rt.fifo, Ordering::Relaxed);
            audio
                .stats
                .memory_locked
                .store(rt.locked, Ordering::Relaxed);
            let result = run(&mut audio, &stop);
            // The loop is over: dropping the channels and pipelines here is allowed.
            drop(audio);
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
    waker: Arc<mio::Waker>,
    stop: Arc<AtomicBool>,
    options: Options,
) -> io::Result<(JoinHandle<io::Result<()>>, Arc<AudioStats>)>
where
    C: VoiceChannel + HwBridge + AsFd + Send + 'static,
{
    spawn_with(lines, waker, stop, options, move |audio, stop| {
        audio.run_channel_fds(options.wait, options.poll_timeout_ms, stop)
    })
}

/// Starts the audio thread over a board whose channels all tick with `ticker`.
///
/// # Errors
/// As [`spawn_channel_fds`].
pub(crate) fn spawn_ticked<C>(
    lines: Vec<Line<C>>,
    mut ticker: Box<dyn Ticker>,
    waker: Arc<mio::Waker>,
    stop: Arc<AtomicBool>,
    options: Options,
) -> io::Result<(JoinHandle<io::Result<()>>, Arc<AudioStats>)>
where
    C: VoiceChannel + HwBridge + Send + 'static,
{
    spawn_with(lines, waker, stop, options, move |audio, stop| {
        audio.run_ticked(ticker.as_mut(), options.wait, options.poll_timeout_ms, stop)
    })
}

/// The simulated card bridges only in user space.
impl HwBridge for simboard::SimChannel {}

#[cfg(test)]
mod tests;
