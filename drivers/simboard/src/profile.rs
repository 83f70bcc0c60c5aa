//! Board profiles: the "firmware" of the simulated card, loaded from TOML files in
//! `firmware-stubs/`.
//!
//! A profile names the cards of an install, their ports (FXO trunks, FXS stations, E1
//! B-channels), the law, the tone zone, the ring cadence, the caller-ID standard and timing,
//! and the line impairments. Every bad field is refused with the file, line and column, and
//! for enumerated fields the allowed values.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tel_types::Law;
use tel_types::board::PortKind;
use toml::Spanned;

/// A tone zone the simulated exchange uses (the names `dsp` offers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Zone {
    Cn,
    Us,
    Gb,
    De,
    Fr,
    Jp,
    Au,
    In,
    Ru,
    Hk,
    Tw,
    Sg,
}

impl Zone {
    /// Every zone.
    pub const ALL: [Self; 12] = [
        Self::Cn,
        Self::Us,
        Self::Gb,
        Self::De,
        Self::Fr,
        Self::Jp,
        Self::Au,
        Self::In,
        Self::Ru,
        Self::Hk,
        Self::Tw,
        Self::Sg,
    ];

    /// The zone's two-letter name, as in profiles and in `dsp`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Cn => "cn",
            Self::Us => "us",
            Self::Gb => "gb",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Jp => "jp",
            Self::Au => "au",
            Self::In => "in",
            Self::Ru => "ru",
            Self::Hk => "hk",
            Self::Tw => "tw",
            Self::Sg => "sg",
        }
    }

    /// The zone's ring cadence in ms (on, off, on, off …), from the DSP crate's zone table.
    pub fn ring_cadence_ms(self) -> Vec<u32> {
        dsp::zones::ToneZone::by_code(self.name())
            .map(|z| z.ring_cadence_ms.iter().map(|&x| u32::from(x)).collect())
            .unwrap_or_else(|| vec![1000, 4000])
    }

    /// The law boards of this zone use by default (µ-law in North America and Japan).
    pub const fn default_law(self) -> Law {
        match self {
            Self::Us | Self::Jp | Self::Tw => Law::MuLaw,
            _ => Law::ALaw,
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the simulated exchange sends caller ID to a trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallerIdStandard {
    /// No caller ID.
    None,
    /// FSK at 1200 baud, Bell 202 frequencies (1200/2200 Hz).
    FskBell202,
    /// FSK at 1200 baud, ITU-T V.23 frequencies (1300/2100 Hz).
    FskV23,
    /// DTMF digits (`A`/`D` start, `C` end).
    Dtmf,
}

/// When caller ID is sent relative to the ringing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallerIdTiming {
    /// Before the first ring (usual for DTMF caller ID in China).
    BeforeFirstRing,
    /// Between the first and the second ring (Bellcore, usual FSK in China).
    AfterFirstRing,
}

/// The law as written in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum LawName {
    Alaw,
    Ulaw,
    Linear,
}

impl From<LawName> for Law {
    fn from(l: LawName) -> Self {
        match l {
            LawName::Alaw => Self::ALaw,
            LawName::Ulaw => Self::MuLaw,
            LawName::Linear => Self::Linear,
        }
    }
}

/// A port kind as written in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortType {
    /// An analog trunk from the exchange: our side is an FXO port.
    FxoTrunk,
    /// An agent's analog phone: our side is an FXS port.
    FxsStation,
    /// A B-channel of an E1 span (digital: no analog impairments).
    E1Bchannel,
}

impl PortType {
    /// The contract's port kind.
    pub const fn port_kind(self) -> PortKind {
        match self {
            Self::FxoTrunk => PortKind::FxoTrunk,
            Self::FxsStation => PortKind::FxsStation,
            Self::E1Bchannel => PortKind::Digital,
        }
    }

