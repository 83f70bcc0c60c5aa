//! Errors in words a technician understands, keeping the operation, the device and the errno.

use core::fmt;

use nix::errno::Errno;

/// What an operation was applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A numbered channel (`/dev/dahdi/channel` + `DAHDI_SPECIFY`).
    Channel(u16),
    /// A pseudo channel (`/dev/dahdi/pseudo`); the number once the kernel assigned one.
    Pseudo(Option<u32>),
    /// The timer device (`/dev/dahdi/timer`).
    Timer,
    /// The control device (`/dev/dahdi/ctl`).
    Ctl,
    /// A span, queried through the control device.
    Span(u32),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Channel(n) => write!(f, "channel {n}"),
            Self::Pseudo(Some(n)) => write!(f, "pseudo channel {n}"),
            Self::Pseudo(None) => f.write_str("pseudo channel"),
            Self::Timer => f.write_str("/dev/dahdi/timer"),
            Self::Ctl => f.write_str("/dev/dahdi/ctl"),
            Self::Span(n) => write!(f, "span {n}"),
        }
    }
}

/// A DAHDI operation failed.
///
/// `Display` says what happened in a technician's words, e.g.
/// `channel 5: DAHDI_SPECIFY: device busy (another program has this channel open) [EBUSY]`
/// or `channel 7 is not configured (run dahdi_cfg) [DAHDI_SPECIFY: ENXIO]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A system call (open, ioctl, read, write, poll) failed with `errno`.
    Sys {
        /// The operation: the ioctl's C name (`"DAHDI_SPECIFY"`) or `"open /dev/dahdi/..."`,
        /// `"read"`, `"write"`, `"poll"`.
        op: &'static str,
        /// What it was applied to.
        target: Target,
        /// The kernel's error number (raw: DAHDI's 500 has no `Errno` name).
        errno: i32,
    },
    /// An argument was refused before it reached the kernel.
    Invalid {
        /// The operation.
        op: &'static str,
        /// What it was applied to.
        target: Target,
        /// Why, e.g. "dial string longer than 255 characters".
        reason: &'static str,
    },
}

/// The crate's result type.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// Builds the error for a failed call. Must run right after the call: an errno `nix`
    /// does not name (DAHDI's 500) is read back from the thread's `errno`.
    pub(crate) fn sys(op: &'static str, target: Target, errno: Errno) -> Self {
        let errno = if errno == Errno::UnknownErrno {
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
        } else {
            errno as i32
        };
        Self::Sys { op, target, errno }
    }

    /// The raw errno, if the kernel reported one.
    ///
    /// ```no_run
    /// if let Err(e) = dahdi::Channel::open(5) {
    ///     eprintln!("{e} (errno {:?})", e.raw_errno());
    /// }
    /// ```
    pub const fn raw_errno(&self) -> Option<i32> {
        match self {
            Self::Sys { errno, .. } => Some(*errno),
            Self::Invalid { .. } => None,
        }
    }

    /// The errno as `nix` names it (`Errno::UnknownErrno` for DAHDI's 500).
    ///
    /// ```no_run
    /// use nix::errno::Errno;
    /// let e = dahdi::Channel::open(5).unwrap_err();
    /// if e.errno() == Some(Errno::ENOENT) { eprintln!("DAHDI is not loaded"); }
    /// ```
    pub fn errno(&self) -> Option<Errno> {
        self.raw_errno().map(Errno::from_raw)
    }

    /// Whether another program holds the channel (`EBUSY` on open or `DAHDI_SPECIFY`).
    ///
    /// ```no_run
    /// match dahdi::Channel::open(5) {
    ///     Err(e) if e.is_busy() => eprintln!("{e}: is Asterisk still running?"),
    ///     Err(e) if e.is_unconfigured() => eprintln!("{e}"),
    ///     other => { other?; }
    /// }
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn is_busy(&self) -> bool {
        self.errno() == Some(Errno::EBUSY)
    }

    /// Whether the channel exists but is not configured (`ENXIO`: run `dahdi_cfg`).
    /// See [`Error::is_busy`] for an example.
    pub fn is_unconfigured(&self) -> bool {
        self.errno() == Some(Errno::ENXIO)
    }
}

/// errno 500 (`ELAST`) has no name in `Errno` on Linux.
const ELAST: i32 = crate::sys::ELAST;
const ENXIO: i32 = Errno::ENXIO as i32;

