//! Talk-off: no digit may come out of speech, music or our own prompt's echo, and digits
//! must still be heard with speech 10 dB below them.
//!
//! Speech data (`tests/data`, see its README), all 8 kHz A-law: recorded English words and
//! phrases, recorded Mandarin (IVR and caller phrases from a male speaker's syllable
//! recordings, and the digits 0-9 spoken as words), a female Mandarin voicebank rendered by a
//! singing synthesiser, and Mandarin and English synthesised by espeak-ng; and two recorded
//! words whose vowels put two harmonics right by a DTMF pair.

mod common;

use common::*;
use dsp::dtmf_rx::DtmfConfig;
use dsp::level::power_to_dbm0;
use tel_types::{Digit, Law};

#[test]
fn speech_at_every_level_gives_no_digit() {
    for name in SPEECH {
        let s = read_wav(name);
        for db in [6.0, 0.0, -6.0, -12.0, -20.0, -30.0] {
            for law in [Law::Linear, Law::ALaw, Law::MuLaw] {
                let pcm = to_pcm(&gain(&s, db), law);
                assert_eq!(
                    keys(DtmfConfig::default(), &pcm),
                    "",
                    "{name} at {db} dB {law:?}"
                );
            }
        }
    }
}

/// The receiver presets (`bellcore()` is the same as `q24()`).
const PRESETS: [(&str, DtmfConfig); 3] = [
    ("q24", DtmfConfig::q24()),
    ("ntt", DtmfConfig::ntt()),
    ("lenient", DtmfConfig::lenient()),
];

/// Every preset (`bellcore()` is the same as `q24()`), including the lenient one that accepts
/// 10 dB of twist either way, over linear audio and through A-law.
#[test]
fn speech_gives_no_digit_with_any_preset() {
    for name in SPEECH {
        let s = read_wav(name);
        for db in [0.0, -10.0, -20.0] {
            for law in [Law::Linear, Law::ALaw] {
                let pcm = to_pcm(&gain(&s, db), law);
                for (preset, cfg) in PRESETS {
                    assert_eq!(keys(cfg, &pcm), "", "{name} at {db} dB {law:?} {preset}");
                }
            }
        }
    }
}

/// Notes of the equal-tempered scale with harmonics, as instruments play them.
fn note(hz: f64, ms: usize, harmonics: &[f64], amp: f64) -> Vec<f64> {
    let n = ms * 8;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            // Attack and decay envelope.
            let env = (t / 0.01).min(1.0) * (-(t * 3.0)).exp();
            let mut v = 0.0;
            for (k, h) in harmonics.iter().enumerate() {
                let f = hz * (k + 1) as f64;
                if f < 3900.0 {
                    v += h * (std::f64::consts::TAU * f * t).sin();
                }
            }
            amp * env * v
        })
        .collect()
}

fn music(rng: &mut Rng, seconds: usize, harmonics: &[f64], chords: bool) -> Vec<f64> {
    let mut out = Vec::new();
    let scale = [0, 2, 4, 5, 7, 9, 11];
    while out.len() < seconds * 8000 {
        let ms = [120, 180, 250, 400][rng.below(4)];
        let base = 60 + 12 * rng.below(3) as i32 + scale[rng.below(7)];
        let mut seg = note(midi(base), ms, harmonics, 6000.0);
        if chords {
            for third in [4, 7] {
                let n2 = note(midi(base + third), ms, harmonics, 5000.0);
                for (a, b) in seg.iter_mut().zip(n2) {
                    *a += b;
                }
            }
        }
        out.extend(seg);
    }
    out
}

fn midi(n: i32) -> f64 {
    440.0 * 2f64.powf((n - 69) as f64 / 12.0)
}

#[test]
fn music_like_signals_give_no_digit() {
    let mut rng = Rng(0x004d_7573_6963);
    let timbres: [&[f64]; 4] = [
        &[1.0, 0.5, 0.33, 0.25, 0.2, 0.16],
        &[1.0, 0.0, 0.33, 0.0, 0.2, 0.0, 0.14],
        &[1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1],
        &[1.0, 0.3, 0.1],
    ];
    for t in timbres {
        for chords in [false, true] {
            let m = music(&mut rng, 30, t, chords);
            for db in [0.0, -10.0, -20.0] {
                let pcm = to_pcm(&gain_f(&m, db), Law::ALaw);
                assert_eq!(
                    keys(DtmfConfig::default(), &pcm),
                    "",
                    "{t:?} chords {chords}"
                );
            }
        }
    }
}

fn gain_f(x: &[f64], db: f64) -> Vec<f64> {
    let g = 10f64.powf(db / 20.0);
    x.iter().map(|s| s * g).collect()
}