    /// Whether a call arrives from the exchange on this port.
    pub const fn is_trunk(self) -> bool {
        matches!(self, Self::FxoTrunk | Self::E1Bchannel)
    }
}

/// Analog line impairments and the exchange's line signalling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineParams {
    /// White-noise level added to received audio, in dBm0 (e.g. −65 quiet, −45 noisy).
    pub noise_dbm0: f32,
    /// Gain (loss if negative) applied to what the far end sends, in dB.
    pub gain_db: f32,
    /// Echo return loss in dB: how much weaker our own transmit comes back.
    pub echo_return_loss_db: f32,
    /// Echo delay in ms.
    pub echo_delay_ms: u32,
    /// The exchange reverses polarity when the far end answers (outbound calls).
    pub polarity_on_answer: bool,
    /// The exchange reverses polarity when the far end hangs up.
    pub polarity_on_hangup: bool,
    /// The exchange drops loop current when the far end hangs up (seen as on-hook).
    pub loop_drop_on_hangup: bool,
}

impl LineParams {
    /// A clean digital bearer: no noise, no gain, no echo, and no line signalling.
    pub const DIGITAL: Self = Self {
        noise_dbm0: -200.0,
        gain_db: 0.0,
        echo_return_loss_db: 200.0,
        echo_delay_ms: 0,
        polarity_on_answer: false,
        polarity_on_hangup: false,
        loop_drop_on_hangup: false,
    };
}

impl Default for LineParams {
    /// A typical Chinese analog trunk: a little noise and loss, 20 dB echo return loss, and no
    /// polarity reversal or loop drop on far-end hangup.
    fn default() -> Self {
        Self {
            noise_dbm0: -65.0,
            gain_db: -3.0,
            echo_return_loss_db: 20.0,
            echo_delay_ms: 6,
            polarity_on_answer: false,
            polarity_on_hangup: false,
            loop_drop_on_hangup: false,
        }
    }
}

/// Caller-ID settings of the simulated exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerIdParams {
    /// The standard.
    pub standard: CallerIdStandard,
    /// Before the first ring, or between the first and the second.
    pub timing: CallerIdTiming,
    /// Before the first ring: the gap between the end of caller ID and the first ring.
    /// After the first ring: the gap between the end of the first ring and caller ID.
    pub delay_ms: u32,
}

/// A group of identical ports on a card.
#[derive(Debug, Clone, PartialEq)]
pub struct PortGroup {
    /// The kind of port.
    pub kind: PortType,
    /// How many.
    pub count: u16,
    /// Line impairments of these ports (digital ports: [`LineParams::DIGITAL`]).
    pub line: LineParams,
    /// Caller ID sent to these trunks when it differs from the board's `[caller_id]` (e.g.
    /// E1 spans whose number comes ahead of the ringing while the analog trunks get FSK).
    pub caller_id: Option<CallerIdParams>,
}

/// One card of an install.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// The card's model name, for logs.
    pub model: String,
    /// Its ports, numbered in order.
    pub ports: Vec<PortGroup>,
}

/// A loaded, checked board profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The install's name.
    pub name: String,
    /// Where it was loaded from (or `<string>`).
    pub source: PathBuf,
    /// The law of every channel.
    pub law: Law,
    /// The tone zone of the simulated exchange.
    pub zone: Zone,
    /// The channel number of the first port (DAHDI numbers from 1).
    pub first_channel: u16,
    /// Ring cadence in ms (on, off, …), at least one on/off pair.
    pub ring_cadence_ms: Vec<u32>,
    /// Caller ID sent to trunks.
    pub caller_id: CallerIdParams,
    /// The cards, in channel order.
    pub cards: Vec<Card>,
}

