//! Level meter and silence/voice detector: the dBm0 convention end to end, and the events
//! end-of-recording and barge-in rely on.

mod common;

use common::*;
use dsp::level::{LevelMeter, VadConfig, VadEvent, VoiceDetector, power_to_dbm0};
use tel_types::{Law, SampleTime};

fn sine_dbm0(dbm0: f32, n: usize) -> Vec<f64> {
    let a = dsp::level::sine_peak_for_dbm0(dbm0) as f64;
    (0..n)
        .map(|i| a * (std::f64::consts::TAU * 1004.0 * i as f64 / 8000.0).sin())
        .collect()
}

#[test]
fn meter_reads_sines_at_their_level_through_every_law() {
    for law in [Law::Linear, Law::ALaw, Law::MuLaw] {
        for dbm0 in [3.0f32, 0.0, -10.0, -30.0, -50.0] {
            let pcm = to_pcm(&sine_dbm0(dbm0, 8000), law);
            let mut m = LevelMeter::new();
            for f in pcm.chunks(160) {
                m.process(f);
            }
            let tol = if dbm0 < -40.0 { 0.6 } else { 0.15 };
            assert!(
                (m.average_dbm0() - dbm0).abs() < tol,
                "{law:?} {dbm0}: {}",
                m.average_dbm0()
            );
            assert!((m.level_dbm0() - dbm0).abs() < tol + 0.1);
        }
    }
    // A full-scale sine is +3.14 dBm0 (the A-law overload point).
    let full_scale = power_to_dbm0(32767.0f32 * 32767.0 / 2.0);
    assert!((full_scale - dsp::level::FULL_SCALE_SINE_DBM0).abs() < 0.01);
    assert!(full_scale > 3.1 && full_scale < 3.2);
}

fn run_vad(cfg: VadConfig, pcm: &[i16]) -> Vec<VadEvent> {
    let mut v = VoiceDetector::new(cfg);
    let mut out = Vec::new();
    let mut t = SampleTime::ZERO;
    for f in pcm.chunks(160) {
        if let Some(e) = v.process(f, t) {
            out.push(e);
        }
        t += f.len() as u64;
    }
    out
}

#[test]
fn voice_then_silence_with_times() {
    let mut rng = Rng(11);
    // 1 s of line noise at -60 dBm0, 2 s of speech, 2 s of line noise.
    let speech = read_wav("speech_en_recorded.wav");
    let mut sig = silence(8000);
    sig.extend(gain(&speech[..16000], 0.0));
    sig.extend(silence(16000));
    let n = noise(&mut rng, sig.len(), -60.0);
    mix_at(&mut sig, &n, 0);
    let ev = run_vad(VadConfig::default(), &to_pcm(&sig, Law::ALaw));
    let first_voice = ev.iter().find_map(|e| match e {
        VadEvent::Voice(t) => Some(*t),
        _ => None,
    });
    let t = first_voice.expect("voice");
    assert!(t.0 >= 8000 && t.0 < 8000 + 4000, "{ev:?}");
    // Silence reported once the speech has stopped, with the time it stopped.
    let last = ev.last().copied().unwrap();
    match last {
        VadEvent::Silence(t) => assert!(t.0 > 20000 && t.0 <= 24000 + 80, "{ev:?}"),
        other => panic!("{other:?} {ev:?}"),
    }
}

#[test]
fn steady_line_noise_is_not_voice_and_short_clicks_are_ignored() {
    let mut rng = Rng(12);
    // Loud hiss at -30 dBm0 (above the -36 dBm0 threshold): the tracked floor absorbs it.
    let hiss = noise(&mut rng, 8000 * 10, -30.0);
    let ev = run_vad(VadConfig::default(), &to_pcm(&hiss, Law::ALaw));
    assert!(ev.is_empty(), "{ev:?}");
    // A 20 ms click is shorter than voice_min_ms.
    let mut sig = silence(8000);
    sig.extend(sine_dbm0(-10.0, 160));
    sig.extend(silence(8000));
    assert!(run_vad(VadConfig::default(), &to_pcm(&sig, Law::ALaw)).is_empty());
}
