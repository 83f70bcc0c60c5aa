//! A DAHDI channel: a numbered channel or a pseudo channel.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use libc::c_int;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::sync::atomic::{AtomicU32, Ordering};
use tel_types::board::{PortKind, ReadOutcome, VoiceChannel, WriteOutcome};

use tel_types::{Digit, FRAME_SAMPLES, Hook, Law, LineEvent};

use crate::error::{Error, Result, Target};
use crate::params::{BufferInfo, Params};
use crate::sys;
use crate::{DEV_DIR, Event};

/// An open DAHDI channel: a numbered channel of a span, or a pseudo channel.
///
/// The fd is opened `O_NONBLOCK | O_CLOEXEC` and belongs to this value; dropping it closes
/// the channel (and releases it for other programs: channels are exclusive). Reads and
/// writes never block; "would block" and "event pending" are [`ReadOutcome`] /
/// [`WriteOutcome`] values. Register [`AsFd`]/[`AsRawFd`] with `mio` or `poll` to wait:
/// audio readiness is `POLLIN`/`POLLOUT`, a pending event is `POLLPRI`.
///
/// # Real-time
/// [`Channel::read`], [`Channel::write`], [`Channel::get_event`] and [`Channel::hook`] do not
/// allocate, lock or log: one system call each. Everything else is setup.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
    target: Target,
    channo: u32,
    law: Law,
    kind: PortKind,
    /// Samples per read/write as last set (`DAHDI_SET_BLOCKSIZE`, or a `DAHDI_SET_BUFINFO`
    /// buffer size, which is the same thing in the kernel). Atomic so `set_buffers` can
    /// take `&self`.
    block: AtomicU32,
}

/// How a dial string is queued (`DAHDI_DIAL_OP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialMode {
    /// Cancel whatever is being dialled and dial this (`DAHDI_DIAL_OP_REPLACE`).
    Replace,
    /// Dial this after what is queued (`DAHDI_DIAL_OP_APPEND`).
    Append,
}

/// A tone the kernel can play on a channel (`DAHDI_SENDTONE`), from the loaded tone zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Tone {
    /// `DAHDI_TONE_DIALTONE`.
    Dial,
    /// `DAHDI_TONE_BUSY`.
    Busy,
    /// `DAHDI_TONE_RINGTONE` (ringback).
    Ringback,
    /// `DAHDI_TONE_CONGESTION`.
    Congestion,
    /// `DAHDI_TONE_CALLWAIT`.
    CallWaiting,
    /// `DAHDI_TONE_DIALRECALL`.
    DialRecall,
    /// `DAHDI_TONE_RECORDTONE`.
    Record,
    /// `DAHDI_TONE_INFO` (special information tone).
    Info,
    /// `DAHDI_TONE_STUTTER` (stutter dial tone).
    Stutter,
    /// `DAHDI_TONE_DTMF_*`: one DTMF digit, played until stopped.
    Dtmf(Digit),
}

impl Tone {
    fn code(self) -> c_int {
        use sys::tone as t;
        match self {
            Self::Dial => t::DIALTONE,
            Self::Busy => t::BUSY,
            Self::Ringback => t::RINGTONE,
            Self::Congestion => t::CONGESTION,
            Self::CallWaiting => t::CALLWAIT,
            Self::DialRecall => t::DIALRECALL,
            Self::Record => t::RECORDTONE,
            Self::Info => t::INFO,
            Self::Stutter => t::STUTTER,
            // DTMF_0..9 are 64..73, then *, #, A..D: the order of `Digit::ALL`.
            Self::Dtmf(d) => t::DTMF_BASE + d.index() as c_int,
        }
    }
}

/// What to throw away with [`Channel::flush`] (`DAHDI_FLUSH_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flush {
    /// Received audio not yet read.
    Read,
    /// Audio written but not yet sent.
    Write,
    /// Both audio directions.
    Both,
    /// Pending events.
    Events,
    /// Audio both ways and events.
    All,
}

/// Conditions for [`Channel::iomux`] (`DAHDI_IOMUX_*`), combinable with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IoMux(i32);

impl IoMux {
    /// Audio can be read.
    pub const READ: Self = Self(sys::iomuxval::READ);
    /// Audio can be written.
    pub const WRITE: Self = Self(sys::iomuxval::WRITE);
    /// Every written buffer has been sent.
    pub const WRITE_EMPTY: Self = Self(sys::iomuxval::WRITEEMPTY);
    /// A signalling event is pending.
    pub const SIGEVENT: Self = Self(sys::iomuxval::SIGEVENT);
    /// Do not wait: report what holds now.
    pub const NOWAIT: Self = Self(sys::iomuxval::NOWAIT);

    /// Whether every condition in `other` is set in `self`.
    ///
    /// ```
    /// use dahdi::IoMux;
    /// let m = IoMux::READ | IoMux::SIGEVENT;
    /// assert!(m.contains(IoMux::SIGEVENT) && !m.contains(IoMux::WRITE));
    /// assert_eq!(m.bits(), 9);
    /// ```
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw `DAHDI_IOMUX_*` bits.
    pub const fn bits(self) -> i32 {
        self.0
    }
}