impl Profile {
    /// Loads and checks the profile at `path`.
    ///
    /// # Errors
    /// [`ProfileError`] with the file, line and column of the bad field.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            kind: ProfileErrorKind::Io(e.kind()),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks profile text; `source` names it in errors.
    ///
    /// # Errors
    /// [`ProfileError`] with the file, line and column of the bad field.
    pub fn parse(text: &str, source: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let source = source.as_ref();
        let err = |span: Option<Range<usize>>, kind| {
            let (line, column) = span.map_or((0, 0), |s| line_col(text, s.start));
            ProfileError {
                file: source.to_path_buf(),
                line,
                column,
                kind,
            }
        };
        let raw: RawProfile = toml::from_str(text)
            .map_err(|e| err(e.span(), ProfileErrorKind::Invalid(e.message().to_owned())))?;
        let range = |v: &Spanned<f64>, what: &'static str, min: f64, max: f64| {
            let x = *v.get_ref();
            if x.is_finite() && (min..=max).contains(&x) {
                Ok(x as f32)
            } else {
                Err(err(
                    Some(v.span()),
                    ProfileErrorKind::OutOfRange {
                        field: what,
                        value: x,
                        min,
                        max,
                    },
                ))
            }
        };
        let int_range = |v: &Spanned<i64>, what: &'static str, min: i64, max: i64| {
            let x = *v.get_ref();
            if (min..=max).contains(&x) {
                Ok(x)
            } else {
                Err(err(
                    Some(v.span()),
                    ProfileErrorKind::OutOfRange {
                        field: what,
                        value: x as f64,
                        min: min as f64,
                        max: max as f64,
                    },
                ))
            }
        };
        let line_params = |raw: &RawLine, base: LineParams| -> Result<LineParams, ProfileError> {
            let mut p = base;
            if let Some(v) = &raw.noise_dbm0 {
                p.noise_dbm0 = range(v, "noise_dbm0", -200.0, -20.0)?;
            }
            if let Some(v) = &raw.gain_db {
                p.gain_db = range(v, "gain_db", -30.0, 12.0)?;
            }
            if let Some(v) = &raw.echo_return_loss_db {
                p.echo_return_loss_db = range(v, "echo_return_loss_db", 0.0, 200.0)?;
            }
            if let Some(v) = &raw.echo_delay_ms {
                p.echo_delay_ms = int_range(v, "echo_delay_ms", 0, 64)? as u32;
            }
            p.polarity_on_answer = raw.polarity_on_answer.unwrap_or(p.polarity_on_answer);
            p.polarity_on_hangup = raw.polarity_on_hangup.unwrap_or(p.polarity_on_hangup);
            p.loop_drop_on_hangup = raw.loop_drop_on_hangup.unwrap_or(p.loop_drop_on_hangup);
            Ok(p)
        };

        let zone = raw.board.zone;
        let law = raw.board.law.map_or(zone.default_law(), Law::from);
        let first_channel = match &raw.board.first_channel {
            Some(v) => int_range(v, "first_channel", 1, 4000)? as u16,
            None => 1,
        };
        let ring_cadence_ms = match &raw.ring {
            Some(RawRing { cadence_ms }) => {
                let c = cadence_ms.get_ref();
                if c.is_empty() || c.len() % 2 != 0 || c.len() > 8 {
                    return Err(err(
                        Some(cadence_ms.span()),
                        ProfileErrorKind::BadCadence("give 1 to 4 on/off pairs, e.g. [1000, 4000]"),
                    ));
                }
                let mut out = Vec::with_capacity(c.len());
                for v in c {
                    let ms = int_range(v, "cadence_ms", 20, 10_000)?;
                    if ms % 20 != 0 {
                        return Err(err(
                            Some(v.span()),
                            ProfileErrorKind::BadCadence("each step must be a multiple of 20 ms"),
                        ));
                    }
                    out.push(ms as u32);
                }
                out
            }
            None => zone.ring_cadence_ms(),
        };
        let cid_params = |c: &RawCallerId| -> Result<CallerIdParams, ProfileError> {
            let p = CallerIdParams {
                standard: c.standard,
                timing: c.timing.unwrap_or(match c.standard {
                    CallerIdStandard::Dtmf => CallerIdTiming::BeforeFirstRing,
                    _ => CallerIdTiming::AfterFirstRing,
                }),
                delay_ms: match &c.delay_ms {
                    Some(v) => int_range(v, "delay_ms", 100, 3000)? as u32,
                    None => 600,
                },
            };
            if p.standard != CallerIdStandard::None && p.timing == CallerIdTiming::AfterFirstRing {
                // Caller ID must fit in the first silent interval of the cadence.
                let gap = ring_cadence_ms.last().copied().unwrap_or(0);
                if gap < p.delay_ms + 1500 {
                    return Err(err(
                        raw.ring.as_ref().map(|r| r.cadence_ms.span()),
                        ProfileErrorKind::BadCadence(
                            "the first silent interval is too short for caller ID after the first ring",
                        ),
                    ));
                }
            }
            Ok(p)
        };
        let caller_id = match &raw.caller_id {
            Some(c) => cid_params(c)?,
            None => CallerIdParams {
                standard: CallerIdStandard::None,
                timing: CallerIdTiming::AfterFirstRing,
                delay_ms: 600,
            },
        };
        let base_line = match &raw.line {
            Some(l) => line_params(l, LineParams::default())?,
            None => LineParams::default(),
        };
        if raw.cards.is_empty() {
            return Err(err(None, ProfileErrorKind::NoPorts));
        }
        let mut cards = Vec::with_capacity(raw.cards.len());
        let mut total: u32 = 0;
        for c in &raw.cards {
            let mut ports = Vec::with_capacity(c.ports.len());
            for g in &c.ports {
                let count = int_range(&g.count, "count", 1, 480)? as u16;
                total += u32::from(count);
                let line = if g.kind == PortType::E1Bchannel {
                    // Digital: never noise, loss or echo; the signalling flags (e.g. a CAS
                    // clear-back as `loop_drop_on_hangup`) may be set on the group.
                    let mut l = LineParams::DIGITAL;
                    if let Some(raw) = &g.line {
                        if raw.noise_dbm0.is_some()
                            || raw.gain_db.is_some()
                            || raw.echo_return_loss_db.is_some()
                            || raw.echo_delay_ms.is_some()
                        {
                            return Err(err(
                                Some(g.count.span()),
                                ProfileErrorKind::Invalid(
                                    "e1-bchannel ports are digital: only polarity_on_answer, \
                                     polarity_on_hangup and loop_drop_on_hangup apply"
                                        .into(),
                                ),
                            ));
                        }
                        l = line_params(raw, l)?;
                    }
                    l
                } else {
                    match &g.line {
                        Some(l) => line_params(l, base_line)?,
                        None => base_line,
                    }
                };
                let caller_id = match &g.caller_id {
                    Some(_) if !g.kind.is_trunk() => {
                        return Err(err(
                            Some(g.count.span()),
                            ProfileErrorKind::Invalid(
                                "caller_id is sent to trunks only, not to fxs-station ports".into(),
                            ),
                        ));
                    }
                    Some(c) => Some(cid_params(c)?),
                    None => None,
                };
                ports.push(PortGroup {
                    kind: g.kind,
                    count,
                    line,
                    caller_id,
                });
            }
            cards.push(Card {
                model: c.model.clone(),
                ports,
            });
        }
        if total == 0 {
            return Err(err(None, ProfileErrorKind::NoPorts));
        }
        if u32::from(first_channel) + total > u32::from(u16::MAX) {
            return Err(err(None, ProfileErrorKind::NoPorts));
        }
        Ok(Self {
            name: raw.board.name,
            source: source.to_path_buf(),
            law,
            zone,
            first_channel,
            ring_cadence_ms,
            caller_id,
            cards,
        })
    }

    /// Every port in channel order: its channel number, kind and line parameters.
    pub fn ports(&self) -> impl Iterator<Item = (u16, PortType, LineParams)> + '_ {
        self.cards
            .iter()
            .flat_map(|c| c.ports.iter())
            .flat_map(|g| (0..g.count).map(move |_| (g.kind, g.line)))
            .enumerate()
            .map(|(i, (k, l))| (self.first_channel + i as u16, k, l))
    }

    /// The caller ID the simulated exchange sends to channel `number`: its port group's
    /// own `caller_id` if it has one, else the board's.
    pub fn caller_id_of(&self, number: u16) -> CallerIdParams {
        let mut left = usize::from(number.saturating_sub(self.first_channel));
        for g in self.cards.iter().flat_map(|c| c.ports.iter()) {
            if left < usize::from(g.count) {
                return g.caller_id.unwrap_or(self.caller_id);
            }
            left -= usize::from(g.count);
        }
        self.caller_id
    }

    /// How many ports of `kind` the install has.
    pub fn count(&self, kind: PortType) -> usize {
        self.ports().filter(|p| p.1 == kind).count()
    }
}