#[test]
fn our_own_prompt_echo_gives_no_digit() {
    // The prompt we play leaks back through the hybrid at 10-20 dB echo return loss, on a
    // line with a little noise.
    let mut rng = Rng(99);
    for name in SPEECH {
        let s = read_wav(name);
        for erl in [10.0, 15.0, 20.0] {
            let mut echo = gain(&s, -erl);
            let n = noise(&mut rng, echo.len(), -55.0);
            mix_at(&mut echo, &n, 0);
            assert_eq!(keys(DtmfConfig::default(), &to_pcm(&echo, Law::ALaw)), "");
        }
    }
}

/// Keys over speech whose active level is 10 dB below the tones' (-7.9 dBm0). A loud syllable
/// can still come within a few dB of a key: then the tones carry less than the three quarters
/// of the power a key needs (the margin that keeps speech from making keys) and the key may
/// be lost. Every key is heard where the speech during it is at least 6 dB below it (the
/// tones then carry 80 %), which is most of them, and nothing is ever heard that was
/// not keyed.
#[test]
fn digits_are_heard_with_speech_10db_below_them() {
    const KEY_MS: usize = 60;
    let mut rng = Rng(1234);
    let tones = power_to_dbm0(dsp::level::dbm0_to_power(-12.0) + dsp::level::dbm0_to_power(-10.0));
    for name in SPEECH {
        let s = gain(&read_wav(name), 0.0);
        // Speech scaled so its active level is 10 dB below the tones'.
        let speech = gain_f(&s, (tones - 10.0 - active_level_dbm0(&s)) as f64);
        // A key every 400 ms, each 60 ms at -12/-10 dBm0; each noted with whether the speech
        // during it is at least 6 dB below it.
        let mut sig = speech.clone();
        let mut placed = Vec::new();
        let mut pos = 800;
        while pos + 800 < s.len() {
            let d = Digit::ALL[rng.below(16)];
            mix_at(&mut sig, &key(d, -12.0, -10.0, KEY_MS), pos);
            let quiet = level_dbm0(&speech[pos..pos + KEY_MS * 8]) <= tones - 6.0;
            placed.push((d, pos, quiet));
            pos += 3200;
        }
        let quiet = placed.iter().filter(|k| k.2).count();
        assert!(
            quiet * 5 >= placed.len() * 4,
            "{name}: {quiet} of {}",
            placed.len()
        );
        for law in [Law::Linear, Law::ALaw] {
            let (downs, _) = run_rx(DtmfConfig::default(), &to_pcm(&sig, law));
            // Every key heard was keyed, once, starting within 30 ms of its start (loud speech
            // at the onset can delay the measured start).
            let mut heard = vec![false; placed.len()];
            for e in &downs {
                let at = e.start.0 as i64 - 1_000_000;
                let i = placed
                    .iter()
                    .position(|&(d, p, _)| d == e.digit && (at - p as i64).abs() <= 240)
                    .unwrap_or_else(|| panic!("{name} {law:?}: {e:?} was not keyed"));
                assert!(!heard[i], "{name} {law:?}: {e:?} heard twice");
                heard[i] = true;
            }
            for (&(d, p, quiet), heard) in placed.iter().zip(heard) {
                assert!(heard || !quiet, "{name} {law:?}: {d:?} at sample {p} lost");
            }
        }
    }
}

/// Two sustained instrument notes, each with strong harmonics, landing near a DTMF pair:
/// 774 Hz (+0.5 % from 770) and 1182 Hz (-2.2 % from 1209). Recorded accordion and organ
/// chords like this gave a '4' on an earlier version of the receiver (moderately pure, just
/// inside the ±2.5 % frequency decision); a key now has to be clean or on frequency.
#[test]
fn sustained_chord_slightly_off_a_dtmf_pair_is_not_a_key() {
    let mut rng = Rng(0x4ACC);
    for (lo, hi) in [
        (774.0, 1182.0),
        (852.0 * 1.021, 1477.0 * 0.98),
        (770.0 * 0.98, 1633.0 * 1.02),
        // The second harmonic of 711 Hz lands 86 Hz from 1336 Hz and skews that tone's
        // frequency measurement; the analysis also flips between neighbouring pairs.
        (697.0 * 1.02, 1336.0),
    ] {
        for db in [0.0, -10.0, -20.0] {
            let n = 8000;
            let mut v = silence(800);
            let g = 10f64.powf(db / 20.0) * 4000.0;
            let vib = 0.002 * (rng.uniform() + 0.5);
            for i in 0..n {
                let t = i as f64 / 8000.0;
                // Slight vibrato, as a player gives.
                let w = 1.0 + vib * (std::f64::consts::TAU * 5.0 * t).sin();
                let mut x = 0.0;
                for (f, a) in [(lo, 1.0), (hi, 0.9)] {
                    for (k, h) in [(1.0, 1.0), (2.0, 0.45), (3.0, 0.3), (4.0, 0.15)] {
                        if f * k < 3900.0 {
                            x += a * h * (std::f64::consts::TAU * f * k * w * t).sin();
                        }
                    }
                }
                v.push(g * x);
            }
            v.extend(silence(800));
            for cfg in [DtmfConfig::q24(), DtmfConfig::bellcore()] {
                assert_eq!(keys(cfg, &to_pcm(&v, Law::ALaw)), "", "{lo} {hi} {db}");
            }
        }
    }
    // The same two frequencies as clean sines 1.5 % off are still a key (Q.24 accepts).
    let b = burst(770.0 * 1.015, 1209.0 * 0.985, -10.0, -10.0, 400);
    let mut v = silence(480);
    v.extend(b);
    v.extend(silence(480));
    assert_eq!(keys(DtmfConfig::q24(), &to_pcm(&v, Law::ALaw)), "4");
}

