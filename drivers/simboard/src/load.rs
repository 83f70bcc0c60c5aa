//! The load generator: inbound calls with Poisson arrivals, a hold-time distribution and a mix
//! of personas, deterministic from a seed.

use std::sync::Arc;

use tel_types::{CallerId, FixedStr};

use crate::board::CallSpec;
use crate::persona::Persona;
use crate::rng::Rng;

/// A duration distribution: how long callers stay once answered, or let it ring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HoldTime {
    /// Exponential with this mean, in seconds.
    Exponential {
        /// Mean in s.
        mean_s: f64,
    },
    /// Lognormal with this median (s) and shape.
    LogNormal {
        /// Median in s.
        median_s: f64,
        /// Shape (sigma of the underlying normal); 0.5 is a typical call centre.
        sigma: f64,
    },
    /// Always this long, in seconds.
    Fixed {
        /// Seconds.
        s: f64,
    },
}

/// What the load generator offers.
#[derive(Debug, Clone)]
pub struct LoadProfile {
    /// Mean arrival rate, calls per hour (Poisson arrivals).
    pub calls_per_hour: f64,
    /// Hold time after answer (the caller hangs up then at the latest).
    pub hold: HoldTime,
    /// Personas and their weights.
    pub mix: Vec<(Arc<Persona>, f64)>,
    /// How long callers let it ring before giving up (overrides each persona's
    /// `give_up_ringing_ms`); `None` keeps the personas' own.
    pub patience: Option<HoldTime>,
    /// Seed: the same seed gives the same calls.
    pub seed: u64,
}

/// Generates calls from a [`LoadProfile`]; attach it with [`crate::SimBoard::set_load`].
#[derive(Debug, Clone)]
pub struct LoadGenerator {
    profile: LoadProfile,
    rng: Rng,
    next_ms: f64,
    total_weight: f64,
    generated: u64,
}

impl LoadGenerator {
    /// A generator whose first call arrives after an exponential gap from time 0.
    pub fn new(profile: LoadProfile) -> Self {
        let mut rng = Rng::new(profile.seed);
        let mean_gap = 3_600_000.0 / profile.calls_per_hour.max(1e-9);
        let next_ms = rng.exponential(mean_gap);
        let total_weight = profile.mix.iter().map(|m| m.1.max(0.0)).sum();
        Self {
            profile,
            rng,
            next_ms,
            total_weight,
            generated: 0,
        }
    }

    /// Replaces the persona mix from the next call on; the arrivals (rate, times, seed) go on
    /// unchanged, so a demo can switch to the callers of the night at closing time.
    pub fn set_mix(&mut self, mix: Vec<(Arc<Persona>, f64)>) {
        self.total_weight = mix.iter().map(|m| m.1.max(0.0)).sum();
        self.profile.mix = mix;
    }

    /// Calls generated so far.
    pub fn generated(&self) -> u64 {
        self.generated
    }

    /// The next call if it is due at or before `now_ms`.
    pub fn next_due(&mut self, now_ms: u64) -> Option<CallSpec> {
        if self.next_ms > now_ms as f64 || self.profile.mix.is_empty() {
            return None;
        }
        let mean_gap = 3_600_000.0 / self.profile.calls_per_hour.max(1e-9);
        self.next_ms += self.rng.exponential(mean_gap);
        self.generated += 1;
        let mut pick = self.rng.next_f64() * self.total_weight;
        let mut persona = self.profile.mix[0].0.clone();
        for (p, w) in &self.profile.mix {
            if pick < *w {
                persona = p.clone();
                break;
            }
            pick -= w;
        }
        let hold_s = self.draw(self.profile.hold);
        let patience_s = self.profile.patience.map(|p| self.draw(p));
        Some(CallSpec {
            persona,
            caller_id: self.caller_id(),
            hold_ms: Some((hold_s * 1000.0).clamp(1000.0, 3_600_000.0) as u32),
            give_up_ms: patience_s.map(|s| (s * 1000.0).clamp(1000.0, 600_000.0) as u32),
            seed: self.rng.next_u64(),
        })
    }

