//! Line signalling: what a board reports about a line, and what we tell it to do.

use crate::Digit;

/// A hook-state command for a channel (DAHDI's `DAHDI_HOOK` values, in words).
///
/// On a trunk (FXO port) `OffHook` answers or seizes and `OnHook` releases; on an agent
/// station (FXS port) `Ring`/`RingOff` ring the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Hook {
    /// Release the line (hang up).
    OnHook,
    /// Seize or answer the line.
    OffHook,
    /// A wink (E&M start signal).
    Wink,
    /// A hook flash (transfer or recall on a trunk).
    Flash,
    /// Start signal (ground/loop start).
    Start,
    /// Start ringing a station with the zone's cadence.
    Ring,
    /// Stop ringing a station.
    RingOff,
}

/// A signalling event a board reports on a channel.
///
/// These are the board's own observations (DAHDI's `DAHDI_EVENT_*`, or the simulated card's
/// equivalents). What the audio tells us (digits heard in-band, busy tone, caller ID) comes
/// from the media pipeline as a [`crate::MediaEvent`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LineEvent {
    /// A ring burst began on a trunk (`DAHDI_EVENT_RINGBEGIN`).
    RingBegin,
    /// On a trunk: ringing detected (one per burst). On a station: the phone went off-hook,
    /// or a station being rung answered (`DAHDI_EVENT_RINGOFFHOOK`).
    RingOffHook,
    /// The far end or the station went on-hook (`DAHDI_EVENT_ONHOOK`).
    OnHook,
    /// A wink or hook flash (`DAHDI_EVENT_WINKFLASH`).
    WinkFlash,
    /// Battery polarity reversed (`DAHDI_EVENT_POLARITY`): answer or far-end hangup on
    /// lines that provide it, which most Chinese analog trunks do not.
    PolarityReversal,
    /// The line or span went into alarm (`DAHDI_EVENT_ALARM`).
    Alarm,
    /// The alarm cleared (`DAHDI_EVENT_NOALARM`).
    NoAlarm,
    /// A dial string finished (`DAHDI_EVENT_DIALCOMPLETE`).
    DialComplete,
    /// Ringing of a station started (`DAHDI_EVENT_RINGERON`).
    RingerOn,
    /// Ringing of a station stopped (`DAHDI_EVENT_RINGEROFF`).
    RingerOff,
    /// A hook-state change we asked for completed (`DAHDI_EVENT_HOOKCOMPLETE`).
    HookComplete,
    /// The board's own DTMF detector saw a key go down (`DAHDI_EVENT_DTMFDOWN`).
    DtmfDown(Digit),
    /// The board's own DTMF detector saw a key go up (`DAHDI_EVENT_DTMFUP`).
    DtmfUp(Digit),
    /// A dial-pulse digit (`DAHDI_EVENT_PULSEDIGIT`).
    PulseDigit(Digit),
    /// The board lost receive audio because we read too slowly.
    ReadOverrun,
    /// The board ran out of transmit audio because we wrote too slowly.
    WriteUnderrun,
    /// The channel's hardware was removed (`DAHDI_EVENT_REMOVED`); stop using it.
    Removed,
    /// A board event this vocabulary does not name, with the board's raw code.
    Other(u32),
}
