//! A software board paced by a timer fd, for checking the audio loop in real time on a
//! machine without a voice card (`ivrd audio-check`).
//!
//! One `timerfd` (CLOCK_MONOTONIC, absolute, every 20 ms, or every 10 ms for a board of
//! 80-sample blocks as DAHDI's `block_ms = 10`) ticks every port at once, as a
//! `dahdi_dummy`-style card does; each tick makes one received block ready on every port.
//! The ports "hear" a pre-coded loop of caller audio. The ticker measures, for each tick,
//! how late the audio thread woke and how long servicing every port took, into
//! pre-allocated atomics, so measuring never allocates on the audio thread.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use nix::sys::time::{TimeSpec, TimeValLike};
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tel_types::board::{PortKind, ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{FRAME_MS, FRAME_SAMPLES, Hook, Law, LineEvent, SAMPLES_PER_MS};

use super::{HwBridge, Ticker};

/// The frame period in nanoseconds.
const PERIOD_NS: i64 = FRAME_MS as i64 * 1_000_000;
/// A port further behind than this many frames (of 20 ms) skips ahead and reports an
/// overrun.
const MAX_BACKLOG: u64 = 4;

/// What one tick measured.
#[derive(Debug)]
pub(crate) struct TickLog {
    /// Ticks seen so far.
    pub(crate) ticks: AtomicU64,
    /// Periods the timer counted more than once per read: frames whose deadline passed
    /// before the loop even woke.
    pub(crate) missed_wakeups: AtomicU64,
    /// Ticks whose servicing ended after the next tick was due.
    pub(crate) overran: AtomicU64,
    /// Per tick: wake-up lateness in µs.
    pub(crate) lateness_us: Box<[AtomicU32]>,
    /// Per tick: time to service every port, in µs.
    pub(crate) service_us: Box<[AtomicU32]>,
    /// The first [`LATE_KEPT`] wake-ups that came a whole tick or more late: when the loop
    /// woke (CLOCK_MONOTONIC, ns) and how late, so a report can tell whether the whole
    /// machine stood still then.
    late: Box<[(AtomicI64, AtomicI64)]>,
    late_n: AtomicUsize,
}

/// Late wake-ups kept with their times.
const LATE_KEPT: usize = 64;

impl TickLog {
    fn new(capacity: usize) -> Self {
        let zeros = || (0..capacity).map(|_| AtomicU32::new(0)).collect();
        Self {
            ticks: AtomicU64::new(0),
            missed_wakeups: AtomicU64::new(0),
            overran: AtomicU64::new(0),
            lateness_us: zeros(),
            service_us: zeros(),
            late: (0..LATE_KEPT)
                .map(|_| (AtomicI64::new(0), AtomicI64::new(0)))
                .collect(),
            late_n: AtomicUsize::new(0),
        }
    }

    /// The wake-ups a whole tick or more late that were kept: `(woke at, late by)`, ns.
    pub(crate) fn late_wakeups(&self) -> Vec<(i64, i64)> {
        let n = self.late_n.load(Ordering::Acquire).min(LATE_KEPT);
        self.late[..n]
            .iter()
            .map(|(at, by)| (at.load(Ordering::Relaxed), by.load(Ordering::Relaxed)))
            .collect()
    }

    /// The recorded values of one series (at most `capacity` ticks).
    pub(crate) fn series(&self, which: &[AtomicU32]) -> Vec<u32> {
        let n = (self.ticks.load(Ordering::Acquire) as usize).min(which.len());
        which[..n]
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect()
    }
}

/// CLOCK_MONOTONIC in ns.
pub(crate) fn now_ns() -> i64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).map_or(0, |t| t.num_nanoseconds())
}

/// The board's clock: the timer and the tick count every port reads.
#[derive(Debug)]
pub(crate) struct TimedTicker {
    timer: TimerFd,
    ticks: Arc<AtomicU64>,
    start_ns: i64,
    woke_ns: i64,
    due_ns: i64,
    /// The tick period: one block.
    period_ns: i64,
    log: Arc<TickLog>,
}

impl AsFd for TimedTicker {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.timer.as_fd()
    }
}

