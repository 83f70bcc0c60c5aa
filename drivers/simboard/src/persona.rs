//! Scripted people on the far end of a line: callers on trunks and agents on stations.
//!
//! A [`Persona`] is a script ([`Step`]s) plus a manner (how they press keys, how loud they
//! speak, how long they let it ring). A running persona hears what the board's user transmits
//! and sends what the script says: DTMF with realistic level, twist, duration and gaps, real
//! speech, silence.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tel_types::{Digit, FRAME_SAMPLES, FixedStr};

use dsp::dtmf_gen::{DtmfBurst, DtmfGenConfig, DtmfGenerator};

use crate::audio::db_gain;
use crate::rng::Rng;

/// One thing a persona does; a script runs its steps in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// Do nothing (listen) for this many ms.
    Wait(u32),
    /// Listen until some audio was heard and then `silence_ms` of silence (the end of a
    /// prompt), or until `timeout_ms` passed.
    WaitForSilence {
        /// Silence that ends the wait.
        silence_ms: u32,
        /// Give up waiting after this long.
        timeout_ms: u32,
    },
    /// Listen until audio is heard, or until `timeout_ms` passed.
    WaitForAudio {
        /// Give up waiting after this long.
        timeout_ms: u32,
    },
    /// Press these keys (`0`–`9`, `*`, `#`, `A`–`D`) in the persona's manner.
    Press(FixedStr<32>),
    /// Speak (real speech) for this many ms.
    Say(u32),
    /// Listen for a random time, drawn per call from a lognormal distribution with this
    /// median (ms) and shape `sigma` (0.5–0.8 is typical of call-centre talk times): an
    /// agent's conversation, a caller thinking.
    WaitLogNormal {
        /// Median in ms.
        median_ms: u32,
        /// Shape: the standard deviation of the underlying normal.
        sigma: f32,
    },
    /// Speak for a random time, drawn per call from a lognormal distribution with this
    /// median (ms) and shape `sigma`, at most `max_ms`: a message left on a voice mailbox.
    SayLogNormal {
        /// Median in ms.
        median_ms: u32,
        /// Shape: the standard deviation of the underlying normal.
        sigma: f32,
        /// Longest, ms (the draw is clamped to it).
        max_ms: u32,
    },
    /// A hook flash (stations only; ignored on trunks).
    Flash,
    /// Hang up.
    HangUp,
}

impl Step {
    /// `Press` for the keys in `keys` (other characters are dropped; up to 32 keys).
    pub fn press(keys: &str) -> Self {
        let mut s = FixedStr::EMPTY;
        for c in keys.chars().filter(|c| Digit::from_char(*c).is_some()) {
            if !s.push(c) {
                break;
            }
        }
        Self::Press(s)
    }
}

/// How a persona presses keys: each tone's level, twist, timing and frequency error are drawn
/// from these ranges, per key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfManner {
    /// Low-group tone level range in dBm0.
    pub level_dbm0: (f32, f32),
    /// Twist range in dB (high group minus low group; telephones send +2 … +4).
    pub twist_db: (f32, f32),
    /// Tone duration range in ms.
    pub duration_ms: (u32, u32),
    /// Gap between keys in ms.
    pub gap_ms: (u32, u32),
    /// Largest frequency error of each tone, in percent.
    pub freq_error_pct: f32,
}

impl Default for DtmfManner {
    /// A typical desk phone: low tone −12…−7 dBm0 and +1…+3 dB twist, so each tone is within
    /// −4…−12 dBm0; 50–150 ms tones, 60–300 ms gaps, ±1 % frequency error.
    fn default() -> Self {
        Self {
            level_dbm0: (-12.0, -7.0),
            twist_db: (1.0, 3.0),
            duration_ms: (50, 150),
            gap_ms: (60, 300),
            freq_error_pct: 1.0,
        }
    }
}

/// Real recorded speech (8 kHz linear), shared by every persona that talks.
#[derive(Clone, PartialEq)]
pub struct Speech {
    samples: Arc<[i16]>,
}

impl std::fmt::Debug for Speech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Speech({} samples)", self.samples.len())
    }
}

