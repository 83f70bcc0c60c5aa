//! Tone zones: each country's dial, busy, ringback, congestion, call-waiting and special
//! information tones, with their cadences.
//!
//! The figures are those published for each network (ITU-T E.180 supplement 2 and national
//! specifications, as collected by telephony projects). `cn` is the default zone.
//!
//! ```
//! use dsp::zones::ToneZone;
//! use tel_types::Tone;
//! let cn = ToneZone::by_code("cn").unwrap();
//! let busy = cn.tone(Tone::Busy).unwrap();
//! assert_eq!(busy.segments[0].freqs[0], 450);
//! assert_eq!(busy.cycle_ms(), 700);
//! assert!(ToneZone::by_code("xx").is_none());
//! ```

use crate::tone::{ToneSegment as S, ToneSpec};
use tel_types::Tone;

/// The tones of one country's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ToneZone {
    /// Lower-case country code (`cn`, `us`, `gb`, ...).
    pub code: &'static str,
    /// Country name in English.
    pub name: &'static str,
    /// Dial tone.
    pub dial: ToneSpec,
    /// Busy (engaged) tone.
    pub busy: ToneSpec,
    /// Ringback (ringing) tone.
    pub ringback: ToneSpec,
    /// Congestion (reorder) tone.
    pub congestion: ToneSpec,
    /// Call-waiting tone.
    pub call_waiting: ToneSpec,
    /// Special information tone, played before an announcement.
    pub special_info: ToneSpec,
    /// Ringing cadence for a station's bell, ms on/off alternating.
    pub ring_cadence_ms: &'static [u16],
}

/// The ITU-T E.180 special information tone: 950, 1400, 1800 Hz for 330 ms each, 1 s pause.
const SIT: ToneSpec = ToneSpec::repeating(&[
    S::single(950, 330),
    S::single(1400, 330),
    S::single(1800, 330),
    S::silence(1000),
]);

/// A short 1400 Hz beep, e.g. before a recording.
pub const BEEP: ToneSpec = ToneSpec::once(&[S::single(1400, 500)]);

const fn rep(s: &'static [S]) -> ToneSpec {
    ToneSpec::repeating(s)
}