impl Ticker for TimedTicker {
    fn on_ready(&mut self) -> u64 {
        let mut buf = [0u8; 8];
        let periods = match nix::unistd::read(&self.timer, &mut buf) {
            Ok(8) => u64::from_ne_bytes(buf),
            _ => return 0,
        };
        self.woke_ns = now_ns();
        let before = self.ticks.fetch_add(periods, Ordering::AcqRel);
        // The newest tick is due at start + (before + periods) periods: servicing must end
        // before the next one. Lateness counts from the oldest tick not yet serviced.
        self.due_ns = self.start_ns + (before + periods) as i64 * self.period_ns;
        let oldest_due_ns = self.start_ns + (before + 1) as i64 * self.period_ns;
        let log = &self.log;
        if periods > 1 {
            log.missed_wakeups.fetch_add(periods - 1, Ordering::Relaxed);
        }
        let n = log.ticks.load(Ordering::Relaxed) as usize;
        let late_ns = (self.woke_ns - oldest_due_ns).max(0);
        if let Some(slot) = log.lateness_us.get(n) {
            let late = late_ns / 1000;
            slot.store(late.min(i64::from(u32::MAX)) as u32, Ordering::Relaxed);
        }
        if late_ns >= self.period_ns {
            let k = log.late_n.load(Ordering::Relaxed);
            if let Some((at, by)) = log.late.get(k) {
                at.store(self.woke_ns, Ordering::Relaxed);
                by.store(late_ns, Ordering::Relaxed);
                log.late_n.store(k + 1, Ordering::Release);
            }
        }
        periods
    }

    fn after_service(&mut self) {
        let done = now_ns();
        let log = &self.log;
        let n = log.ticks.load(Ordering::Relaxed) as usize;
        if let Some(slot) = log.service_us.get(n) {
            let took = (done - self.woke_ns).max(0) / 1000;
            slot.store(took.min(i64::from(u32::MAX)) as u32, Ordering::Relaxed);
        }
        if done > self.due_ns + self.period_ns {
            log.overran.fetch_add(1, Ordering::Relaxed);
        }
        log.ticks.fetch_add(1, Ordering::Release);
    }
}

/// One port of the timed board.
#[derive(Debug)]
pub(crate) struct TimedChannel {
    number: u16,
    law: Law,
    ticks: Arc<AtomicU64>,
    read: u64,
    audio: &'static [u8],
    pos: usize,
    fd: OwnedFd,
    hook: Hook,
    pending: Option<LineEvent>,
    written: u64,
    /// Samples per tick and read.
    block: usize,
}

impl AsFd for TimedChannel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl HwBridge for TimedChannel {}

/// The board's only error: it has none, but the contract wants a type.
#[derive(Debug)]
pub(crate) struct NoError;

impl std::fmt::Display for NoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no error")
    }
}

impl std::error::Error for NoError {}

impl VoiceChannel for TimedChannel {
    type Error = NoError;

    fn number(&self) -> u16 {
        self.number
    }

    fn port_kind(&self) -> PortKind {
        PortKind::FxoTrunk
    }

    fn law(&self) -> Law {
        self.law
    }

    fn block_samples(&self) -> usize {
        self.block
    }