/// A profile could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileError {
    /// The profile file.
    pub file: PathBuf,
    /// 1-based line of the bad field (0 if the error is not at one place).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub kind: ProfileErrorKind,
}

/// What is wrong with a profile.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProfileErrorKind {
    /// The file could not be read.
    Io(std::io::ErrorKind),
    /// TOML syntax, a missing or unknown field, or a value not among the allowed ones (the
    /// message lists them).
    Invalid(String),
    /// A number outside its range.
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: f64,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// A ring cadence that cannot be used.
    BadCadence(&'static str),
    /// No ports, or too many.
    NoPorts,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        match &self.kind {
            ProfileErrorKind::Io(k) => write!(f, ": cannot read the profile: {k}"),
            ProfileErrorKind::Invalid(m) => write!(f, ": {m}"),
            ProfileErrorKind::OutOfRange {
                field,
                value,
                min,
                max,
            } => write!(
                f,
                ": {field} = {value} is out of range; allowed {min} to {max}"
            ),
            ProfileErrorKind::BadCadence(why) => write!(f, ": bad ring cadence: {why}"),
            ProfileErrorKind::NoPorts => {
                write!(f, ": the profile needs [[cards]] with 1 to 65000 ports")
            }
        }
    }
}

impl std::error::Error for ProfileError {}