/// A high voice's vowel (fundamental `f0` gliding to `f1` Hz over `ms`) whose 2nd and 3rd
/// harmonics carry nearly all its power, as in a sung or a child's "ou", at `dbm0`.
fn high_vowel(f0: f64, f1: f64, ms: usize, dbm0: f32) -> Vec<f64> {
    let n = ms * 8;
    let amp = (2.0 * dsp::level::dbm0_to_power(dbm0) as f64 / (0.1 + 0.7 + 1.0)).sqrt();
    let mut ph = 0.0;
    (0..n)
        .map(|i| {
            let f = f0 + (f1 - f0) * (i as f64 / n as f64).min(0.4) / 0.4;
            ph += std::f64::consts::TAU * f / 8000.0;
            let env = (i as f64 / 80.0).min(1.0) * ((n - i) as f64 / 80.0).min(1.0);
            let v: f64 = [(1.0, 0.1f64), (2.0, 0.7), (3.0, 1.0)]
                .iter()
                .map(|&(k, a)| a.sqrt() * (k * ph).sin())
                .sum();
            amp * env * v
        })
        .collect()
}

/// The 2nd and 3rd harmonics of a 390-400 Hz voice sit 2-3 % from 770 and 1209 Hz, and a
/// female voicebank's "ou" (欧, first tone, `speech_zh_voicebank.wav`) gave a '4' at every
/// level. Two frequencies in a ratio of small whole numbers, off by more than Q.23's 1.8 %,
/// are taken for harmonics, not a key; a key pressed over such a vowel is still heard.
#[test]
fn harmonics_of_a_high_voice_near_a_key_are_not_a_key() {
    for (f0, f1) in [
        (386.0, 396.0),
        (392.0, 395.0),
        (396.0, 397.0),
        (404.0, 398.0),
    ] {
        for dbm0 in [-5.0, -15.0, -25.0, -35.0] {
            let mut v = silence(800);
            v.extend(high_vowel(f0, f1, 300, dbm0));
            v.extend(silence(800));
            for law in [Law::Linear, Law::ALaw] {
                for cfg in [DtmfConfig::q24(), DtmfConfig::ntt(), DtmfConfig::lenient()] {
                    assert_eq!(keys(cfg, &to_pcm(&v, law)), "", "{f0}-{f1} Hz {dbm0} dBm0");
                }
            }
        }
    }
    // A '4' pressed during such a vowel, 6 dB above it, is heard once.
    let mut v = silence(800);
    v.extend(high_vowel(390.0, 395.0, 400, -20.0));
    v.extend(silence(800));
    mix_at(&mut v, &key(Digit::D4, -16.0, -14.0, 80), 800 + 1600);
    assert_eq!(keys(DtmfConfig::q24(), &to_pcm(&v, Law::ALaw)), "4");
    // A key from a generator whose clock is 2.2 % fast (both tones alike, the ratio kept)
    // is still a key, and so is one 1.5 % off in opposite directions (Q.24).
    for (lo, hi) in [(1.022, 1.022), (1.015, 0.985), (0.985, 1.015)] {
        let mut v = silence(480);
        v.extend(burst(770.0 * lo, 1209.0 * hi, -10.0, -10.0, 400));
        v.extend(silence(480));
        assert_eq!(
            keys(DtmfConfig::q24(), &to_pcm(&v, Law::ALaw)),
            "4",
            "{lo} {hi}"
        );
    }
}

/// Two recorded words (KTuberling's Catalan "owl" and Ukrainian "accident", see the data
/// README) whose vowels put two harmonics of the voice by a DTMF pair: the 3rd and 6th of
/// about 227 Hz by 697/1336 Hz ('2'), the 4th and 5th of about 240 Hz by 941/1209 Hz ('*').
/// Both gave their key at every level before harmonic pairs were checked.
#[test]
fn recorded_words_with_harmonics_by_a_key_give_no_digit() {
    let s = read_wav("speech_words_harmonic.wav");
    for db in [6.0, 0.0, -6.0, -12.0, -20.0, -30.0] {
        for law in [Law::Linear, Law::ALaw, Law::MuLaw] {
            let pcm = to_pcm(&gain(&s, db), law);
            for (preset, cfg) in PRESETS {
                assert_eq!(keys(cfg, &pcm), "", "{db} dB {law:?} {preset}");
            }
        }
    }
}
