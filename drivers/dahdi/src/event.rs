//! `DAHDI_GETEVENT` codes as a Rust enum.

use tel_types::{Digit, LineEvent};

use crate::sys::event as ev;

/// A signalling event from `DAHDI_GETEVENT`: every `DAHDI_EVENT_*` code of `user.h`.
///
/// `DAHDI_EVENT_NONE` (0) is not an event; [`crate::Channel::get_event`] returns `None` for it.
///
/// ```
/// use dahdi::Event;
/// use tel_types::{Digit, LineEvent};
/// assert_eq!(Event::from_code(2), Event::RingOffHook);
/// assert_eq!(Event::from_code(0x20000 | '5' as i32), Event::DtmfDown(Digit::D5));
/// assert_eq!(Event::from_code(0x20000 | '5' as i32).code(), 0x20035);
/// assert_eq!(LineEvent::from(Event::OnHook), LineEvent::OnHook);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// `DAHDI_EVENT_ONHOOK` (1): the line or station went on-hook.
    OnHook,
    /// `DAHDI_EVENT_RINGOFFHOOK` (2): ring detected (FXS-signalled), or off-hook/answer
    /// (FXO-signalled).
    RingOffHook,
    /// `DAHDI_EVENT_WINKFLASH` (3): a wink or a hook flash.
    WinkFlash,
    /// `DAHDI_EVENT_ALARM` (4): the span went into alarm.
    Alarm,
    /// `DAHDI_EVENT_NOALARM` (5): the alarm cleared.
    NoAlarm,
    /// `DAHDI_EVENT_ABORT` (6): HDLC abort.
    Abort,
    /// `DAHDI_EVENT_OVERRUN` (7): HDLC frame overrun.
    Overrun,
    /// `DAHDI_EVENT_BADFCS` (8): HDLC bad checksum.
    BadFcs,
    /// `DAHDI_EVENT_DIALCOMPLETE` (9): a `DAHDI_DIAL` string was sent.
    DialComplete,
    /// `DAHDI_EVENT_RINGERON` (10): ringing of a station started.
    RingerOn,
    /// `DAHDI_EVENT_RINGEROFF` (11): ringing of a station stopped.
    RingerOff,
    /// `DAHDI_EVENT_HOOKCOMPLETE` (12): a hook change we asked for completed.
    HookComplete,
    /// `DAHDI_EVENT_BITSCHANGED` (13): received CAS/RBS bits changed.
    BitsChanged,
    /// `DAHDI_EVENT_PULSE_START` (14): the start of a dial-pulse train.
    PulseStart,
    /// `DAHDI_EVENT_TIMER_EXPIRED` (15): a `/dev/dahdi/timer` period elapsed.
    TimerExpired,
    /// `DAHDI_EVENT_TIMER_PING` (16): answer to `DAHDI_TIMERPING`.
    TimerPing,
    /// `DAHDI_EVENT_POLARITY` (17): battery polarity reversed.
    Polarity,
    /// `DAHDI_EVENT_RINGBEGIN` (18): a ring burst began.
    RingBegin,
    /// `DAHDI_EVENT_EC_DISABLED` (19): the echo canceller disabled itself (fax/modem tone).
    EcDisabled,
    /// `DAHDI_EVENT_REMOVED` (20): the channel's hardware was removed.
    Removed,
    /// `DAHDI_EVENT_NEONMWI_ACTIVE` (21): neon message-waiting indication on.
    NeonMwiActive,
    /// `DAHDI_EVENT_NEONMWI_INACTIVE` (22): neon message-waiting indication off.
    NeonMwiInactive,
    /// `DAHDI_EVENT_TX_CED_DETECTED` (23): fax CED tone in the transmit direction.
    TxCedDetected,
    /// `DAHDI_EVENT_RX_CED_DETECTED` (24): fax CED tone in the receive direction.
    RxCedDetected,
    /// `DAHDI_EVENT_TX_CNG_DETECTED` (25): fax CNG tone in the transmit direction.
    TxCngDetected,
    /// `DAHDI_EVENT_RX_CNG_DETECTED` (26): fax CNG tone in the receive direction.
    RxCngDetected,
    /// `DAHDI_EVENT_EC_NLP_DISABLED` (27): the echo canceller's NLP was turned off.
    EcNlpDisabled,
    /// `DAHDI_EVENT_EC_NLP_ENABLED` (28): the echo canceller's NLP was turned on.
    EcNlpEnabled,
    /// `DAHDI_EVENT_READ_OVERRUN` (29): receive audio was lost (we read too slowly).
    ReadOverrun,
    /// `DAHDI_EVENT_WRITE_UNDERRUN` (30): transmit audio ran out (we wrote too slowly).
    WriteUnderrun,
    /// `DAHDI_EVENT_PULSEDIGIT | digit`: a dial-pulse digit.
    PulseDigit(Digit),
    /// `DAHDI_EVENT_DTMFDOWN | digit`: the card's DTMF detector saw a key go down.
    DtmfDown(Digit),
    /// `DAHDI_EVENT_DTMFUP | digit`: the card's DTMF detector saw a key go up.
    DtmfUp(Digit),
    /// A code this crate does not know (a newer DAHDI, or a digit flag with a character that
    /// is not a key), with the raw value.
    Unknown(i32),
}

