//! The board's master clock in real time: a 1 ms tick from a `timerfd`, as `dahdi_dummy`
//! gives, without drift.
//!
//! Virtual time needs no clock: call [`crate::SimBoard::advance_ms`].

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

use crate::SimBoard;

/// A real-time 1 ms clock for a [`SimBoard`].
///
/// The timerfd only wakes the loop; how many ticks are due is computed from the monotonic
/// clock since start (absolute deadlines), so late wakeups catch up and nothing drifts over
/// hours. Register [`RealTimeClock::as_raw_fd`] with `mio` (`SourceFd`, readable) and call
/// [`RealTimeClock::tick`] when it is readable.
#[derive(Debug)]
pub struct RealTimeClock {
    timer: TimerFd,
    start: Instant,
    ticks: u64,
}

impl RealTimeClock {
    /// Starts a 1 ms periodic timer (`CLOCK_MONOTONIC`, non-blocking).
    ///
    /// # Errors
    /// The timerfd could not be created or armed.
    pub fn new() -> nix::Result<Self> {
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        timer.set(
            Expiration::Interval(TimeSpec::from(Duration::from_millis(1))),
            TimerSetTimeFlags::empty(),
        )?;
        Ok(Self {
            timer,
            start: Instant::now(),
            ticks: 0,
        })
    }

    /// Milliseconds due since the last call (drains the timerfd).
    pub fn due_ms(&mut self) -> u64 {
        // Reading resets the expiration count; EAGAIN only means it was already read.
        let _ = self.timer.wait();
        let elapsed = self.start.elapsed().as_millis() as u64;
        let due = elapsed.saturating_sub(self.ticks);
        self.ticks += due;
        due
    }

    /// Advances `board` by every millisecond due; returns how many.
    pub fn tick(&mut self, board: &mut SimBoard) -> u64 {
        let due = self.due_ms();
        if due > 0 {
            board.advance_ms(due);
        }
        due
    }

    /// Blocks until at least one tick is due, then advances `board` by every tick due; returns
    /// how many. For a simple loop without `mio` (a demo or a soak run in real time).
    ///
    /// # Errors
    /// `poll` failed (other than by a signal).
    pub fn wait_and_tick(&mut self, board: &mut SimBoard) -> nix::Result<u64> {
        loop {
            let due = self.tick(board);
            if due > 0 {
                return Ok(due);
            }
            let mut fds = [PollFd::new(self.timer.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Ticks delivered since start.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }
}

impl AsFd for RealTimeClock {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.timer.as_fd()
    }
}

impl AsRawFd for RealTimeClock {
    fn as_raw_fd(&self) -> RawFd {
        self.timer.as_fd().as_raw_fd()
    }
}
