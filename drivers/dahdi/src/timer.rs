//! `/dev/dahdi/timer`: a periodic timer clocked by the DAHDI master span.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use libc::c_int;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::channel::open_device;
use crate::error::{Error, Result, Target};
use crate::{Event, sys};

/// A DAHDI timer: expires every `period` samples of the DAHDI clock (the card's, or the
/// core timer's without one), so it runs in step with the audio.
///
/// Expiry is signalled as `POLLPRI` on the fd (register it with `mio` using
/// `Interest::PRIORITY`); [`Timer::get_event`] then returns [`Event::TimerExpired`] until
/// [`Timer::ack`] clears the expiries.
#[derive(Debug)]
pub struct Timer {
    fd: OwnedFd,
}

impl Timer {
    /// Opens a new timer (`/dev/dahdi/timer`); it does not run until
    /// [`Timer::set_period_samples`].
    ///
    /// # Errors
    /// `ENOENT`: no DAHDI on this machine.
    ///
    /// ```no_run
    /// let timer = dahdi::Timer::open()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn open() -> Result<Self> {
        Ok(Self {
            fd: open_device("timer", Target::Timer)?,
        })
    }

    fn err(op: &'static str) -> impl FnOnce(Errno) -> Error {
        move |e| Error::sys(op, Target::Timer, e)
    }

    /// Starts the timer with a period of `samples` 8 kHz samples (`DAHDI_TIMERCONFIG`;
    /// 160 = 20 ms); 0 stops it.
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let timer = dahdi::Timer::open()?;
    /// timer.set_period_samples(160)?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_period_samples(&self, samples: u32) -> Result<()> {
        let n = c_int::try_from(samples).unwrap_or(c_int::MAX);
        sys::timerconfig(self.fd.as_fd(), n).map_err(Self::err("DAHDI_TIMERCONFIG"))
    }

    /// Acknowledges `count` expiries (`DAHDI_TIMERACK`); more than have happened, or 0,
    /// acknowledges all of them.
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let timer = dahdi::Timer::open()?;
    /// timer.ack(1)?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn ack(&self, count: u32) -> Result<()> {
        let n = c_int::try_from(count).unwrap_or(c_int::MAX);
        sys::timerack(self.fd.as_fd(), n).map_err(Self::err("DAHDI_TIMERACK"))
    }

    /// The pending event (`DAHDI_GETEVENT`): [`Event::TimerExpired`] while unacknowledged
    /// expiries remain, [`Event::TimerPing`] after [`Timer::ping`], or `None`.
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let timer = dahdi::Timer::open()?;
    /// if timer.get_event()? == Some(dahdi::Event::TimerExpired) { timer.ack(0)?; }
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn get_event(&self) -> Result<Option<Event>> {
        match sys::getevent(self.fd.as_fd()) {
            Ok(sys::event::NONE) => Ok(None),
            Ok(code) => Ok(Some(Event::from_code(code))),
            Err(e) => Err(Error::sys("DAHDI_GETEVENT", Target::Timer, e)),
        }
    }

    /// Waits up to `timeout_ms` for an expiry (`poll` for `POLLPRI`); returns whether one
    /// is pending. Blocks: for test tools and simple loops, not the audio thread.
    ///
    /// # Errors
    /// `poll` failed.
    ///
    /// ```no_run
    /// let timer = dahdi::Timer::open()?;
    /// timer.set_period_samples(160)?;
    /// while timer.wait(100)? { timer.ack(1)?; /* 20 ms of work */ }
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn wait(&self, timeout_ms: u16) -> Result<bool> {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLPRI)];
        match nix::poll::poll(&mut fds, PollTimeout::from(timeout_ms)) {
            Ok(0) | Err(Errno::EINTR) => Ok(false),
            Ok(_) => Ok(fds[0]
                .revents()
                .is_some_and(|r| r.contains(PollFlags::POLLPRI))),
            Err(e) => Err(Error::sys("poll", Target::Timer, e)),
        }
    }

    /// Asks for a [`Event::TimerPing`] event (`DAHDI_TIMERPING`), e.g. to wake a thread
    /// polling this timer.
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let timer = dahdi::Timer::open()?;
    /// timer.ping()?;
    /// assert_eq!(timer.get_event()?, Some(dahdi::Event::TimerPing));
    /// timer.pong()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn ping(&self) -> Result<()> {
        sys::timerping(self.fd.as_fd()).map_err(Self::err("DAHDI_TIMERPING"))
    }

    /// Clears a ping (`DAHDI_TIMERPONG`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// dahdi::Timer::open()?.pong()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn pong(&self) -> Result<()> {
        sys::timerpong(self.fd.as_fd()).map_err(Self::err("DAHDI_TIMERPONG"))
    }
}

impl AsFd for Timer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
