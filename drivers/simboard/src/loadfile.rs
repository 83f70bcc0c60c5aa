//! Load profiles from TOML files: the rate, hold time, patience and persona mix of a load
//! run, with each persona's script as short step strings. Errors carry file, line, column.
//!
//! ```toml
//! calls_per_hour = 1800
//! seed = 7
//! hold = { kind = "lognormal", median_s = 120, sigma = 0.5 }
//! patience = { kind = "exponential", mean_s = 25 }
//!
//! [[persona]]
//! name = "order-status"
//! weight = 5
//! speech = true
//! script = ["wait-silence 700 15000", "press 1", "wait-silence 700 10000",
//!           "press 20241122#", "wait 8000", "say 1500", "hangup"]
//! ```
//!
//! Steps: `wait MS`, `wait-silence MS [TIMEOUT_MS]`, `wait-audio TIMEOUT_MS`, `press KEYS`,
//! `say MS`, `flash`, `hangup`.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::load::{HoldTime, LoadProfile};
use crate::persona::{DtmfManner, Persona, Speech, Step};
use crate::profile::{ProfileError, ProfileErrorKind, line_col};

impl LoadProfile {
    /// Loads a load profile from a TOML file. Personas with `speech = true` speak `speech`.
    ///
    /// # Errors
    /// [`ProfileError`] with the file, line and column of the bad field or step.
    pub fn load(path: impl AsRef<Path>, speech: Option<&Speech>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            kind: ProfileErrorKind::Io(e.kind()),
        })?;
        Self::parse(&text, path, speech)
    }

    /// Parses load-profile text; `source` names it in errors.
    ///
    /// # Errors
    /// [`ProfileError`] with the file, line and column of the bad field or step.
    pub fn parse(
        text: &str,
        source: impl AsRef<Path>,
        speech: Option<&Speech>,
    ) -> Result<Self, ProfileError> {
        let source = source.as_ref();
        let err = |span: Option<std::ops::Range<usize>>, kind| {
            let (line, column) = span.map_or((0, 0), |s| line_col(text, s.start));
            ProfileError {
                file: source.to_path_buf(),
                line,
                column,
                kind,
            }
        };
        let raw: RawLoad = toml::from_str(text)
            .map_err(|e| err(e.span(), ProfileErrorKind::Invalid(e.message().to_owned())))?;
        let rate = *raw.calls_per_hour.get_ref();
        if !(rate > 0.0 && rate <= 100_000.0) {
            return Err(err(
                Some(raw.calls_per_hour.span()),
                ProfileErrorKind::OutOfRange {
                    field: "calls_per_hour",
                    value: rate,
                    min: 0.001,
                    max: 100_000.0,
                },
            ));
        }
        if raw.persona.is_empty() {
            return Err(err(
                None,
                ProfileErrorKind::Invalid("a load profile needs at least one [[persona]]".into()),
            ));
        }
        let mut mix = Vec::with_capacity(raw.persona.len());
        for p in &raw.persona {
            let mut steps = Vec::with_capacity(p.script.len());
            for s in &p.script {
                let step = parse_step(s.get_ref())
                    .map_err(|m| err(Some(s.span()), ProfileErrorKind::Invalid(m)))?;
                steps.push(step);
            }
            let mut persona = Persona::new(&p.name, steps);
            if let Some(ms) = p.give_up_ringing_ms {
                persona.give_up_ringing_ms = ms;
            }
            if p.answer_after_ms.is_some() {
                persona.answer_after_ms = p.answer_after_ms;
            }
            if let Some(d) = &p.dtmf {
                persona.dtmf = DtmfManner {
                    level_dbm0: d.level_dbm0,
                    twist_db: d.twist_db,
                    duration_ms: d.duration_ms,
                    gap_ms: d.gap_ms,
                    freq_error_pct: d.freq_error_pct,
                };
            }
            if p.speech {
                persona.speech = speech.cloned();
            }
            persona.speech_gain_db = p.speech_gain_db;
            mix.push((Arc::new(persona), p.weight.max(0.0)));
        }
        Ok(Self {
            calls_per_hour: rate,
            hold: raw.hold.into(),
            mix,
            patience: raw.patience.map(Into::into),
            seed: raw.seed,
        })
    }
}