impl core::ops::BitOr for IoMux {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// How a channel takes part in a kernel conference (`DAHDI_CONF_*`), for
/// [`Channel::set_conference`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfMode {
    /// Not in a conference (`DAHDI_CONF_NORMAL`).
    Normal,
    /// Hear what channel `n` receives (`DAHDI_CONF_MONITOR`).
    Monitor(u32),
    /// Hear what channel `n` transmits (`DAHDI_CONF_MONITORTX`).
    MonitorTx(u32),
    /// Hear both directions of channel `n` (`DAHDI_CONF_MONITORBOTH`).
    MonitorBoth(u32),
    /// Member of conference `conf` (`DAHDI_CONF_CONF`); `talker`: the others hear us,
    /// `listener`: we hear the others. Two channels in one conference as talker and
    /// listener are bridged in the kernel, with no audio through user space.
    Conference {
        /// Conference number (1..); see [`Channel::set_conference`] for 0.
        conf: u32,
        /// Our audio goes into the conference (`DAHDI_CONF_TALKER`).
        talker: bool,
        /// We hear the conference (`DAHDI_CONF_LISTENER`).
        listener: bool,
    },
    /// A digital monitor of channel `n` (`DAHDI_CONF_DIGITALMON`): its bytes, unmixed.
    DigitalMonitor(u32),
}

impl ConfMode {
    fn to_raw(self) -> sys::DahdiConfInfo {
        use sys::conf as c;
        let (confno, confmode) = match self {
            Self::Normal => (0, c::NORMAL),
            Self::Monitor(n) => (n as c_int, c::MONITOR),
            Self::MonitorTx(n) => (n as c_int, c::MONITORTX),
            Self::MonitorBoth(n) => (n as c_int, c::MONITORBOTH),
            Self::DigitalMonitor(n) => (n as c_int, c::DIGITALMON),
            Self::Conference {
                conf,
                talker,
                listener,
            } => {
                let mut m = c::CONF;
                if talker {
                    m |= c::TALKER;
                }
                if listener {
                    m |= c::LISTENER;
                }
                // -1 asks the kernel for the first free conference.
                (if conf == 0 { -1 } else { conf as c_int }, m)
            }
        };
        sys::DahdiConfInfo {
            chan: 0,
            confno,
            confmode,
        }
    }

    fn from_raw(ci: &sys::DahdiConfInfo) -> Option<Self> {
        use sys::conf as c;
        let n = ci.confno.max(0) as u32;
        Some(match ci.confmode & 0xFF {
            c::NORMAL => Self::Normal,
            c::MONITOR => Self::Monitor(n),
            c::MONITORTX => Self::MonitorTx(n),
            c::MONITORBOTH => Self::MonitorBoth(n),
            c::DIGITALMON => Self::DigitalMonitor(n),
            c::CONF | c::CONFANN | c::CONFMON | c::CONFANNMON | c::REALANDPSEUDO => {
                Self::Conference {
                    conf: n,
                    talker: ci.confmode & c::TALKER != 0,
                    listener: ci.confmode & c::LISTENER != 0,
                }
            }
            _ => return None,
        })
    }
}

/// Receive and transmit gain tables for [`Channel::set_gains`] (`struct dahdi_gains`).
///
/// Each table maps a companded sample (A-law or µ-law byte) to the byte to use instead.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Gains {
    /// Applied to received audio.
    pub rx: [u8; 256],
    /// Applied to transmitted audio.
    pub tx: [u8; 256],
}

impl core::fmt::Debug for Gains {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let unity = Self::unity();
        f.debug_struct("Gains")
            .field("rx_is_unity", &(self.rx == unity.rx))
            .field("tx_is_unity", &(self.tx == unity.tx))
            .finish()
    }
}

impl Gains {
    /// Tables that change nothing.
    ///
    /// ```
    /// assert_eq!(dahdi::Gains::unity().rx[0x2A], 0x2A);
    /// ```
    pub fn unity() -> Self {
        let mut t = [0u8; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = i as u8;
        }
        Self { rx: t, tx: t }
    }

    /// Tables that amplify by `rx_db` and `tx_db` (negative attenuates) for a channel in
    /// `law` (A-law or µ-law; linear channels use the channel's companding law underneath,
    /// so pass that).
    ///
    /// ```
    /// use dahdi::Gains;
    /// use tel_types::Law;
    /// let g = Gains::from_db(Law::ALaw, 0.0, -6.0);
    /// assert_eq!(g.rx, Gains::unity().rx);
    /// assert_ne!(g.tx, Gains::unity().tx);
    /// ```
    pub fn from_db(law: Law, rx_db: f32, tx_db: f32) -> Self {
        let table = |db: f32| {
            let k = 10f32.powf(db / 20.0);
            let mut t = [0u8; 256];
            for (i, v) in t.iter_mut().enumerate() {
                let x = f32::from(crate::g711::decode(law, i as u8)) * k;
                *v = crate::g711::encode(law, x.clamp(-32_768.0, 32_767.0) as i16);
            }
            t
        };
        let unity = Self::unity();
        Self {
            rx: if rx_db == 0.0 { unity.rx } else { table(rx_db) },
            tx: if tx_db == 0.0 { unity.tx } else { table(tx_db) },
        }
    }
}