/// The simple codes 1..=30 in order.
const SIMPLE: [Event; 30] = [
    Event::OnHook,
    Event::RingOffHook,
    Event::WinkFlash,
    Event::Alarm,
    Event::NoAlarm,
    Event::Abort,
    Event::Overrun,
    Event::BadFcs,
    Event::DialComplete,
    Event::RingerOn,
    Event::RingerOff,
    Event::HookComplete,
    Event::BitsChanged,
    Event::PulseStart,
    Event::TimerExpired,
    Event::TimerPing,
    Event::Polarity,
    Event::RingBegin,
    Event::EcDisabled,
    Event::Removed,
    Event::NeonMwiActive,
    Event::NeonMwiInactive,
    Event::TxCedDetected,
    Event::RxCedDetected,
    Event::TxCngDetected,
    Event::RxCngDetected,
    Event::EcNlpDisabled,
    Event::EcNlpEnabled,
    Event::ReadOverrun,
    Event::WriteUnderrun,
];

impl Event {
    /// The event for a non-zero `DAHDI_GETEVENT` code.
    pub fn from_code(code: i32) -> Self {
        let digit = || {
            u8::try_from(code & 0xFFFF)
                .ok()
                .and_then(|b| Digit::from_char(char::from(b)))
        };
        if (ev::ONHOOK..=ev::WRITE_UNDERRUN).contains(&code) {
            return SIMPLE[(code - 1) as usize];
        }
        let with = |make: fn(Digit) -> Self| digit().map_or(Self::Unknown(code), make);
        match code & !0xFFFF {
            ev::PULSEDIGIT => with(Self::PulseDigit),
            ev::DTMFDOWN => with(Self::DtmfDown),
            ev::DTMFUP => with(Self::DtmfUp),
            _ => Self::Unknown(code),
        }
    }

    /// The `DAHDI_GETEVENT` code (digits as their ASCII key, OR'd with the flag).
    pub fn code(self) -> i32 {
        match self {
            Self::PulseDigit(d) => ev::PULSEDIGIT | d.as_char() as i32,
            Self::DtmfDown(d) => ev::DTMFDOWN | d.as_char() as i32,
            Self::DtmfUp(d) => ev::DTMFUP | d.as_char() as i32,
            Self::Unknown(c) => c,
            simple => SIMPLE
                .iter()
                .position(|e| *e == simple)
                .map_or(0, |i| i as i32 + 1),
        }
    }
}

impl From<Event> for LineEvent {
    /// The board-independent meaning; events the vocabulary does not name become
    /// [`LineEvent::Other`] with the DAHDI code.
    fn from(e: Event) -> Self {
        match e {
            Event::OnHook => Self::OnHook,
            Event::RingOffHook => Self::RingOffHook,
            Event::WinkFlash => Self::WinkFlash,
            Event::Alarm => Self::Alarm,
            Event::NoAlarm => Self::NoAlarm,
            Event::DialComplete => Self::DialComplete,
            Event::RingerOn => Self::RingerOn,
            Event::RingerOff => Self::RingerOff,
            Event::HookComplete => Self::HookComplete,
            Event::Polarity => Self::PolarityReversal,
            Event::RingBegin => Self::RingBegin,
            Event::Removed => Self::Removed,
            Event::ReadOverrun => Self::ReadOverrun,
            Event::WriteUnderrun => Self::WriteUnderrun,
            Event::PulseDigit(d) => Self::PulseDigit(d),
            Event::DtmfDown(d) => Self::DtmfDown(d),
            Event::DtmfUp(d) => Self::DtmfUp(d),
            other => Self::Other(other.code() as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_simple_code_round_trips() {
        for code in 1..=30 {
            let e = Event::from_code(code);
            assert!(!matches!(e, Event::Unknown(_)), "code {code}");
            assert_eq!(e.code(), code);
        }
        assert_eq!(Event::from_code(ev::TIMER_EXPIRED), Event::TimerExpired);
        assert_eq!(Event::from_code(ev::RINGBEGIN), Event::RingBegin);
        assert_eq!(Event::from_code(ev::REMOVED), Event::Removed);
        assert_eq!(Event::from_code(31), Event::Unknown(31));
    }

    #[test]
    fn digit_events_carry_the_key() {
        for d in Digit::ALL {
            let c = d.as_char() as i32;
            assert_eq!(Event::from_code(ev::DTMFDOWN | c), Event::DtmfDown(d));
            assert_eq!(Event::from_code(ev::DTMFUP | c), Event::DtmfUp(d));
            assert_eq!(Event::from_code(ev::PULSEDIGIT | c), Event::PulseDigit(d));
            assert_eq!(Event::DtmfUp(d).code(), ev::DTMFUP | c);
        }
        // A flag with a character that is not a key.
        assert_eq!(
            Event::from_code(ev::DTMFDOWN | 'x' as i32),
            Event::Unknown(ev::DTMFDOWN | 'x' as i32)
        );
    }

    #[test]
    fn line_event_mapping() {
        assert_eq!(
            LineEvent::from(Event::Polarity),
            LineEvent::PolarityReversal
        );
        assert_eq!(
            LineEvent::from(Event::DtmfUp(Digit::Hash)),
            LineEvent::DtmfUp(Digit::Hash)
        );
        assert_eq!(LineEvent::from(Event::TimerExpired), LineEvent::Other(15));
        assert_eq!(LineEvent::from(Event::BitsChanged), LineEvent::Other(13));
    }
}
