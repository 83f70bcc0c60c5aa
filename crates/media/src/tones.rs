//! Tone generation on the transmit path: zone tones, DTMF, beep (generators from `dsp`).

use dsp::dtmf_gen::{DtmfBurst, DtmfGenConfig, DtmfGenerator};
use dsp::tone::ToneGenerator;
use dsp::zones::ToneZone;
use tel_types::{SampleTime, Tone};

/// The tone (if any) being mixed into transmitted audio.
#[derive(Debug)]
pub(crate) struct ToneSource {
    zone: &'static ToneZone,
    level_dbm0: f32,
    dtmf_config: DtmfGenConfig,
    zone_tone: Option<ToneGenerator>,
    dtmf: DtmfGenerator,
    dtmf_active: bool,
    /// Samples left to play; `None` until stopped (or until a one-shot tone ends).
    left: Option<u64>,
}

impl ToneSource {
    pub(crate) fn new(config: &crate::Config) -> Self {
        Self {
            zone: config.zone,
            level_dbm0: config.tone_level_dbm0,
            dtmf_config: config.dtmf_tx,
            zone_tone: None,
            dtmf: DtmfGenerator::new(config.dtmf_tx),
            dtmf_active: false,
            left: None,
        }
    }

    /// Starts `tone` for `samples` samples (0: until stopped or, for a one-shot tone such as
    /// the beep, until it ends). Returns `false` if the zone has no such tone.
    ///
    /// # Real-time
    /// Does not allocate: generators are plain values.
    pub(crate) fn start(&mut self, tone: Tone, samples: u64) -> bool {
        self.stop();
        self.left = (samples > 0).then_some(samples);
        if let Tone::Dtmf(digit) = tone {
            let mut cfg = self.dtmf_config;
            if samples > 0 {
                cfg.on_ms = (samples / tel_types::SAMPLES_PER_MS) as u32;
            }
            cfg.off_ms = 0;
            self.dtmf_active = self.dtmf.push_burst(DtmfBurst::for_digit(digit, &cfg));
            return self.dtmf_active;
        }
        match self.zone.tone(tone) {
            Some(spec) => {
                self.zone_tone = Some(ToneGenerator::new(spec, self.level_dbm0));
                true
            }
            None => false,
        }
    }

    pub(crate) fn stop(&mut self) {
        self.zone_tone = None;
        self.dtmf.clear();
        self.dtmf_active = false;
        self.left = None;
    }

    pub(crate) fn is_active(&self) -> bool {
        self.zone_tone.is_some() || self.dtmf_active
    }

    /// Adds the tone to `tx` (saturating). Returns whether a tone is still on
    /// ([`ToneSource::is_active`]).
    pub(crate) fn mix_into(&mut self, _now: SampleTime, tx: &mut [i16]) -> bool {
        if !self.is_active() {
            return false;
        }
        let limit = self
            .left
            .map_or(tx.len(), |l| l.min(tx.len() as u64) as usize);
        let out = &mut tx[..limit];
        let mut ended = false;
        if let Some(g) = &mut self.zone_tone {
            g.mix(out);
            ended = g.is_done();
        } else if self.dtmf_active {
            self.dtmf.mix(out);
            ended = self.dtmf.is_idle();
        }
        if let Some(l) = &mut self.left {
            *l -= limit as u64;
            ended |= *l == 0;
        }
        if ended {
            self.stop();
        }
        self.is_active()
    }
}