/// Every zone this crate knows, `cn` first.
pub static ZONES: &[ToneZone] = &[
    ToneZone {
        code: "cn",
        name: "China",
        dial: rep(&[S::single(450, 0)]),
        busy: rep(&[S::single(450, 350), S::silence(350)]),
        ringback: rep(&[S::single(450, 1000), S::silence(4000)]),
        congestion: rep(&[S::single(450, 700), S::silence(700)]),
        call_waiting: rep(&[S::single(450, 400), S::silence(4000)]),
        special_info: SIT,
        ring_cadence_ms: &[1000, 4000],
    },
    ToneZone {
        code: "us",
        name: "United States",
        dial: rep(&[S::dual(350, 440, 0)]),
        busy: rep(&[S::dual(480, 620, 500), S::silence(500)]),
        ringback: rep(&[S::dual(440, 480, 2000), S::silence(4000)]),
        congestion: rep(&[S::dual(480, 620, 250), S::silence(250)]),
        call_waiting: rep(&[S::single(440, 300), S::silence(10000)]),
        special_info: SIT,
        ring_cadence_ms: &[2000, 4000],
    },
    ToneZone {
        code: "gb",
        name: "United Kingdom",
        dial: rep(&[S::dual(350, 440, 0)]),
        busy: rep(&[S::single(400, 375), S::silence(375)]),
        ringback: rep(&[
            S::dual(400, 450, 400),
            S::silence(200),
            S::dual(400, 450, 400),
            S::silence(2000),
        ]),
        congestion: rep(&[
            S::single(400, 400),
            S::silence(350),
            S::single(400, 225),
            S::silence(525),
        ]),
        call_waiting: rep(&[S::single(400, 100), S::silence(4000)]),
        special_info: SIT,
        ring_cadence_ms: &[400, 200, 400, 2000],
    },
    ToneZone {
        code: "de",
        name: "Germany",
        dial: rep(&[S::single(425, 0)]),
        busy: rep(&[S::single(425, 480), S::silence(480)]),
        ringback: rep(&[S::single(425, 1000), S::silence(4000)]),
        congestion: rep(&[S::single(425, 240), S::silence(240)]),
        call_waiting: rep(&[
            S::single(425, 200),
            S::silence(200),
            S::single(425, 200),
            S::silence(5000),
        ]),
        special_info: SIT,
        ring_cadence_ms: &[1000, 4000],
    },
    ToneZone {
        code: "fr",
        name: "France",
        dial: rep(&[S::single(440, 0)]),
        busy: rep(&[S::single(440, 500), S::silence(500)]),
        ringback: rep(&[S::single(440, 1500), S::silence(3500)]),
        congestion: rep(&[S::single(440, 250), S::silence(250)]),
        call_waiting: rep(&[S::single(440, 300), S::silence(10000)]),
        special_info: SIT,
        ring_cadence_ms: &[1500, 3500],
    },
    ToneZone {
        code: "jp",
        name: "Japan",
        dial: rep(&[S::single(400, 0)]),
        busy: rep(&[S::single(400, 500), S::silence(500)]),
        ringback: rep(&[S::modulated(400, 16, 1000), S::silence(2000)]),
        congestion: rep(&[S::single(400, 500), S::silence(500)]),
        call_waiting: rep(&[S::modulated(400, 16, 500), S::silence(8000)]),
        special_info: SIT,
        ring_cadence_ms: &[1000, 2000],
    },
    ToneZone {
        code: "au",
        name: "Australia",
        dial: rep(&[S::dual(413, 438, 0)]),
        busy: rep(&[S::single(425, 375), S::silence(375)]),
        ringback: rep(&[
            S::dual(413, 438, 400),
            S::silence(200),
            S::dual(413, 438, 400),
            S::silence(2000),
        ]),
        congestion: rep(&[S::single(425, 375), S::silence(375)]),
        call_waiting: rep(&[
            S::single(425, 200),
            S::silence(200),
            S::single(425, 200),
            S::silence(4400),
        ]),
        special_info: SIT,
        ring_cadence_ms: &[400, 200, 400, 2000],
    },
    ToneZone {
        code: "in",
        name: "India",
        dial: rep(&[S::modulated(400, 25, 0)]),
        busy: rep(&[S::single(400, 750), S::silence(750)]),
        ringback: rep(&[
            S::modulated(400, 25, 400),
            S::silence(200),
            S::modulated(400, 25, 400),
            S::silence(2000),
        ]),
        congestion: rep(&[S::single(400, 250), S::silence(250)]),
        call_waiting: rep(&[
            S::single(400, 200),
            S::silence(100),
            S::single(400, 200),
            S::silence(7500),
        ]),
        special_info: SIT,
        ring_cadence_ms: &[400, 200, 400, 2000],
    },
    ToneZone {
        code: "ru",
        name: "Russia",
        dial: rep(&[S::single(425, 0)]),
        busy: rep(&[S::single(425, 350), S::silence(350)]),
        ringback: rep(&[S::single(425, 1000), S::silence(4000)]),
        congestion: rep(&[S::single(425, 175), S::silence(175)]),
        call_waiting: rep(&[S::single(425, 200), S::silence(5000)]),
        special_info: SIT,
        ring_cadence_ms: &[1000, 4000],
    },
    ToneZone {
        code: "hk",
        name: "Hong Kong",
        dial: rep(&[S::dual(350, 440, 0)]),
        busy: rep(&[S::dual(480, 620, 500), S::silence(500)]),
        ringback: rep(&[
            S::dual(440, 480, 400),
            S::silence(200),
            S::dual(440, 480, 400),
            S::silence(3000),
        ]),
        congestion: rep(&[S::dual(480, 620, 250), S::silence(250)]),
        call_waiting: rep(&[S::single(440, 300), S::silence(10000)]),
        special_info: SIT,
        ring_cadence_ms: &[400, 200, 400, 3000],
    },
    ToneZone {
        code: "tw",
        name: "Taiwan",
        dial: rep(&[S::dual(350, 440, 0)]),
        busy: rep(&[S::dual(480, 620, 500), S::silence(500)]),
        ringback: rep(&[S::dual(440, 480, 1000), S::silence(2000)]),
        congestion: rep(&[S::dual(480, 620, 250), S::silence(250)]),
        call_waiting: rep(&[
            S::dual(350, 440, 250),
            S::silence(250),
            S::dual(350, 440, 250),
            S::silence(3250),
        ]),
        special_info: SIT,
        ring_cadence_ms: &[1000, 2000],
    },
    ToneZone {
        code: "sg",
        name: "Singapore",
        dial: rep(&[S::single(425, 0)]),
        busy: rep(&[S::single(425, 750), S::silence(750)]),
        ringback: rep(&[
            S::modulated(425, 24, 400),
            S::silence(200),
            S::modulated(425, 24, 400),
            S::silence(2000),
        ]),
        congestion: rep(&[S::single(425, 250), S::silence(250)]),
        call_waiting: rep(&[
            S::modulated(425, 24, 300),
            S::silence(200),
            S::modulated(425, 24, 300),
            S::silence(3200),
        ]),
        special_info: SIT,
        ring_cadence_ms: &[400, 200, 400, 2000],
    },
];

impl ToneZone {
    /// The zone with this country code (case-insensitive; `uk` is accepted for `gb`).
    pub fn by_code(code: &str) -> Option<&'static Self> {
        let code = if code.eq_ignore_ascii_case("uk") {
            "gb"
        } else {
            code
        };
        ZONES.iter().find(|z| z.code.eq_ignore_ascii_case(code))
    }

    /// The default zone, `cn`.
    pub fn default_zone() -> &'static Self {
        &ZONES[0]
    }

    /// Every known zone.
    pub fn all() -> &'static [Self] {
        ZONES
    }

    /// The zone's spec for `tone`; `None` for [`Tone::Dtmf`] (use the DTMF generator).
    pub fn tone(&self, tone: Tone) -> Option<ToneSpec> {
        Some(match tone {
            Tone::Dial => self.dial,
            Tone::Busy => self.busy,
            Tone::Ringback => self.ringback,
            Tone::Congestion => self.congestion,
            Tone::CallWaiting => self.call_waiting,
            Tone::SpecialInfo => self.special_info,
            Tone::Beep => BEEP,
            _ => return None,
        })
    }
}