fn law_of(curlaw: c_int) -> Law {
    if curlaw == sys::law::ALAW {
        Law::ALaw
    } else {
        Law::MuLaw
    }
}

impl Channel {
    /// Opens channel `channo` (`/dev/dahdi/channel` + `DAHDI_SPECIFY`), sets 20 ms blocks
    /// (160 samples) and reads its parameters. Audio is in the channel's configured law
    /// (A-law or µ-law, as `dahdi_cfg` set it) until [`Channel::set_law`].
    ///
    /// # Errors
    /// `EBUSY`: another program has the channel open. `ENXIO`: the channel is not
    /// configured (run `dahdi_cfg`). `ENOENT`: no DAHDI on this machine.
    ///
    /// ```no_run
    /// let ch = dahdi::Channel::open(1)?;
    /// println!("{} is a {:?}", ch.params()?.name, ch.params()?.signalling);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn open(channo: u16) -> Result<Self> {
        let target = Target::Channel(channo);
        if channo == 0 {
            return Err(Error::Invalid {
                op: "DAHDI_SPECIFY",
                target,
                reason: "channel numbers start at 1",
            });
        }
        let fd = open_dev("channel", target)?;
        sys::specify(fd.as_fd(), c_int::from(channo))
            .map_err(|e| Error::sys("DAHDI_SPECIFY", target, e))?;
        Self::init(fd, target)
    }

    /// Opens a new pseudo channel (`/dev/dahdi/pseudo`): a channel with no line, clocked by
    /// the DAHDI master span, used for conferences and as a 20 ms clock. Sets 20 ms blocks.
    ///
    /// # Errors
    /// `ENOENT`: no DAHDI on this machine.
    ///
    /// ```no_run
    /// let p = dahdi::Channel::open_pseudo()?;
    /// assert!(p.number() >= 32768);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn open_pseudo() -> Result<Self> {
        let fd = open_dev("pseudo", Target::Pseudo(None))?;
        Self::init(fd, Target::Pseudo(None))
    }

    fn init(fd: OwnedFd, mut target: Target) -> Result<Self> {
        sys::set_blocksize(fd.as_fd(), FRAME_SAMPLES as c_int)
            .map_err(|e| Error::sys("DAHDI_SET_BLOCKSIZE", target, e))?;
        let p =
            sys::get_params(fd.as_fd()).map_err(|e| Error::sys("DAHDI_GET_PARAMS", target, e))?;
        let channo = p.channo.max(0) as u32;
        if let Target::Pseudo(_) = target {
            target = Target::Pseudo(Some(channo));
        }
        let kind = if matches!(target, Target::Pseudo(_)) {
            PortKind::Clear
        } else {
            crate::params::Signalling::from_raw(p.sigtype).port_kind()
        };
        Ok(Self {
            fd,
            target,
            channo,
            law: law_of(p.curlaw),
            kind,
            block: AtomicU32::new(FRAME_SAMPLES as u32),
        })
    }

    /// The channel number (pseudo channels get numbers from 32768 up).
    ///
    /// ```no_run
    /// assert_eq!(dahdi::Channel::open(25)?.number(), 25);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn number(&self) -> u32 {
        self.channo
    }

    /// How audio is coded in [`Channel::read`] and [`Channel::write`].
    ///
    /// ```no_run
    /// let ch = dahdi::Channel::open(1)?;
    /// let frame_bytes = ch.law().frame_bytes(); // 160, or 320 in linear
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn law(&self) -> Law {
        self.law
    }

    fn err(&self, op: &'static str) -> impl FnOnce(Errno) -> Error + '_ {
        move |e| Error::sys(op, self.target, e)
    }

    /// Reads the channel's parameters (`DAHDI_GET_PARAMS`): number, span, position, name,
    /// signalling, hook state, alarms, timings.
    ///
    /// # Errors
    /// The kernel refused (the channel went away).
    ///
    /// ```no_run
    /// let p = dahdi::Channel::open(1)?.params()?;
    /// println!("span {} pos {} off-hook {:?} alarms {}", p.span, p.position, p.rx_hook, p.alarms);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn params(&self) -> Result<Params> {
        let p = sys::get_params(self.fd.as_fd()).map_err(self.err("DAHDI_GET_PARAMS"))?;
        Ok(Params::from_raw(&p))
    }

    /// Sets how many samples one read or write moves (`DAHDI_SET_BLOCKSIZE`). Channels open
    /// with 160 (20 ms); a linear block is twice as many bytes.
    ///
    /// # Errors
    /// `EINVAL` for sizes outside 16..=8192.
    ///
    /// ```no_run
    /// let mut ch = dahdi::Channel::open(1)?;
    /// ch.set_block_size(80)?; // 10 ms
    /// assert_eq!(ch.block_size()?, 80);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_block_size(&mut self, samples: u32) -> Result<()> {
        let n = c_int::try_from(samples).unwrap_or(c_int::MAX);
        sys::set_blocksize(self.fd.as_fd(), n).map_err(self.err("DAHDI_SET_BLOCKSIZE"))?;
        self.block.store(samples, Ordering::Relaxed);
        Ok(())
    }

    /// Sets the I/O block for a real-time loop: `samples` per read and write
    /// (`DAHDI_SET_BLOCKSIZE`), and as many buffers each way (`DAHDI_SET_BUFINFO`, policies
    /// left as they are, normally "immediate") as hold [`Channel::BUFFERED_MS`] of audio, at
    /// least DAHDI's default 2: 2 × 160 samples or 4 × 80. A loop may wake that late without
    /// losing received audio, and what it wrote ahead of the line may grow that long before
    /// a write would block.
    ///
    /// # Errors
    /// `EINVAL` for sizes outside 16..=8192.
    ///
    /// ```no_run
    /// use tel_types::board::VoiceChannel;
    /// let mut ch = dahdi::Channel::open(1)?;
    /// ch.set_io_block(80)?; // 10 ms blocks, 4 buffers each way
    /// assert_eq!(ch.block_samples(), 80);
    /// assert_eq!(ch.buffers()?.num_bufs, 4);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_io_block(&mut self, samples: u32) -> Result<()> {
        self.set_block_size(samples)?;
        let per_buffer = samples.max(1);
        let wanted = (Self::BUFFERED_MS * 8).div_ceil(per_buffer);
        let info = self.buffers()?;
        self.set_buffers(&BufferInfo {
            num_bufs: wanted.clamp(2, 32),
            buf_size: samples,
            ..info
        })
    }

    /// Audio each way [`Channel::set_io_block`] lets the kernel buffer, in milliseconds:
    /// what DAHDI's default of two 20 ms buffers holds.
    pub const BUFFERED_MS: u32 = 40;

    /// The samples one read or write moves (`DAHDI_GET_BLOCKSIZE`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// assert_eq!(dahdi::Channel::open(1)?.block_size()?, 160);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn block_size(&self) -> Result<u32> {
        sys::get_blocksize(self.fd.as_fd())
            .map(|n| n.max(0) as u32)
            .map_err(self.err("DAHDI_GET_BLOCKSIZE"))
    }

    /// Sets the buffering (`DAHDI_SET_BUFINFO`): how many blocks the kernel keeps each way
    /// and when it starts sending what we wrote.
    ///
    /// # Errors
    /// `EINVAL` for more than 32 buffers or a bad size.
    ///
    /// ```no_run
    /// use dahdi::{BufferInfo, BufferPolicy};
    /// let ch = dahdi::Channel::open(1)?;
    /// ch.set_buffers(&BufferInfo { tx_policy: BufferPolicy::HalfFull, num_bufs: 4, ..ch.buffers()? })?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_buffers(&self, info: &BufferInfo) -> Result<()> {
        sys::set_bufinfo(self.fd.as_fd(), &info.to_raw()).map_err(self.err("DAHDI_SET_BUFINFO"))?;
        // The kernel's block is the buffer size.
        self.block.store(info.buf_size, Ordering::Relaxed);
        Ok(())
    }

    /// The current buffering (`DAHDI_GET_BUFINFO`), including how many blocks are waiting.
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let b = dahdi::Channel::open(1)?.buffers()?;
    /// println!("{} buffers of {} bytes, {:?}", b.num_bufs, b.buf_size, b.tx_policy);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn buffers(&self) -> Result<BufferInfo> {
        let b = sys::get_bufinfo(self.fd.as_fd()).map_err(self.err("DAHDI_GET_BUFINFO"))?;
        Ok(BufferInfo::from_raw(&b))
    }

    /// Chooses how reads and writes are coded: [`Law::Linear`] is 16-bit little-endian
    /// linear (`DAHDI_SETLINEAR`, the kernel converts from the line's companding);
    /// [`Law::ALaw`]/[`Law::MuLaw`] set the channel's companding law (`DAHDI_SETLAW`) and
    /// move bytes as they are on the line. On a digital span use the span's law.
    ///
    /// # Errors
    /// `EINVAL`: linear on a clear channel.
    ///
    /// ```no_run
    /// use tel_types::Law;
    /// let mut ch = dahdi::Channel::open(1)?;
    /// ch.set_law(Law::Linear)?;
    /// assert_eq!(ch.law(), Law::Linear);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_law(&mut self, law: Law) -> Result<()> {
        let fd = self.fd.as_fd();
        match law {
            Law::Linear => sys::setlinear(fd, 1).map_err(self.err("DAHDI_SETLINEAR"))?,
            Law::ALaw | Law::MuLaw => {
                let code = if law == Law::ALaw {
                    sys::law::ALAW
                } else {
                    sys::law::MULAW
                };
                sys::setlaw(fd, code).map_err(self.err("DAHDI_SETLAW"))?;
                sys::setlinear(fd, 0)
                    .or_else(|e| if e == Errno::EINVAL { Ok(()) } else { Err(e) })
                    .map_err(self.err("DAHDI_SETLINEAR"))?;
            }
        }
        self.law = law;
        Ok(())
    }

    /// Sets receive/transmit gain tables (`DAHDI_SETGAINS`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// use tel_types::Law;
    /// let ch = dahdi::Channel::open(1)?;
    /// ch.set_gains(&dahdi::Gains::from_db(Law::ALaw, 3.0, 0.0))?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_gains(&self, gains: &Gains) -> Result<()> {
        let g = sys::DahdiGains {
            chan: 0,
            rxgain: gains.rx,
            txgain: gains.tx,
        };
        sys::setgains(self.fd.as_fd(), &g).map_err(self.err("DAHDI_SETGAINS"))
    }

    /// The current gain tables (`DAHDI_GETGAINS`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let g = dahdi::Channel::open(1)?.gains()?;
    /// assert_eq!(g, dahdi::Gains::unity());
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn gains(&self) -> Result<Gains> {
        let g = sys::getgains(self.fd.as_fd()).map_err(self.err("DAHDI_GETGAINS"))?;
        Ok(Gains {
            rx: g.rxgain,
            tx: g.txgain,
        })
    }

    /// Reads at most one block of received audio without blocking.
    ///
    /// `buf` should hold a whole block ([`Law::frame_bytes`] for 20 ms): the kernel hands
    /// out one block per read and drops what does not fit.
    ///
    /// # Errors
    /// Only failures that make the channel unusable; "would block" (`EAGAIN`) and "event
    /// pending" (errno 500) are [`ReadOutcome`] values.
    ///
    /// ```no_run
    /// use tel_types::board::ReadOutcome;
    /// let mut ch = dahdi::Channel::open(1)?;
    /// let mut buf = [0u8; 160];
    /// match ch.read(&mut buf)? {
    ///     ReadOutcome::Data(n) => println!("{n} bytes"),
    ///     ReadOutcome::EventPending => println!("event: {:?}", ch.get_event()?),
    ///     ReadOutcome::WouldBlock => {}
    /// }
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        match sys::read(self.fd.as_fd(), buf) {
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(libc::EAGAIN | libc::EINTR) => Ok(ReadOutcome::WouldBlock),
            Err(sys::ELAST) => Ok(ReadOutcome::EventPending),
            Err(errno) => Err(Error::Sys {
                op: "read",
                target: self.target,
                errno,
            }),
        }
    }

    /// Queues one block for transmission without blocking.
    ///
    /// # Errors
    /// Only failures that make the channel unusable; "would block" and "event pending"
    /// are [`WriteOutcome`] values. Note that writing stops a tone or dial string the kernel
    /// is playing.
    ///
    /// ```no_run
    /// use tel_types::board::WriteOutcome;
    /// let mut ch = dahdi::Channel::open(1)?;
    /// let silence = [0xD5u8; 160]; // A-law
    /// if ch.write(&silence)? == WriteOutcome::EventPending {
    ///     let _ = ch.get_event()?;
    /// }
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn write(&mut self, buf: &[u8]) -> Result<WriteOutcome> {
        match sys::write(self.fd.as_fd(), buf) {
            Ok(n) => Ok(WriteOutcome::Written(n)),
            Err(libc::EAGAIN | libc::EINTR) => Ok(WriteOutcome::WouldBlock),
            Err(sys::ELAST) => Ok(WriteOutcome::EventPending),
            Err(errno) => Err(Error::Sys {
                op: "write",
                target: self.target,
                errno,
            }),
        }
    }

    /// Takes the next pending signalling event (`DAHDI_GETEVENT`), or `None`.
    ///
    /// # Errors
    /// The kernel refused (the channel went away).
    ///
    /// ```no_run
    /// let ch = dahdi::Channel::open(1)?;
    /// while let Some(ev) = ch.get_event()? {
    ///     println!("{ev:?}");
    /// }
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn get_event(&self) -> Result<Option<Event>> {
        match sys::getevent(self.fd.as_fd()) {
            Ok(sys::event::NONE) => Ok(None),
            Ok(code) => Ok(Some(Event::from_code(code))),
            Err(e) => Err(Error::sys("DAHDI_GETEVENT", self.target, e)),
        }
    }

    /// Changes the hook state (`DAHDI_HOOK`): answer/seize, hang up, flash, wink, start,
    /// ring a station or stop ringing it.
    ///
    /// Flash and wink take time; as the fd is non-blocking the kernel answers them with
    /// `EINPROGRESS`, which this treats as accepted.
    ///
    /// # Errors
    /// `EBUSY`: a flash within the off-hook debounce (600 ms by default), or ring/start/wink
    /// while not on-hook. `ENODATA`: ring/start with no tone zone loaded. `EINVAL`: the
    /// channel has no hook (clear, CAS, pseudo).
    ///
    /// ```no_run
    /// use tel_types::Hook;
    /// let ch = dahdi::Channel::open(25)?;
    /// ch.hook(Hook::OffHook)?; // answer
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn hook(&self, hook: Hook) -> Result<()> {
        use sys::hookval as h;
        let v = match hook {
            Hook::OnHook => h::ONHOOK,
            Hook::OffHook => h::OFFHOOK,
            Hook::Wink => h::WINK,
            Hook::Flash => h::FLASH,
            Hook::Start => h::START,
            Hook::Ring => h::RING,
            Hook::RingOff => h::RINGOFF,
            _ => {
                return Err(Error::Invalid {
                    op: "DAHDI_HOOK",
                    target: self.target,
                    reason: "hook command unknown to this driver",
                });
            }
        };
        match sys::hook(self.fd.as_fd(), v) {
            Ok(()) | Err(Errno::EINPROGRESS) => Ok(()),
            Err(e) => Err(Error::sys("DAHDI_HOOK", self.target, e)),
        }
    }

    /// Has the kernel dial `digits` (`DAHDI_DIAL`): `T` switches to DTMF, `P` to pulse,
    /// `w` waits; a `DialComplete` event follows.
    ///
    /// # Errors
    /// An over-long (more than 255 bytes) or non-ASCII string; the kernel refused.
    ///
    /// ```no_run
    /// use dahdi::DialMode;
    /// let ch = dahdi::Channel::open(25)?;
    /// ch.dial("T4008123456", DialMode::Replace)?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn dial(&self, digits: &str, mode: DialMode) -> Result<()> {
        let invalid = |reason| Error::Invalid {
            op: "DAHDI_DIAL",
            target: self.target,
            reason,
        };
        if digits.len() >= sys::DAHDI_MAX_DTMF_BUF {
            return Err(invalid("dial string longer than 255 characters"));
        }
        if !digits.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("dial string must be printable ASCII"));
        }
        let mut op = sys::DahdiDialOperation {
            op: match mode {
                DialMode::Replace => sys::dialop::REPLACE,
                DialMode::Append => sys::dialop::APPEND,
            },
            dialstr: [0; sys::DAHDI_MAX_DTMF_BUF],
        };
        for (d, s) in op.dialstr.iter_mut().zip(digits.bytes()) {
            *d = s as libc::c_char;
        }
        sys::dial(self.fd.as_fd(), &op).map_err(self.err("DAHDI_DIAL"))
    }

    /// Cancels dialling (`DAHDI_DIAL` with `DAHDI_DIAL_OP_CANCEL`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// dahdi::Channel::open(25)?.cancel_dial()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn cancel_dial(&self) -> Result<()> {
        let op = sys::DahdiDialOperation {
            op: sys::dialop::CANCEL,
            dialstr: [0; sys::DAHDI_MAX_DTMF_BUF],
        };
        sys::dial(self.fd.as_fd(), &op).map_err(self.err("DAHDI_DIAL"))
    }

    /// Whether a dial string is still being sent (`DAHDI_DIALING`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let dialling = dahdi::Channel::open(25)?.is_dialing()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn is_dialing(&self) -> Result<bool> {
        sys::dialing(self.fd.as_fd())
            .map(|v| v != 0)
            .map_err(self.err("DAHDI_DIALING"))
    }

    /// Plays a tone from the loaded tone zone (`DAHDI_SENDTONE`), or stops it with `None`.
    /// Writing audio also stops it.
    ///
    /// # Errors
    /// `ENODATA`: no tone zone loaded.
    ///
    /// ```no_run
    /// use dahdi::Tone;
    /// let ch = dahdi::Channel::open(1)?;
    /// ch.send_tone(Some(Tone::Dial))?;
    /// ch.send_tone(None)?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn send_tone(&self, tone: Option<Tone>) -> Result<()> {
        let code = tone.map_or(sys::tone::STOP, Tone::code);
        sys::sendtone(self.fd.as_fd(), code).map_err(self.err("DAHDI_SENDTONE"))
    }

    /// Waits until one of the conditions in `mask` holds (`DAHDI_IOMUX`) and returns those
    /// that do. **Blocks** unless `mask` contains [`IoMux::NOWAIT`]; not for the audio
    /// thread, which polls the fd instead.
    ///
    /// # Errors
    /// `EINTR` when a signal arrived; the kernel refused.
    ///
    /// ```no_run
    /// use dahdi::IoMux;
    /// let ch = dahdi::Channel::open(1)?;
    /// let ready = ch.iomux(IoMux::READ | IoMux::SIGEVENT)?;
    /// if ready.contains(IoMux::SIGEVENT) { let _ = ch.get_event()?; }
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn iomux(&self, mask: IoMux) -> Result<IoMux> {
        sys::iomux(self.fd.as_fd(), mask.0)
            .map(IoMux)
            .map_err(self.err("DAHDI_IOMUX"))
    }

    /// Throws away buffered audio and/or events (`DAHDI_FLUSH`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// dahdi::Channel::open(1)?.flush(dahdi::Flush::All)?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn flush(&self, what: Flush) -> Result<()> {
        use sys::flushval as f;
        let v = match what {
            Flush::Read => f::READ,
            Flush::Write => f::WRITE,
            Flush::Both => f::READ | f::WRITE,
            Flush::Events => f::EVENT,
            Flush::All => f::READ | f::WRITE | f::EVENT,
        };
        sys::flush(self.fd.as_fd(), v).map_err(self.err("DAHDI_FLUSH"))
    }

    /// Asks for `ReadOverrun`/`WriteUnderrun` events when audio is lost
    /// (`DAHDI_BUFFER_EVENTS`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// dahdi::Channel::open(1)?.set_buffer_events(true)?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_buffer_events(&self, on: bool) -> Result<()> {
        sys::buffer_events(self.fd.as_fd(), c_int::from(on))
            .map_err(self.err("DAHDI_BUFFER_EVENTS"))
    }

    /// Puts the channel into a conference or monitor mode (`DAHDI_SETCONF`) and returns the
    /// conference number the kernel used. With `conf: 0` in [`ConfMode::Conference`] the
    /// kernel picks a free conference.
    ///
    /// Bridging two channels in the kernel: put both in the same conference as talker and
    /// listener; audio then flows between them without passing through user space.
    ///
    /// # Errors
    /// `EINVAL`: bad mode or conference number; `EBUSY`/`ENOSPC`: no free conference.
    ///
    /// ```no_run
    /// use dahdi::ConfMode;
    /// let a = dahdi::Channel::open(1)?;
    /// let b = dahdi::Channel::open(2)?;
    /// let conf = a.set_conference(ConfMode::Conference { conf: 0, talker: true, listener: true })?;
    /// b.set_conference(ConfMode::Conference { conf, talker: true, listener: true })?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_conference(&self, mode: ConfMode) -> Result<u32> {
        let mut ci = mode.to_raw();
        sys::setconf(self.fd.as_fd(), &mut ci).map_err(self.err("DAHDI_SETCONF"))?;
        Ok(ci.confno.max(0) as u32)
    }

    /// The channel's conference mode (`DAHDI_GETCONF`); `None` for a mode this crate does
    /// not name.
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let mode = dahdi::Channel::open(1)?.conference()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn conference(&self) -> Result<Option<ConfMode>> {
        let mut ci = sys::DahdiConfInfo::default();
        sys::getconf(self.fd.as_fd(), &mut ci).map_err(self.err("DAHDI_GETCONF"))?;
        Ok(ConfMode::from_raw(&ci))
    }

    /// Links conference `a` with conference `b` so each hears the other
    /// (`DAHDI_CONFLINK`), or unlinks them with `link: false`.
    ///
    /// Debian's DAHDI 2.11.1 is built without `CONFIG_DAHDI_CONFLINK`, so there this fails
    /// with `ENOSYS` ("not supported"); bridge with [`Channel::set_conference`] instead.
    ///
    /// # Errors
    /// `ENOSYS`: conference links compiled out; `EINVAL`: a conference number out of range.
    ///
    /// ```no_run
    /// let p = dahdi::Channel::open_pseudo()?;
    /// p.conf_link(1, 2, true)?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn conf_link(&self, a: u32, b: u32, link: bool) -> Result<()> {
        if a == 0 || b == 0 {
            // The kernel reads (0, 0) as "clear every link in the system".
            return Err(Error::Invalid {
                op: "DAHDI_CONFLINK",
                target: self.target,
                reason: "conference numbers start at 1",
            });
        }
        let ci = sys::DahdiConfInfo {
            chan: a as c_int,
            confno: b as c_int,
            confmode: c_int::from(link),
        };
        sys::conflink(self.fd.as_fd(), &ci).map_err(self.err("DAHDI_CONFLINK"))
    }

    /// Sets the echo canceller (`DAHDI_ECHOCANCEL_PARAMS`): `taps` samples of echo tail
    /// (128 = 16 ms; 0 disables), with up to 8 named parameters for the canceller module.
    ///
    /// # Errors
    /// More than 8 parameters or a name over 15 bytes; `EINVAL`/`ENODEV` when no echo
    /// canceller is attached (`echocanceller=` in system.conf).
    ///
    /// ```no_run
    /// let ch = dahdi::Channel::open(1)?;
    /// ch.set_echo_canceller(128, &[])?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn set_echo_canceller(&self, taps: u32, params: &[(&str, i32)]) -> Result<()> {
        let invalid = |reason| Error::Invalid {
            op: "DAHDI_ECHOCANCEL_PARAMS",
            target: self.target,
            reason,
        };
        if params.len() > sys::DAHDI_MAX_ECHOCANPARAMS {
            return Err(invalid("more than 8 echo canceller parameters"));
        }
        let mut block = sys::EchoCanBlock {
            header: sys::DahdiEchoCanParams {
                tap_length: taps,
                param_count: params.len() as u32,
            },
            ..Default::default()
        };
        for (slot, (name, value)) in block.params.iter_mut().zip(params) {
            if name.len() >= slot.name.len() {
                return Err(invalid(
                    "echo canceller parameter name longer than 15 bytes",
                ));
            }
            for (d, s) in slot.name.iter_mut().zip(name.bytes()) {
                *d = s as libc::c_char;
            }
            slot.value = *value;
        }
        sys::echocancel_params(self.fd.as_fd(), &block).map_err(self.err("DAHDI_ECHOCANCEL_PARAMS"))
    }

    /// Turns the echo canceller off (`DAHDI_ECHOCANCEL_PARAMS` with no taps).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// dahdi::Channel::open(1)?.disable_echo_canceller()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn disable_echo_canceller(&self) -> Result<()> {
        self.set_echo_canceller(0, &[])
    }
}