    fn read_frame(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, NoError> {
        if self.pending.is_some() {
            return Ok(ReadOutcome::EventPending);
        }
        let ticks = self.ticks.load(Ordering::Acquire);
        if self.read >= ticks {
            return Ok(ReadOutcome::WouldBlock);
        }
        if ticks - self.read > MAX_BACKLOG * (FRAME_SAMPLES / self.block) as u64 {
            self.read = ticks - 1;
            self.pending = Some(LineEvent::ReadOverrun);
            return Ok(ReadOutcome::EventPending);
        }
        self.read += 1;
        let n = (self.block * self.law.bytes_per_sample()).min(buf.len());
        for b in &mut buf[..n] {
            *b = self.audio[self.pos];
            self.pos = (self.pos + 1) % self.audio.len();
        }
        Ok(ReadOutcome::Data(n))
    }

    fn write_frame(&mut self, buf: &[u8]) -> Result<WriteOutcome, NoError> {
        self.written += buf.len() as u64;
        Ok(WriteOutcome::Written(buf.len()))
    }

    fn next_event(&mut self) -> Result<Option<LineEvent>, NoError> {
        Ok(self.pending.take())
    }

    fn set_hook(&mut self, hook: Hook) -> Result<(), NoError> {
        self.hook = hook;
        Ok(())
    }
}

/// Builds a board of `ports` ports (numbered from 1) that all hear `audio` (coded in `law`,
/// each port starting at a different offset), and its ticker, which logs up to
/// `log_ticks` ticks, ticking every `block` samples (160: 20 ms; 80: 10 ms, a divisor of
/// the 160-sample frame). The timer starts one period from now.
///
/// # Errors
/// The timer could not be created or armed.
pub(crate) fn board_with_block(
    ports: u16,
    law: Law,
    audio: &'static [u8],
    log_ticks: usize,
    block: usize,
) -> nix::Result<(Vec<TimedChannel>, TimedTicker, Arc<TickLog>)> {
    assert!(!audio.is_empty());
    assert!(
        block > 0 && FRAME_SAMPLES % block == 0,
        "block of {block} samples"
    );
    let period_ns = block as i64 * 1_000_000 / SAMPLES_PER_MS as i64;
    let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK)?;
    let ticks = Arc::new(AtomicU64::new(0));
    let mut channels = Vec::with_capacity(usize::from(ports));
    for n in 1..=ports {
        channels.push(TimedChannel {
            number: n,
            law,
            ticks: Arc::clone(&ticks),
            read: 0,
            audio,
            pos: (usize::from(n) * 7919 * law.bytes_per_sample()) % audio.len(),
            fd: timer
                .as_fd()
                .try_clone_to_owned()
                .map_err(|_| nix::Error::EBADF)?,
            hook: Hook::OnHook,
            pending: None,
            written: 0,
            block,
        });
    }
    let (ticker, log) = ticker(timer, now_ns() + period_ns, period_ns, ticks, log_ticks)?;
    Ok((channels, ticker, log))
}

/// A ticker of period `period_ns` whose first tick is due at `first_due_ns`
/// (CLOCK_MONOTONIC), counting ticks into `ticks` and logging up to `log_ticks` of them.
///
/// # Errors
/// The timer could not be armed.
fn ticker(
    timer: TimerFd,
    first_due_ns: i64,
    period_ns: i64,
    ticks: Arc<AtomicU64>,
    log_ticks: usize,
) -> nix::Result<(TimedTicker, Arc<TickLog>)> {
    let log = Arc::new(TickLog::new(log_ticks));
    timer.set(
        Expiration::IntervalDelayed(
            TimeSpec::nanoseconds(first_due_ns),
            TimeSpec::nanoseconds(period_ns),
        ),
        TimerSetTimeFlags::TFD_TIMER_ABSTIME,
    )?;
    let start_ns = first_due_ns - period_ns;
    let ticker = TimedTicker {
        timer,
        ticks,
        start_ns,
        woke_ns: start_ns,
        due_ns: start_ns,
        period_ns,
        log: Arc::clone(&log),
    };
    Ok((ticker, log))
}

/// A ticker alone, one tick per `block` samples (160: 20 ms; 80: 10 ms), for a board
/// that delivers blocks on its own clock (the simulated card): its first tick is due at
/// `first_due_ns`.
///
/// # Errors
/// The timer could not be created or armed.
pub(crate) fn block_ticker(
    first_due_ns: i64,
    block: usize,
    log_ticks: usize,
) -> nix::Result<(TimedTicker, Arc<TickLog>)> {
    let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK)?;
    let period_ns = if block > 0 && FRAME_SAMPLES % block == 0 {
        block as i64 * 1_000_000 / SAMPLES_PER_MS as i64
    } else {
        PERIOD_NS
    };
    ticker(
        timer,
        first_due_ns,
        period_ns,
        Arc::new(AtomicU64::new(0)),
        log_ticks,
    )
}

/// Ticks for the simulated card (started at `board_start_ns`) on `block`-sample blocks: a
/// [`block_ticker`] whose ticks come 5 ms after each of the card's block boundaries, so the
/// loop wakes once per block with the block ready (on 10 ms blocks the card hands out a
/// frame's halves at its end and 10 ms later; the first tick, at 15 ms, finds nothing).
///
/// # Errors
/// The timer could not be created or armed.
pub(crate) fn sim_ticker(
    board_start_ns: i64,
    block: usize,
    log_ticks: usize,
) -> nix::Result<(TimedTicker, Arc<TickLog>)> {
    let period_ms = (block / SAMPLES_PER_MS as usize).clamp(1, FRAME_MS as usize) as i64;
    block_ticker(
        board_start_ns + (period_ms + 5) * 1_000_000,
        block,
        log_ticks,
    )
}