impl Speech {
    /// Speech from 8 kHz samples (must not be empty).
    pub fn from_samples(samples: Vec<i16>) -> Option<Self> {
        (!samples.is_empty()).then(|| Self {
            samples: samples.into(),
        })
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// The speech the simulated people use by default: 20 s of recorded human English
    /// speech (8 kHz A-law) that the DSP crate keeps for its talk-off tests, read in place
    /// from `crates/dsp/tests/data/speech_en_recorded.wav` (provenance and licence in the
    /// README there).
    ///
    /// # Errors
    /// [`SpeechError`] if the file is missing or unusable.
    pub fn recorded_english() -> Result<Self, SpeechError> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../crates/dsp/tests/data/speech_en_recorded.wav");
        Self::from_wavs(&[path.as_path()])
    }

    /// Speech from mono WAV files (16-bit linear, A-law or µ-law) at 8 kHz or a multiple of
    /// it (16, 48 kHz …: low-pass filtered and decimated to 8 kHz), one after the other.
    ///
    /// # Errors
    /// [`SpeechError`] naming the file and what is wrong with it.
    pub fn from_wavs(paths: &[&Path]) -> Result<Self, SpeechError> {
        let mut all = Vec::new();
        for path in paths {
            let err = |kind| SpeechError {
                file: path.to_path_buf(),
                kind,
            };
            let bytes = std::fs::read(path).map_err(|e| err(SpeechErrorKind::Io(e.kind())))?;
            let wav = dsp::wav::parse(&bytes).map_err(|e| err(SpeechErrorKind::Wav(e)))?;
            if wav.sample_rate == 0 || wav.sample_rate % 8000 != 0 {
                return Err(err(SpeechErrorKind::Rate(wav.sample_rate)));
            }
            let mut pcm = vec![0i16; wav.frames()];
            let n = wav.decode_into(&mut pcm);
            pcm.truncate(n);
            all.extend(decimate(&pcm, (wav.sample_rate / 8000) as usize));
        }
        Self::from_samples(all).ok_or(SpeechError {
            file: paths.first().map(|p| p.to_path_buf()).unwrap_or_default(),
            kind: SpeechErrorKind::Empty,
        })
    }
}

/// Low-pass (windowed sinc, cut-off 3.6 kHz at the output rate) and keep every `m`-th sample.
fn decimate(x: &[i16], m: usize) -> Vec<i16> {
    if m <= 1 {
        return x.to_vec();
    }
    let taps = 16 * m + 1;
    let fc = 3600.0 / (8000.0 * m as f64);
    let mid = (taps / 2) as f64;
    let h: Vec<f64> = (0..taps)
        .map(|i| {
            let t = i as f64 - mid;
            let sinc = if t == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * t).sin() / (std::f64::consts::PI * t)
            };
            let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (taps - 1) as f64).cos();
            sinc * w
        })
        .collect();
    (0..x.len() / m)
        .map(|k| {
            let c = k * m;
            let acc: f64 = h
                .iter()
                .enumerate()
                .filter_map(|(i, hv)| {
                    let j = (c + i).checked_sub(taps / 2)?;
                    x.get(j).map(|&s| f64::from(s) * hv)
                })
                .sum();
            acc.clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// A speech file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong.
    pub kind: SpeechErrorKind,
}

/// What is wrong with a speech file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpeechErrorKind {
    /// It could not be read.
    Io(std::io::ErrorKind),
    /// It is not a WAV file the DSP crate can decode.
    Wav(dsp::wav::WavError),
    /// Its rate is not a multiple of 8 kHz.
    Rate(u32),
    /// It has no samples.
    Empty,
}

impl std::fmt::Display for SpeechError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        match &self.kind {
            SpeechErrorKind::Io(e) => write!(f, "cannot read: {e}"),
            SpeechErrorKind::Wav(e) => write!(f, "{e}"),
            SpeechErrorKind::Rate(r) => {
                write!(f, "sample rate {r} Hz is not a multiple of 8000 Hz")
            }
            SpeechErrorKind::Empty => f.write_str("no samples"),
        }
    }
}

impl std::error::Error for SpeechError {}

/// A scripted person on the far end.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    /// A name for reports ("patient caller", "agent 3").
    pub name: String,
    /// The script.
    pub steps: Vec<Step>,
    /// Callers: hang up if not answered within this many ms. Agents: ignored.
    pub give_up_ringing_ms: u32,
    /// Agents: answer when rung after this many ms (`None`: never answer). Callers: ignored.
    pub answer_after_ms: Option<u32>,
    /// How keys are pressed.
    pub dtmf: DtmfManner,
    /// What is said for [`Step::Say`] (silence if none).
    pub speech: Option<Speech>,
    /// Speech level change in dB (0 = as recorded).
    pub speech_gain_db: f32,
}