/// Parses one script step, e.g. `press 2024#` or `wait-silence 700 15000`.
fn parse_step(s: &str) -> Result<Step, String> {
    let mut w = s.split_whitespace();
    let verb = w.next().unwrap_or("");
    let mut num = |what: &str| -> Result<u32, String> {
        w.next()
            .ok_or_else(|| format!("`{verb}` needs {what}"))?
            .parse::<u32>()
            .map_err(|_| format!("`{s}`: {what} must be a whole number of ms"))
    };
    let step = match verb {
        "wait" => Step::Wait(num("a time in ms")?),
        "wait-silence" => {
            let silence_ms = num("a silence length in ms")?;
            let timeout_ms = num("a timeout in ms").unwrap_or(30_000);
            Step::WaitForSilence {
                silence_ms,
                timeout_ms,
            }
        }
        "wait-audio" => Step::WaitForAudio {
            timeout_ms: num("a timeout in ms")?,
        },
        "say" => Step::Say(num("a time in ms")?),
        "press" => {
            let keys = w.next().ok_or("`press` needs keys, e.g. `press 1#`")?;
            if let Some(bad) = keys
                .chars()
                .find(|c| tel_types::Digit::from_char(*c).is_none())
            {
                return Err(format!("`{bad}` is not a key; keys are 0-9 * # A-D"));
            }
            if keys.len() > 32 {
                return Err("at most 32 keys per `press`".into());
            }
            Step::press(keys)
        }
        "flash" => Step::Flash,
        "hangup" => Step::HangUp,
        _ => {
            return Err(format!(
                "unknown step `{verb}`; steps are wait, wait-silence, wait-audio, press, say, \
                 flash, hangup"
            ));
        }
    };
    Ok(step)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoad {
    calls_per_hour: Spanned<f64>,
    #[serde(default)]
    seed: u64,
    hold: RawDuration,
    patience: Option<RawDuration>,
    #[serde(default)]
    persona: Vec<RawPersona>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum RawDuration {
    Exponential { mean_s: f64 },
    Lognormal { median_s: f64, sigma: f64 },
    Fixed { s: f64 },
}

impl From<RawDuration> for HoldTime {
    fn from(d: RawDuration) -> Self {
        match d {
            RawDuration::Exponential { mean_s } => Self::Exponential { mean_s },
            RawDuration::Lognormal { median_s, sigma } => Self::LogNormal { median_s, sigma },
            RawDuration::Fixed { s } => Self::Fixed { s },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPersona {
    name: String,
    #[serde(default = "one")]
    weight: f64,
    script: Vec<Spanned<String>>,
    give_up_ringing_ms: Option<u32>,
    answer_after_ms: Option<u32>,
    dtmf: Option<RawDtmf>,
    #[serde(default)]
    speech: bool,
    #[serde(default)]
    speech_gain_db: f32,
}

fn one() -> f64 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDtmf {
    level_dbm0: (f32, f32),
    twist_db: (f32, f32),
    duration_ms: (u32, u32),
    gap_ms: (u32, u32),
    freq_error_pct: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
calls_per_hour = 1800
seed = 7
hold = { kind = "lognormal", median_s = 120, sigma = 0.5 }

[[persona]]
name = "order"
weight = 3
script = ["wait-silence 700", "press 1", "press 2024#", "say 1500", "hangup"]

[[persona]]
name = "quick"
script = ["wait 500", "hangup"]
give_up_ringing_ms = 8000
"#;

    #[test]
    fn a_load_file_gives_the_mix_and_scripts() {
        let l = LoadProfile::parse(GOOD, "l.toml", None).unwrap();
        assert_eq!(l.calls_per_hour, 1800.0);
        assert_eq!(l.mix.len(), 2);
        assert_eq!(l.mix[0].1, 3.0);
        assert_eq!(
            l.mix[0].0.steps[0],
            Step::WaitForSilence {
                silence_ms: 700,
                timeout_ms: 30_000
            }
        );
        assert_eq!(l.mix[0].0.steps[2], Step::press("2024#"));
        assert_eq!(l.mix[1].0.give_up_ringing_ms, 8000);
    }

    #[test]
    fn a_bad_step_is_located() {
        let bad = GOOD.replace("\"press 2024#\"", "\"press 20x4#\"");
        let e = LoadProfile::parse(&bad, "l.toml", None).unwrap_err();
        assert_eq!(e.line, 9);
        assert!(e.to_string().contains("`x` is not a key"), "{e}");
        let bad = GOOD.replace("\"hangup\"]\ngive", "\"hang up\"]\ngive");
        let e = LoadProfile::parse(&bad, "l.toml", None).unwrap_err();
        assert_eq!(e.line, 13);
        assert!(e.to_string().contains("unknown step `hang`"), "{e}");
        let bad = GOOD.replace("kind = \"lognormal\"", "kind = \"normal\"");
        let e = LoadProfile::parse(&bad, "l.toml", None).unwrap_err();
        assert_eq!(e.line, 4);
    }
}