fn open_dev(name: &'static str, target: Target) -> Result<OwnedFd> {
    let op = match name {
        "channel" => "open /dev/dahdi/channel",
        "pseudo" => "open /dev/dahdi/pseudo",
        "timer" => "open /dev/dahdi/timer",
        _ => "open /dev/dahdi/ctl",
    };
    let path = format!("{DEV_DIR}/{name}");
    nix::fcntl::open(
        path.as_str(),
        OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::sys(op, target, e))
}

pub(crate) fn open_device(name: &'static str, target: Target) -> Result<OwnedFd> {
    open_dev(name, target)
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Channel {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl VoiceChannel for Channel {
    type Error = Error;

    fn number(&self) -> u16 {
        u16::try_from(self.channo).unwrap_or(u16::MAX)
    }

    fn port_kind(&self) -> PortKind {
        self.kind
    }

    fn law(&self) -> Law {
        self.law
    }

    fn block_samples(&self) -> usize {
        self.block.load(Ordering::Relaxed) as usize
    }

    fn read_frame(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        self.read(buf)
    }

    fn write_frame(&mut self, buf: &[u8]) -> Result<WriteOutcome> {
        self.write(buf)
    }

    fn next_event(&mut self) -> Result<Option<LineEvent>> {
        Ok(self.get_event()?.map(LineEvent::from))
    }

    fn set_hook(&mut self, hook: Hook) -> Result<()> {
        self.hook(hook)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_codes_follow_user_h() {
        assert_eq!(Tone::Dial.code(), 0);
        assert_eq!(Tone::Stutter.code(), 10);
        assert_eq!(Tone::Dtmf(Digit::D0).code(), 64);
        assert_eq!(Tone::Dtmf(Digit::D9).code(), 73);
        assert_eq!(Tone::Dtmf(Digit::Star).code(), 74);
        assert_eq!(Tone::Dtmf(Digit::Hash).code(), 75);
        assert_eq!(Tone::Dtmf(Digit::A).code(), 76);
        assert_eq!(Tone::Dtmf(Digit::D).code(), 79);
    }

    #[test]
    fn conf_modes_round_trip() {
        for m in [
            ConfMode::Normal,
            ConfMode::Monitor(3),
            ConfMode::MonitorTx(4),
            ConfMode::MonitorBoth(5),
            ConfMode::DigitalMonitor(6),
            ConfMode::Conference {
                conf: 7,
                talker: true,
                listener: false,
            },
            ConfMode::Conference {
                conf: 8,
                talker: true,
                listener: true,
            },
        ] {
            assert_eq!(ConfMode::from_raw(&m.to_raw()), Some(m));
        }
        let raw = ConfMode::Conference {
            conf: 2,
            talker: true,
            listener: true,
        }
        .to_raw();
        assert_eq!(raw.confmode, 0x304);
        assert_eq!(raw.confno, 2);
    }

    #[test]
    fn iomux_flags() {
        let m = IoMux::READ | IoMux::SIGEVENT;
        assert_eq!(m.bits(), 9);
        assert!(m.contains(IoMux::READ) && !m.contains(IoMux::WRITE));
    }

    #[test]
    fn gains_tables() {
        let u = Gains::unity();
        assert_eq!(u.rx[0x55], 0x55);
        for law in [Law::ALaw, Law::MuLaw] {
            let g = Gains::from_db(law, 6.0, -6.0);
            // A mid-level code gets about twice / half as loud.
            let code = crate::g711::encode(law, 4000);
            let up = crate::g711::decode(law, g.rx[code as usize]);
            let down = crate::g711::decode(law, g.tx[code as usize]);
            assert!((7200..=8800).contains(&up), "{law:?} +6 dB: {up}");
            assert!((1800..=2200).contains(&down), "{law:?} -6 dB: {down}");
        }
    }

    #[test]
    fn opening_without_dahdi_names_the_problem() {
        if std::path::Path::new("/dev/dahdi").exists() {
            return;
        }
        let e = Channel::open(1).unwrap_err();
        assert_eq!(e.errno(), Some(Errno::ENOENT));
        assert!(
            e.to_string()
                .starts_with("channel 1: open /dev/dahdi/channel: device node missing")
        );
        assert!(
            Channel::open(0)
                .unwrap_err()
                .to_string()
                .contains("start at 1")
        );
    }
}