impl Persona {
    /// A persona with `steps`, default manner, 30 s of patience, answering after 3 s.
    pub fn new(name: &str, steps: Vec<Step>) -> Self {
        Self {
            name: name.to_owned(),
            steps,
            give_up_ringing_ms: 30_000,
            answer_after_ms: Some(3_000),
            dtmf: DtmfManner::default(),
            speech: None,
            speech_gain_db: 0.0,
        }
    }
}

/// What a running persona wants the line to do after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    None,
    Flash,
    HangUp,
}

#[derive(Debug)]
enum Sound {
    Quiet,
    Keys,
    Speech { pos: usize, left: usize },
}

/// Frame energy above which the persona counts what it hears as sound (about −45 dBm0).
const HEAR_THRESHOLD_MS: f32 = 1.0e4;

/// A persona running a call.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) persona: Arc<Persona>,
    step: usize,
    step_started_ms: u64,
    started: bool,
    sound: Sound,
    rng: Rng,
    heard_sound: bool,
    silence_run_ms: u32,
    speech_pos: usize,
    keys: DtmfGenerator,
    /// Keys sent so far, for the call record.
    pub(crate) sent: FixedStr<64>,
    /// (digit, start ms) of each key sent.
    pub(crate) key_log: Vec<(Digit, u64, u32)>,
    /// The length drawn for the current `WaitLogNormal` step.
    drawn_ms: Option<u64>,
}

impl Running {
    pub(crate) fn new(persona: Arc<Persona>, seed: u64) -> Self {
        Self {
            persona,
            step: 0,
            step_started_ms: 0,
            started: false,
            sound: Sound::Quiet,
            rng: Rng::new(seed),
            heard_sound: false,
            silence_run_ms: 0,
            speech_pos: 0,
            keys: DtmfGenerator::new(DtmfGenConfig::default()),
            sent: FixedStr::EMPTY,
            key_log: Vec::new(),
            drawn_ms: None,
        }
    }

    /// Starts the script at `now_ms` (the answer), if it has not started.
    pub(crate) fn start(&mut self, now_ms: u64) {
        if !self.started {
            self.started = true;
            self.step_started_ms = now_ms;
        }
    }

    /// One 20 ms frame at `now_ms` (the frame's start): hears `heard`, adds what it sends to
    /// `out`, and says what the line should do.
    pub(crate) fn frame(&mut self, now_ms: u64, heard: &[i16], out: &mut [f32]) -> Action {
        if !self.started {
            self.started = true;
            self.step_started_ms = now_ms;
        }
        // Listen (only a step that waits for sound or silence needs it: every step starts
        // with a fresh ear, so skipping it elsewhere changes nothing).
        let listening = matches!(
            self.persona.steps.get(self.step),
            Some(Step::WaitForSilence { .. } | Step::WaitForAudio { .. })
        );
        let energy = if listening {
            heard
                .iter()
                .map(|&s| f32::from(s) * f32::from(s))
                .sum::<f32>()
                / heard.len().max(1) as f32
        } else {
            0.0
        };
        if energy > HEAR_THRESHOLD_MS {
            self.heard_sound = true;
            self.silence_run_ms = 0;
        } else {
            self.silence_run_ms = self.silence_run_ms.saturating_add(tel_types::FRAME_MS);
        }
        // Advance the script when nothing is being sent, then send.
        let action = if matches!(self.sound, Sound::Quiet) {
            self.advance(now_ms)
        } else {
            Action::None
        };
        self.render(now_ms, out);
        action
    }