    fn draw(&mut self, d: HoldTime) -> f64 {
        match d {
            HoldTime::Exponential { mean_s } => self.rng.exponential(mean_s),
            HoldTime::LogNormal { median_s, sigma } => self.rng.lognormal(median_s, sigma),
            HoldTime::Fixed { s } => s,
        }
    }

    /// A Chinese mobile number (1[3-9]x xxxx xxxx) and the time field.
    fn caller_id(&mut self) -> CallerId {
        let mut number = FixedStr::EMPTY;
        number.push('1');
        number.push(char::from(b'3' + self.rng.range_u32(0, 6) as u8));
        for _ in 0..9 {
            number.push(char::from(b'0' + self.rng.range_u32(0, 9) as u8));
        }
        CallerId {
            number,
            datetime: FixedStr::new_truncated("11221230"),
            ..CallerId::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persona::Step;

    #[test]
    fn poisson_rate_and_mix_are_as_asked_and_repeatable() {
        let a = Arc::new(Persona::new("a", vec![Step::HangUp]));
        let b = Arc::new(Persona::new("b", vec![Step::HangUp]));
        let profile = LoadProfile {
            calls_per_hour: 1800.0,
            hold: HoldTime::LogNormal {
                median_s: 120.0,
                sigma: 0.5,
            },
            mix: vec![(a, 3.0), (b, 1.0)],
            patience: Some(HoldTime::Exponential { mean_s: 20.0 }),
            seed: 7,
        };
        let run = || {
            let mut g = LoadGenerator::new(profile.clone());
            let mut calls = Vec::new();
            for ms in (0..10 * 3_600_000u64).step_by(20) {
                while let Some(c) = g.next_due(ms) {
                    calls.push((
                        ms,
                        c.persona.name.clone(),
                        c.hold_ms,
                        c.give_up_ms,
                        c.caller_id.number,
                    ));
                }
            }
            calls
        };
        let calls = run();
        // 18,000 expected in 10 h; Poisson sd is 134.
        assert!((17_500..18_500).contains(&calls.len()), "{}", calls.len());
        let share_a = calls.iter().filter(|c| c.1 == "a").count() as f64 / calls.len() as f64;
        assert!((share_a - 0.75).abs() < 0.02, "{share_a}");
        assert_eq!(calls, run());
        assert_eq!(calls[0].4.as_str().len(), 11);
        let mean_patience =
            calls.iter().map(|c| f64::from(c.3.unwrap())).sum::<f64>() / calls.len() as f64;
        assert!(
            (19_000.0..22_000.0).contains(&mean_patience),
            "{mean_patience}"
        );
    }

    #[test]
    fn a_new_mix_applies_from_the_next_call_and_keeps_the_arrivals() {
        let a = Arc::new(Persona::new("day", vec![Step::HangUp]));
        let b = Arc::new(Persona::new("night", vec![Step::HangUp]));
        let profile = LoadProfile {
            calls_per_hour: 3600.0,
            hold: HoldTime::Fixed { s: 60.0 },
            mix: vec![(a.clone(), 1.0)],
            patience: None,
            seed: 3,
        };
        let arrivals = |switch: bool| {
            let mut g = LoadGenerator::new(profile.clone());
            let mut out = Vec::new();
            for ms in (0..600_000u64).step_by(20) {
                if switch && ms == 300_000 {
                    g.set_mix(vec![(b.clone(), 2.0)]);
                }
                while let Some(c) = g.next_due(ms) {
                    out.push((ms, c.persona.name.clone()));
                }
            }
            out
        };
        let (plain, switched) = (arrivals(false), arrivals(true));
        let times = |v: &[(u64, String)]| v.iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(times(&plain), times(&switched));
        assert!(switched.iter().all(|c| (c.0 < 300_000) == (c.1 == "day")));
        assert!(switched.iter().any(|c| c.1 == "night"));
    }
}