fn explain(op: &str, raw: i32) -> &'static str {
    if raw == ELAST {
        return "a signalling event is pending (read it with DAHDI_GETEVENT)";
    }
    let errno = Errno::from_raw(raw);
    let is_open = op.starts_with("open") || op == "DAHDI_SPECIFY";
    match errno {
        Errno::EBUSY if is_open => "device busy (another program has this channel open)",
        Errno::EBUSY if op == "DAHDI_HOOK" => {
            "the line is busy with a hook change (try again after the debounce time)"
        }
        Errno::EBUSY => "device busy",
        Errno::ENXIO => "not configured (run dahdi_cfg)",
        Errno::ENOENT if is_open => {
            "device node missing (is the dahdi kernel module loaded and udev/devtmpfs running?)"
        }
        Errno::ENODEV => "no such device (the card or span was removed, or the module unloaded)",
        Errno::EACCES | Errno::EPERM => {
            "permission denied (run as root or give this user access to /dev/dahdi)"
        }
        Errno::EINVAL if op == "DAHDI_HOOK" || op == "DAHDI_SETLINEAR" => {
            "not possible on this channel's signalling type (clear, CAS or pseudo channel?)"
        }
        Errno::EINVAL => "invalid argument for this channel",
        Errno::ENODATA => "no tone zone loaded (set loadzone/defaultzone and run dahdi_cfg)",
        Errno::EINPROGRESS => "still in progress",
        Errno::EAGAIN => "would block",
        Errno::ENOTTY | Errno::ENOSYS | Errno::EOPNOTSUPP => {
            "not supported by this device or driver"
        }
        Errno::EIO => "I/O error from the card (check the span's alarms with dahdi_tool)",
        Errno::EFAULT => "bad buffer address (a bug in this program)",
        Errno::EINTR => "interrupted by a signal",
        Errno::ENOMEM => "out of kernel memory",
        Errno::ENOSPC => "no free conference slot",
        Errno::UnknownErrno => "unknown error",
        e => e.desc(),
    }
}

fn errno_name(raw: i32) -> &'static str {
    if raw == ELAST {
        "ELAST/500"
    } else {
        match Errno::from_raw(raw) {
            Errno::EBUSY => "EBUSY",
            Errno::ENXIO => "ENXIO",
            Errno::ENOENT => "ENOENT",
            Errno::ENODEV => "ENODEV",
            Errno::EACCES => "EACCES",
            Errno::EPERM => "EPERM",
            Errno::EINVAL => "EINVAL",
            Errno::ENODATA => "ENODATA",
            Errno::EINPROGRESS => "EINPROGRESS",
            Errno::EAGAIN => "EAGAIN",
            Errno::ENOTTY => "ENOTTY",
            Errno::EIO => "EIO",
            Errno::EFAULT => "EFAULT",
            Errno::EINTR => "EINTR",
            Errno::ENOMEM => "ENOMEM",
            Errno::ENOSPC => "ENOSPC",
            _ => "",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Sys {
                op,
                target: Target::Channel(n),
                errno: ENXIO,
            } => write!(
                f,
                "channel {n} is not configured (run dahdi_cfg) [{op}: ENXIO]"
            ),
            Self::Sys { op, target, errno } => {
                write!(f, "{target}: {op}: {}", explain(op, errno))?;
                match errno_name(errno) {
                    "" => write!(f, " [errno {errno}]"),
                    name => write!(f, " [{name}]"),
                }
            }
            Self::Invalid { op, target, reason } => write!(f, "{target}: {op}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_speak_to_technicians() {
        let busy = Error::sys("DAHDI_SPECIFY", Target::Channel(5), Errno::EBUSY);
        assert_eq!(
            busy.to_string(),
            "channel 5: DAHDI_SPECIFY: device busy (another program has this channel open) [EBUSY]"
        );
        assert!(busy.is_busy());
        let unconf = Error::sys("DAHDI_SPECIFY", Target::Channel(7), Errno::ENXIO);
        assert_eq!(
            unconf.to_string(),
            "channel 7 is not configured (run dahdi_cfg) [DAHDI_SPECIFY: ENXIO]"
        );
        assert!(unconf.is_unconfigured());
        let pending = Error::Sys {
            op: "read",
            target: Target::Channel(1),
            errno: 500,
        };
        assert_eq!(
            pending.to_string(),
            "channel 1: read: a signalling event is pending (read it with DAHDI_GETEVENT) [ELAST/500]"
        );
        let zone = Error::sys("DAHDI_HOOK", Target::Channel(1), Errno::ENODATA);
        assert!(zone.to_string().contains("no tone zone loaded"));
        let missing = Error::sys("open /dev/dahdi/channel", Target::Channel(1), Errno::ENOENT);
        assert!(
            missing
                .to_string()
                .contains("is the dahdi kernel module loaded")
        );
        let odd = Error::sys("DAHDI_DIAL", Target::Channel(3), Errno::EMLINK);
        assert_eq!(
            odd.to_string(),
            "channel 3: DAHDI_DIAL: Too many links [errno 31]"
        );
        let span = Error::sys("DAHDI_SPANSTAT", Target::Span(9), Errno::EINVAL);
        assert!(span.to_string().starts_with("span 9: DAHDI_SPANSTAT: "));
    }
}
