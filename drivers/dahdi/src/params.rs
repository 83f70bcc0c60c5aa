//! Channel parameters and buffering, as plain Rust values.

use core::fmt;

use libc::c_int;
use tel_types::Law;
use tel_types::board::PortKind;

use crate::sys;

/// How a channel signals (`DAHDI_SIG_*`), as `dahdi_cfg` configured it.
///
/// Note DAHDI's naming: an `Fxs*` signalled channel *behaves like a phone*, so it is an
/// FXO port on the card (a trunk from the exchange); an `Fxo*` signalled channel is an FXS
/// port (an agent's phone hangs on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signalling {
    /// Not configured (`DAHDI_SIG_NONE`).
    None,
    /// FXS loop start (`fxsls`): a trunk port.
    FxsLs,
    /// FXS ground start (`fxsgs`): a trunk port.
    FxsGs,
    /// FXS kewlstart (`fxsks`): a trunk port.
    FxsKs,
    /// FXO loop start (`fxols`): a station port.
    FxoLs,
    /// FXO ground start (`fxogs`): a station port.
    FxoGs,
    /// FXO kewlstart (`fxoks`): a station port.
    FxoKs,
    /// E&M (`DAHDI_SIG_EM`).
    Em,
    /// E&M E1 (`DAHDI_SIG_EM_E1`).
    EmE1,
    /// Clear channel: bytes pass unchanged (`DAHDI_SIG_CLEAR`).
    Clear,
    /// Raw CAS bits (`DAHDI_SIG_CAS`).
    Cas,
    /// Single frequency (`DAHDI_SIG_SF`).
    Sf,
    /// Cross-connect (`DAHDI_SIG_DACS`, `DAHDI_SIG_DACS_RBS`).
    Dacs,
    /// HDLC data (`DAHDI_SIG_HDLCRAW`, `HDLCFCS`, `HDLCNET`, `HARDHDLC`, `MTP2`).
    Hdlc,
    /// A slave channel of a bonded group (`DAHDI_SIG_SLAVE`).
    Slave,
    /// Another value, raw.
    Other(i32),
}

impl Signalling {
    pub(crate) fn from_raw(v: c_int) -> Self {
        use sys::sig as s;
        match v {
            s::NONE => Self::None,
            s::FXSLS => Self::FxsLs,
            s::FXSGS => Self::FxsGs,
            s::FXSKS => Self::FxsKs,
            s::FXOLS => Self::FxoLs,
            s::FXOGS => Self::FxoGs,
            s::FXOKS => Self::FxoKs,
            s::EM => Self::Em,
            s::EM_E1 => Self::EmE1,
            s::CLEAR => Self::Clear,
            s::CAS => Self::Cas,
            s::SF => Self::Sf,
            s::DACS | s::DACS_RBS => Self::Dacs,
            s::HDLCRAW | s::HDLCFCS | s::HDLCNET | s::HARDHDLC | s::MTP2 => Self::Hdlc,
            s::SLAVE => Self::Slave,
            other => Self::Other(other),
        }
    }

    /// What kind of port this is from the IVR's point of view.
    ///
    /// ```
    /// use dahdi::Signalling;
    /// use tel_types::board::PortKind;
    /// assert_eq!(Signalling::FxsKs.port_kind(), PortKind::FxoTrunk);
    /// assert_eq!(Signalling::FxoKs.port_kind(), PortKind::FxsStation);
    /// ```
    pub fn port_kind(self) -> PortKind {
        match self {
            Self::FxsLs | Self::FxsGs | Self::FxsKs => PortKind::FxoTrunk,
            Self::FxoLs | Self::FxoGs | Self::FxoKs => PortKind::FxsStation,
            Self::Em | Self::EmE1 | Self::Cas | Self::Sf | Self::Dacs => PortKind::Digital,
            _ => PortKind::Clear,
        }
    }
}

/// The hook state a channel receives (`rxisoffhook`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookState {
    /// On-hook (idle).
    OnHook,
    /// Off-hook (on an FXO-signalled channel: the phone is lifted; on an FXS-signalled one:
    /// the line is looped / ringing detected, depending on the card).
    OffHook,
}

/// Span or channel alarms (`DAHDI_ALARM_*` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Alarms(pub u32);

impl Alarms {
    /// No alarm.
    pub const NONE: Self = Self(0);
    /// Recovering from an alarm.
    pub const RECOVER: Self = Self(sys::alarm::RECOVER);
    /// In loopback.
    pub const LOOPBACK: Self = Self(sys::alarm::LOOPBACK);
    /// Yellow alarm (remote alarm indication).
    pub const YELLOW: Self = Self(sys::alarm::YELLOW);
    /// Red alarm (loss of signal or framing).
    pub const RED: Self = Self(sys::alarm::RED);
    /// Blue alarm (AIS: all ones received).
    pub const BLUE: Self = Self(sys::alarm::BLUE);
    /// The span is not open (not configured or not started).
    pub const NOT_OPEN: Self = Self(sys::alarm::NOTOPEN);
    /// Loss of signal.
    pub const LOS: Self = Self(sys::alarm::LOS);
    /// Loss of frame alignment.
    pub const LFA: Self = Self(sys::alarm::LFA);
    /// Loss of multiframe alignment.
    pub const LMFA: Self = Self(sys::alarm::LMFA);