pub(crate) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) as u32
        + 1;
    (line, col)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    board: RawBoard,
    ring: Option<RawRing>,
    caller_id: Option<RawCallerId>,
    line: Option<RawLine>,
    #[serde(default)]
    cards: Vec<RawCard>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoard {
    name: String,
    zone: Zone,
    law: Option<LawName>,
    first_channel: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRing {
    cadence_ms: Spanned<Vec<Spanned<i64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallerId {
    standard: CallerIdStandard,
    timing: Option<CallerIdTiming>,
    delay_ms: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    noise_dbm0: Option<Spanned<f64>>,
    gain_db: Option<Spanned<f64>>,
    echo_return_loss_db: Option<Spanned<f64>>,
    echo_delay_ms: Option<Spanned<i64>>,
    polarity_on_answer: Option<bool>,
    polarity_on_hangup: Option<bool>,
    loop_drop_on_hangup: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCard {
    model: String,
    ports: Vec<RawPorts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPorts {
    kind: PortType,
    count: Spanned<i64>,
    line: Option<RawLine>,
    caller_id: Option<RawCallerId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[board]
name = "test"
zone = "cn"

[caller_id]
standard = "fsk-bell202"

[[cards]]
model = "A"
ports = [{ kind = "fxo-trunk", count = 2 }, { kind = "fxs-station", count = 1 }]
"#;

    #[test]
    fn defaults_follow_the_zone() {
        let p = Profile::parse(GOOD, "t.toml").unwrap();
        assert_eq!(p.law, Law::ALaw);
        assert_eq!(p.ring_cadence_ms, vec![1000, 4000]);
        assert_eq!(p.caller_id.timing, CallerIdTiming::AfterFirstRing);
        let ports: Vec<_> = p.ports().map(|(n, k, _)| (n, k)).collect();
        assert_eq!(
            ports,
            vec![
                (1, PortType::FxoTrunk),
                (2, PortType::FxoTrunk),
                (3, PortType::FxsStation)
            ]
        );
    }

    #[test]
    fn port_groups_override_the_line_and_numbering_starts_where_asked() {
        let text = GOOD
            .replace("zone = \"cn\"", "zone = \"cn\"\nfirst_channel = 25")
            .replace(
                "{ kind = \"fxs-station\", count = 1 }",
                "{ kind = \"fxs-station\", count = 1, line = { noise_dbm0 = -40.0 } }",
            );
        let p = Profile::parse(&text, "t.toml").unwrap();
        let ports: Vec<_> = p.ports().collect();
        assert_eq!(ports[0].0, 25);
        assert_eq!(ports[2].0, 27);
        assert_eq!(ports[0].2.noise_dbm0, LineParams::default().noise_dbm0);
        assert_eq!(ports[2].2.noise_dbm0, -40.0);
    }

    #[test]
    fn e1_groups_take_signalling_flags_but_no_impairments() {
        let text = GOOD.replace(
            "ports = [{ kind = \"fxo-trunk\", count = 2 }",
            "ports = [{ kind = \"e1-bchannel\", count = 2, line = { loop_drop_on_hangup = true } }",
        );
        let p = Profile::parse(&text, "t.toml").unwrap();
        let e1 = p.ports().next().unwrap().2;
        assert!(e1.loop_drop_on_hangup);
        assert_eq!(e1.noise_dbm0, LineParams::DIGITAL.noise_dbm0);
        let bad = text.replace("loop_drop_on_hangup = true", "noise_dbm0 = -50.0");
        let e = Profile::parse(&bad, "t.toml").unwrap_err();
        assert!(e.to_string().contains("digital"), "{e}");
    }

    #[test]
    fn a_port_group_can_have_its_own_caller_id() {
        let text = GOOD.replace(
            "ports = [{ kind = \"fxo-trunk\", count = 2 }",
            "ports = [{ kind = \"e1-bchannel\", count = 2, caller_id = { standard = \"dtmf\" } }",
        );
        let p = Profile::parse(&text, "t.toml").unwrap();
        let e1 = p.caller_id_of(1);
        assert_eq!(e1.standard, CallerIdStandard::Dtmf);
        assert_eq!(e1.timing, CallerIdTiming::BeforeFirstRing);
        assert_eq!(p.caller_id_of(2), e1);
        assert_eq!(p.caller_id_of(3), p.caller_id);
        let bad = GOOD.replace(
            "{ kind = \"fxs-station\", count = 1 }",
            "{ kind = \"fxs-station\", count = 1, caller_id = { standard = \"dtmf\" } }",
        );
        let e = Profile::parse(&bad, "t.toml").unwrap_err();
        assert!(e.to_string().contains("trunks only"), "{e}");
    }

    #[test]
    fn bad_enum_names_file_line_and_allowed_values() {
        let bad = GOOD.replace("zone = \"cn\"", "zone = \"xx\"");
        let e = Profile::parse(&bad, "p.toml").unwrap_err();
        assert_eq!((e.line, e.column), (4, 8));
        let msg = e.to_string();
        assert!(msg.starts_with("p.toml:4:8: "), "{msg}");
        assert!(msg.contains("cn") && msg.contains("sg"), "{msg}");
    }

    #[test]
    fn out_of_range_number_is_located() {
        let bad = GOOD.replace("count = 1 }", "count = 0 }");
        let e = Profile::parse(&bad, "p.toml").unwrap_err();
        assert_eq!(e.line, 11);
        assert!(e.to_string().contains("count = 0 is out of range"), "{e}");
    }
}