    /// Runs script steps until one has to wait (several instant steps may run at once).
    fn advance(&mut self, now_ms: u64) -> Action {
        loop {
            let Some(step) = self.persona.steps.get(self.step).cloned() else {
                return Action::None;
            };
            let elapsed = now_ms.saturating_sub(self.step_started_ms);
            let done = match step {
                Step::Wait(ms) => elapsed >= u64::from(ms),
                Step::WaitLogNormal { median_ms, sigma } => {
                    let rng = &mut self.rng;
                    let ms = *self.drawn_ms.get_or_insert_with(|| {
                        rng.lognormal(f64::from(median_ms), f64::from(sigma))
                            .clamp(0.0, 4.0 * 3_600_000.0) as u64
                    });
                    elapsed >= ms
                }
                Step::WaitForSilence {
                    silence_ms,
                    timeout_ms,
                } => {
                    (self.heard_sound && self.silence_run_ms >= silence_ms)
                        || elapsed >= u64::from(timeout_ms)
                }
                Step::WaitForAudio { timeout_ms } => {
                    self.silence_run_ms == 0 || elapsed >= u64::from(timeout_ms)
                }
                Step::Press(keys) => {
                    self.queue_keys(now_ms, keys.as_str());
                    self.sound = Sound::Keys;
                    true
                }
                Step::Say(ms) => {
                    self.sound = Sound::Speech {
                        pos: self.speech_pos,
                        left: ms as usize * 8,
                    };
                    true
                }
                Step::SayLogNormal {
                    median_ms,
                    sigma,
                    max_ms,
                } => {
                    let ms = self
                        .rng
                        .lognormal(f64::from(median_ms), f64::from(sigma))
                        .clamp(0.0, f64::from(max_ms)) as usize;
                    self.sound = Sound::Speech {
                        pos: self.speech_pos,
                        left: ms * 8,
                    };
                    true
                }
                Step::Flash => {
                    self.next_step(now_ms);
                    return Action::Flash;
                }
                Step::HangUp => {
                    self.next_step(now_ms);
                    return Action::HangUp;
                }
            };
            if !done {
                return Action::None;
            }
            self.next_step(now_ms);
            if !matches!(self.sound, Sound::Quiet) {
                return Action::None;
            }
        }
    }

    fn next_step(&mut self, now_ms: u64) {
        self.step += 1;
        self.step_started_ms = now_ms;
        self.drawn_ms = None;
        self.heard_sound = false;
        self.silence_run_ms = 0;
    }

    /// Queues `keys` on the DTMF generator, each with level, twist, length, gap and
    /// frequency error drawn from the persona's manner.
    fn queue_keys(&mut self, now_ms: u64, keys: &str) {
        let m = self.persona.dtmf;
        let r = &mut self.rng;
        let mut at = now_ms;
        for d in keys.chars().filter_map(Digit::from_char) {
            let low = r.range_f64(f64::from(m.level_dbm0.0), f64::from(m.level_dbm0.1)) as f32;
            let twist = r.range_f64(f64::from(m.twist_db.0), f64::from(m.twist_db.1)) as f32;
            let dur = r.range_u32(m.duration_ms.0, m.duration_ms.1);
            let gap = r.range_u32(m.gap_ms.0, m.gap_ms.1);
            let err = f64::from(m.freq_error_pct) / 100.0;
            let (lo, hi) = d.frequencies_hz();
            let burst = DtmfBurst {
                low_hz: lo as f32 * (1.0 + r.range_f64(-err, err) as f32),
                high_hz: hi as f32 * (1.0 + r.range_f64(-err, err) as f32),
                low_dbm0: low,
                high_dbm0: low + twist,
                on_samples: dur * 8,
                off_samples: gap * 8,
            };
            if !self.keys.push_burst(burst) {
                break;
            }
            self.sent.push(d.as_char());
            self.key_log.push((d, at, dur));
            at += u64::from(dur + gap);
        }
    }