    /// Whether there is no alarm.
    ///
    /// ```
    /// use dahdi::Alarms;
    /// assert!(Alarms::NONE.is_clear());
    /// let a = Alarms(Alarms::RED.0 | Alarms::LOS.0);
    /// assert!(a.contains(Alarms::RED));
    /// assert_eq!(a.to_string(), "RED+LOS");
    /// ```
    pub const fn is_clear(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for Alarms {
    /// `OK` or the alarm names, e.g. `RED+LOS`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clear() {
            return f.write_str("OK");
        }
        let names = [
            (Self::RECOVER, "RECOVER"),
            (Self::LOOPBACK, "LOOPBACK"),
            (Self::YELLOW, "YELLOW"),
            (Self::RED, "RED"),
            (Self::BLUE, "BLUE"),
            (Self::NOT_OPEN, "NOTOPEN"),
            (Self::LOS, "LOS"),
            (Self::LFA, "LFA"),
            (Self::LMFA, "LMFA"),
        ];
        let mut rest = self.0;
        let mut first = true;
        for (a, name) in names {
            if self.contains(a) {
                if !first {
                    f.write_str("+")?;
                }
                f.write_str(name)?;
                first = false;
                rest &= !a.0;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str("+")?;
            }
            write!(f, "{rest:#x}")?;
        }
        Ok(())
    }
}

/// Hook-signalling timings of a channel, in ms (from `system.conf` or the driver defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HookTimes {
    /// Wait before sending a wink.
    pub prewink_ms: i32,
    /// Wait before sending a flash.
    pub preflash_ms: i32,
    /// Length of a wink we send.
    pub wink_ms: i32,
    /// Length of a flash we send.
    pub flash_ms: i32,
    /// Length of a start signal.
    pub start_ms: i32,
    /// Longest received wink.
    pub rx_wink_ms: i32,
    /// Longest received flash; a longer on-hook is a hangup, so on-hook is reported only
    /// after this much on-hook time.
    pub rx_flash_ms: i32,
    /// Hook debounce; a flash is refused for this long after going off-hook.
    pub debounce_ms: i32,
    /// Dial-pulse break.
    pub pulse_break_ms: i32,
    /// Dial-pulse make.
    pub pulse_make_ms: i32,
    /// Pause after a pulse digit.
    pub pulse_after_ms: i32,
}

/// A channel's parameters (`struct dahdi_params` from `DAHDI_GET_PARAMS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Channel number.
    pub channo: u32,
    /// Span number.
    pub span: u32,
    /// Position of the channel within its span (1-based).
    pub position: u32,
    /// The driver's name for the channel, e.g. `WCTDM/0/3` or `DYN/loc/1:0/1`.
    pub name: String,
    /// Configured signalling.
    pub signalling: Signalling,
    /// The raw `sigtype` (`DAHDI_SIG_*`).
    pub sigtype: i32,
    /// Signalling types the hardware can do (`DAHDI_SIG_*` bits).
    pub sigcap: i32,
    /// The hook state received from the line.
    pub rx_hook: HookState,
    /// Received CAS/RBS bits (ABCD).
    pub rx_bits: i32,
    /// Transmitted CAS/RBS bits.
    pub tx_bits: i32,
    /// The channel's companding law (what the line carries), if known.
    pub law: Option<Law>,
    /// Idle CAS bits.
    pub idle_bits: i32,
    /// Signalling timings.
    pub times: HookTimes,
    /// The channel's alarms (those of its span).
    pub alarms: Alarms,
}

impl Params {
    pub(crate) fn from_raw(p: &sys::DahdiParams) -> Self {
        Self {
            channo: p.channo.max(0) as u32,
            span: p.spanno.max(0) as u32,
            position: p.chanpos.max(0) as u32,
            name: sys::c_str(&p.name),
            signalling: Signalling::from_raw(p.sigtype),
            sigtype: p.sigtype,
            sigcap: p.sigcap,
            rx_hook: if p.rxisoffhook != 0 {
                HookState::OffHook
            } else {
                HookState::OnHook
            },
            rx_bits: p.rxbits,
            tx_bits: p.txbits,
            law: match p.curlaw {
                sys::law::MULAW => Some(Law::MuLaw),
                sys::law::ALAW => Some(Law::ALaw),
                _ => None,
            },
            idle_bits: p.idlebits,
            times: HookTimes {
                prewink_ms: p.prewinktime,
                preflash_ms: p.preflashtime,
                wink_ms: p.winktime,
                flash_ms: p.flashtime,
                start_ms: p.starttime,
                rx_wink_ms: p.rxwinktime,
                rx_flash_ms: p.rxflashtime,
                debounce_ms: p.debouncetime,
                pulse_break_ms: p.pulsebreaktime,
                pulse_make_ms: p.pulsemaketime,
                pulse_after_ms: p.pulseaftertime,
            },
            alarms: Alarms(p.chan_alarms),
        }
    }
}