    fn render(&mut self, now_ms: u64, out: &mut [f32]) {
        let mut i = 0;
        while i < out.len() {
            match &mut self.sound {
                Sound::Quiet => return,
                Sound::Speech { pos, left } => {
                    let Some(speech) = &self.persona.speech else {
                        self.sound = Sound::Quiet;
                        return;
                    };
                    let s = speech.samples();
                    let g = db_gain(self.persona.speech_gain_db);
                    while i < out.len() && *left > 0 {
                        if *pos >= s.len() {
                            *pos = 0;
                        }
                        out[i] += f32::from(s[*pos]) * g;
                        *pos += 1;
                        *left -= 1;
                        i += 1;
                    }
                    if *left == 0 {
                        self.speech_pos = *pos;
                        self.sound = Sound::Quiet;
                        self.step_started_ms = now_ms + i as u64 / 8;
                    }
                }
                Sound::Keys => {
                    let mut pcm = [0i16; FRAME_SAMPLES];
                    let n = out.len() - i;
                    let active = self.keys.fill(&mut pcm[..n]);
                    for (o, p) in out[i..].iter_mut().zip(pcm.iter()) {
                        *o += f32::from(*p);
                    }
                    if active < n {
                        self.sound = Sound::Quiet;
                        self.step_started_ms = now_ms + (i + active) as u64 / 8;
                    }
                    i = out.len();
                }
            }
        }
        debug_assert_eq!(out.len(), FRAME_SAMPLES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_keys_with_gaps_then_hangs_up() {
        let p = Arc::new(Persona::new(
            "t",
            vec![Step::Wait(100), Step::press("12#"), Step::HangUp],
        ));
        let mut r = Running::new(p, 1);
        let heard = [0i16; 160];
        let mut t = 0;
        let mut loud_frames = 0;
        loop {
            let mut out = [0f32; 160];
            let a = r.frame(t, &heard, &mut out);
            if out.iter().any(|s| s.abs() > 100.0) {
                loud_frames += 1;
            }
            t += 20;
            if a == Action::HangUp {
                break;
            }
            assert!(t < 5000, "never hung up");
        }
        assert_eq!(r.sent.as_str(), "12#");
        assert_eq!(r.key_log.len(), 3);
        assert!(r.key_log[0].1 >= 100);
        assert!((3..=30).contains(&loud_frames), "{loud_frames}");
    }

    /// Runs a persona until it hangs up; the ms it took.
    fn time_to_hang_up(p: &Arc<Persona>, seed: u64) -> u64 {
        let mut r = Running::new(p.clone(), seed);
        let heard = [0i16; 160];
        let mut t = 0;
        loop {
            let mut out = [0f32; 160];
            if r.frame(t, &heard, &mut out) == Action::HangUp {
                return t;
            }
            t += 20;
        }
    }

    #[test]
    fn lognormal_speech_differs_per_call_with_the_asked_median_and_cap() {
        let speech = Speech::from_samples(vec![8_000; 800]).unwrap();
        let mut p = Persona::new(
            "message",
            vec![
                Step::SayLogNormal {
                    median_ms: 40_000,
                    sigma: 0.7,
                    max_ms: 110_000,
                },
                Step::HangUp,
            ],
        );
        p.speech = Some(speech);
        let p = Arc::new(p);
        // ms of speech sent before the hang-up.
        let talk = |seed| {
            let mut r = Running::new(p.clone(), seed);
            let heard = [0i16; 160];
            let (mut t, mut loud) = (0u64, 0u64);
            loop {
                let mut out = [0f32; 160];
                let a = r.frame(t, &heard, &mut out);
                loud += out.iter().filter(|s| s.abs() > 1000.0).count() as u64;
                if a == Action::HangUp {
                    return loud / 8;
                }
                t += 20;
            }
        };
        let mut times: Vec<u64> = (0..201).map(talk).collect();
        assert_eq!(times[5], talk(5));
        times.sort_unstable();
        let median = times[100] as f64;
        assert!((33_000.0..48_000.0).contains(&median), "{median}");
        assert!(times[0] < 20_000, "{times:?}");
        // The longest are cut at the cap (e^(0.7 * 2.6) ~ 6 times the median is drawn
        // about once in 200).
        assert!(times[200] <= 110_000 && times[200] > 90_000, "{times:?}");
    }

    #[test]
    fn lognormal_waits_differ_per_call_with_the_asked_median() {
        let p = Arc::new(Persona::new(
            "talker",
            vec![
                Step::WaitLogNormal {
                    median_ms: 120_000,
                    sigma: 0.6,
                },
                Step::HangUp,
            ],
        ));
        let mut times: Vec<u64> = (0..201).map(|seed| time_to_hang_up(&p, seed)).collect();
        // The same seed gives the same call.
        assert_eq!(times[7], time_to_hang_up(&p, 7));
        times.sort_unstable();
        let median = times[100] as f64;
        assert!((100_000.0..145_000.0).contains(&median), "{median}");
        // Spread: the shortest and longest of 201 calls are far apart (sigma 0.6).
        assert!(times[0] < 60_000 && times[200] > 250_000, "{times:?}");
    }
}