/// When the kernel starts sending what we wrote, or hands us what it received
/// (`DAHDI_POLICY_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufferPolicy {
    /// As soon as one block is there (lowest latency; the default).
    Immediate,
    /// Only once every buffer is full (most slack against scheduling jitter).
    WhenFull,
    /// Once half the buffers are full.
    HalfFull,
}

impl BufferPolicy {
    fn to_raw(self) -> c_int {
        match self {
            Self::Immediate => sys::policy::IMMEDIATE,
            Self::WhenFull => sys::policy::WHEN_FULL,
            Self::HalfFull => sys::policy::HALF_FULL,
        }
    }

    fn from_raw(v: c_int) -> Self {
        match v {
            sys::policy::WHEN_FULL => Self::WhenFull,
            sys::policy::HALF_FULL => Self::HalfFull,
            _ => Self::Immediate,
        }
    }
}

/// A channel's buffering (`struct dahdi_bufferinfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BufferInfo {
    /// Transmit policy.
    pub tx_policy: BufferPolicy,
    /// Receive policy.
    pub rx_policy: BufferPolicy,
    /// Buffers each way (1..=32).
    pub num_bufs: u32,
    /// Bytes per buffer (law-coded samples; the block size).
    pub buf_size: u32,
    /// Read only: received buffers waiting to be read.
    pub read_bufs: u32,
    /// Read only: written buffers waiting to be sent.
    pub write_bufs: u32,
}

impl BufferInfo {
    pub(crate) fn to_raw(self) -> sys::DahdiBufferInfo {
        sys::DahdiBufferInfo {
            txbufpolicy: self.tx_policy.to_raw(),
            rxbufpolicy: self.rx_policy.to_raw(),
            numbufs: c_int::try_from(self.num_bufs).unwrap_or(c_int::MAX),
            bufsize: c_int::try_from(self.buf_size).unwrap_or(c_int::MAX),
            readbufs: 0,
            writebufs: 0,
        }
    }

    pub(crate) fn from_raw(b: &sys::DahdiBufferInfo) -> Self {
        Self {
            tx_policy: BufferPolicy::from_raw(b.txbufpolicy),
            rx_policy: BufferPolicy::from_raw(b.rxbufpolicy),
            num_bufs: b.numbufs.max(0) as u32,
            buf_size: b.bufsize.max(0) as u32,
            read_bufs: b.readbufs.max(0) as u32,
            write_bufs: b.writebufs.max(0) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarms_read_like_dahdi_tool() {
        assert_eq!(Alarms::NONE.to_string(), "OK");
        assert_eq!(Alarms(8 | 256).to_string(), "RED+LOS");
        assert_eq!(Alarms(0x8000).to_string(), "0x8000");
    }

    #[test]
    fn signalling_and_port_kind() {
        assert_eq!(Signalling::from_raw(0x2004), Signalling::FxsKs);
        assert_eq!(Signalling::from_raw(0x1020), Signalling::FxoKs);
        assert_eq!(Signalling::from_raw(0x80), Signalling::Clear);
        assert_eq!(Signalling::from_raw(0x80).port_kind(), PortKind::Clear);
        assert_eq!(Signalling::from_raw(0x8000).port_kind(), PortKind::Digital);
        assert_eq!(Signalling::from_raw(0x7777), Signalling::Other(0x7777));
    }

    #[test]
    fn params_from_raw() {
        let mut p = sys::DahdiParams::zeroed();
        p.channo = 25;
        p.spanno = 2;
        p.chanpos = 1;
        p.sigtype = 0x2004;
        p.rxisoffhook = 1;
        p.curlaw = 2;
        p.rxflashtime = 1250;
        for (d, s) in p.name.iter_mut().zip(b"DYN/loc/1:1/1") {
            *d = *s as libc::c_char;
        }
        let q = Params::from_raw(&p);
        assert_eq!(q.name, "DYN/loc/1:1/1");
        assert_eq!((q.channo, q.span, q.position), (25, 2, 1));
        assert_eq!(q.rx_hook, HookState::OffHook);
        assert_eq!(q.law, Some(Law::ALaw));
        assert_eq!(q.times.rx_flash_ms, 1250);
        assert!(q.alarms.is_clear());
    }

    #[test]
    fn buffer_info_round_trip() {
        let b = BufferInfo {
            tx_policy: BufferPolicy::HalfFull,
            rx_policy: BufferPolicy::Immediate,
            num_bufs: 4,
            buf_size: 160,
            read_bufs: 0,
            write_bufs: 0,
        };
        assert_eq!(BufferInfo::from_raw(&b.to_raw()), b);
        assert_eq!(b.to_raw().txbufpolicy, 2);
    }
}
