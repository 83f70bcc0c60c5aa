//! Call-progress detection in virtual time: China's busy tone within two cadence cycles
//! over the whole level range with cadence jitter and frequency offset, every zone's
//! cadences, and no busy from speech, music or ringback.

mod common;

use common::*;
use dsp::level::sine_peak_for_dbm0;
use dsp::progress::{CallProgress, CallProgressDetector, ProgressEvent};
use dsp::tone::ToneGenerator;
use dsp::zones::ToneZone;
use tel_types::{Law, SampleTime, Tone};

fn sine(hz: f64, ms: f64, dbm0: f32, phase: &mut f64) -> Vec<f64> {
    let a = sine_peak_for_dbm0(dbm0) as f64;
    let n = (ms * 8.0).round() as usize;
    (0..n)
        .map(|_| {
            let v = a * phase.sin();
            *phase += std::f64::consts::TAU * hz / 8000.0;
            v
        })
        .collect()
}

/// Runs the detector; returns every event.
fn detect(zone: &'static ToneZone, pcm: &[i16]) -> Vec<ProgressEvent> {
    let mut d = CallProgressDetector::new(zone);
    let mut out = Vec::new();
    let mut t = SampleTime::ZERO;
    for f in pcm.chunks(160) {
        if let Some(e) = d.process(f, t) {
            out.push(e);
        }
        t += f.len() as u64;
    }
    out
}

fn first(events: &[ProgressEvent], tone: CallProgress) -> Option<ProgressEvent> {
    events.iter().copied().find(|e| e.tone == tone)
}

/// China's busy tone with each on/off period jittered by up to ±`jitter` and the frequency
/// offset by `offset`, starting after `lead_ms` of silence.
fn cn_busy(
    rng: &mut Rng,
    dbm0: f32,
    jitter: f64,
    offset: f64,
    lead_ms: f64,
    secs: f64,
) -> Vec<f64> {
    let mut v = silence((lead_ms * 8.0) as usize);
    let mut ph = 0.0;
    while (v.len() as f64) < secs * 8000.0 {
        let on = 350.0 * (1.0 + jitter * (2.0 * rng.uniform() - 1.0));
        let off = 350.0 * (1.0 + jitter * (2.0 * rng.uniform() - 1.0));
        v.extend(sine(450.0 * (1.0 + offset), on, dbm0, &mut ph));
        v.extend(silence((off * 8.0) as usize));
    }
    v
}

#[test]
fn china_busy_within_two_cycles_from_minus_40_to_0_dbm0() {
    let cn = ToneZone::by_code("cn").unwrap();
    let mut rng = Rng(450);
    for dbm0 in [-40.0, -35.0, -30.0, -20.0, -10.0, -3.0, 0.0] {
        for offset in [-0.02, 0.0, 0.02] {
            for jitter in [0.0, 0.10] {
                for _ in 0..3 {
                    let lead = 200.0 + 500.0 * rng.uniform();
                    let mut sig = cn_busy(&mut rng, dbm0, jitter, offset, lead, 4.0);
                    // Line noise 30 dB below the tone (but not above -60 dBm0 at the top).
                    let n = noise(&mut rng, sig.len(), (dbm0 - 30.0).min(-50.0));
                    mix_at(&mut sig, &n, 0);
                    for law in [Law::ALaw, Law::MuLaw, Law::Linear] {
                        let ev = detect(cn, &to_pcm(&sig, law));
                        let busy = first(&ev, CallProgress::Busy).unwrap_or_else(|| {
                            panic!("no busy at {dbm0} dBm0 off {offset} jit {jitter}: {ev:?}")
                        });
                        // Two cadence cycles of at most 2 × 700 ms × 1.1 after the start.
                        let start = (lead * 8.0) as u64;
                        assert!(busy.at.0 - start <= 1540 * 8, "{dbm0} {busy:?}");
                        assert!((busy.since.0 as i64 - start as i64).abs() <= 160);
                        assert!(ev.iter().all(|e| e.tone != CallProgress::Congestion));
                    }
                }
            }
        }
    }
}

#[test]
fn busy_is_not_reported_for_far_off_frequencies_or_wrong_cadence() {
    let cn = ToneZone::by_code("cn").unwrap();
    let mut rng = Rng(7);
    // 700/700 is congestion, not busy.
    let mut ph = 0.0;
    let mut v = silence(800);
    for _ in 0..4 {
        v.extend(sine(450.0, 700.0, -20.0, &mut ph));
        v.extend(silence(5600));
    }
    let ev = detect(cn, &to_pcm(&v, Law::ALaw));
    assert!(first(&ev, CallProgress::Busy).is_none(), "{ev:?}");
    assert!(first(&ev, CallProgress::Congestion).is_some(), "{ev:?}");
    // 200/200 fits no cn cadence.
    let mut v = silence(800);
    for _ in 0..10 {
        v.extend(sine(450.0, 200.0, -20.0, &mut ph));
        v.extend(silence(1600));
    }
    let ev = detect(cn, &to_pcm(&v, Law::ALaw));
    assert!(first(&ev, CallProgress::Busy).is_none(), "{ev:?}");
    // A 350/350 cadence at 1000 Hz is not a cn tone.
    let v = {
        let mut v = silence(800);
        for _ in 0..6 {
            v.extend(sine(1000.0, 350.0, -20.0, &mut ph));
            v.extend(silence(2800));
        }
        v
    };
    let _ = &mut rng;
    let ev = detect(cn, &to_pcm(&v, Law::ALaw));
    assert!(first(&ev, CallProgress::Busy).is_none(), "{ev:?}");
}

fn zone_tone(zone: &ToneZone, tone: Tone, secs: f64, dbm0: f32) -> Vec<f64> {
    let mut g = ToneGenerator::new(zone.tone(tone).unwrap(), dbm0);
    let mut lead = vec![0i16; 2400];
    let mut b = vec![0i16; (secs * 8000.0) as usize];
    g.fill(&mut b);
    lead.extend(b);
    lead.into_iter().map(|s| s as f64).collect()
}

#[test]
fn ringback_and_dial_are_not_busy_in_china() {
    let cn = ToneZone::by_code("cn").unwrap();
    let ev = detect(
        cn,
        &to_pcm(&zone_tone(cn, Tone::Ringback, 16.0, -15.0), Law::ALaw),
    );
    assert!(first(&ev, CallProgress::Busy).is_none(), "{ev:?}");
    let rb = first(&ev, CallProgress::Ringback).expect("ringback");
    assert!(rb.at.as_millis() < 300 + 5000 + 1000, "{rb:?}");
    let ev = detect(
        cn,
        &to_pcm(&zone_tone(cn, Tone::Dial, 5.0, -15.0), Law::ALaw),
    );
    assert!(first(&ev, CallProgress::Busy).is_none());
    let d = first(&ev, CallProgress::Dial).expect("dial");
    assert!(d.at.as_millis() < 300 + 2000, "{d:?}");
}

#[test]
fn every_zone_recognises_its_own_busy_congestion_and_ringback() {
    for zone in ToneZone::all() {
        for (tone, want, secs) in [
            (Tone::Busy, CallProgress::Busy, 5.0),
            (Tone::Congestion, CallProgress::Congestion, 5.0),
            (Tone::Ringback, CallProgress::Ringback, 14.0),
        ] {
            let ev = detect(
                zone,
                &to_pcm(&zone_tone(zone, tone, secs, -20.0), Law::ALaw),
            );
            let got = ev.iter().map(|e| e.tone).find(|t| {
                matches!(
                    t,
                    CallProgress::Busy | CallProgress::Congestion | CallProgress::Ringback
                )
            });
            // Zones whose busy and congestion are the same cadence report busy for both.
            let same = zone.busy == zone.congestion && want == CallProgress::Congestion;
            let want = if same { CallProgress::Busy } else { want };
            assert_eq!(got, Some(want), "{} {tone:?}: {ev:?}", zone.code);
        }
    }
}

#[test]
fn special_information_tone() {
    let cn = ToneZone::by_code("cn").unwrap();
    let ev = detect(
        cn,
        &to_pcm(&zone_tone(cn, Tone::SpecialInfo, 3.0, -15.0), Law::ALaw),
    );
    assert!(first(&ev, CallProgress::SpecialInfo).is_some(), "{ev:?}");
}

#[test]
fn speech_and_music_never_give_busy_and_voice_is_reported() {
    let cn = ToneZone::by_code("cn").unwrap();
    for name in SPEECH {
        let s = read_wav(name);
        let level = active_level_dbm0(&gain(&s, 0.0));
        for db in [0.0, -10.0, -20.0, -30.0] {
            let ev = detect(cn, &to_pcm(&gain(&s, db), Law::ALaw));
            for bad in [
                CallProgress::Busy,
                CallProgress::Congestion,
                CallProgress::Dial,
            ] {
                assert!(first(&ev, bad).is_none(), "{name} {db}: {ev:?}");
            }
            // Speech at an active level of -35 dBm0 or louder is reported as voice.
            if level + db as f32 >= -35.0 {
                assert!(first(&ev, CallProgress::Voice).is_some(), "{name} {db}");
            }
        }
    }
    // Music: notes with harmonics, some on A4 (440 Hz, 2 % from 450), with short rests.
    let mut rng = Rng(3);
    let mut v = Vec::new();
    let mut ph = 0.0;
    while v.len() < 30 * 8000 {
        let hz = [440.0, 392.0, 523.25, 440.0, 349.2, 440.0][rng.below(6)];
        let ms = [150.0, 250.0, 350.0, 500.0][rng.below(4)];
        let mut note = sine(hz, ms, -15.0, &mut ph);
        let mut ph2 = 0.0;
        let h2 = sine(hz * 2.0, ms, -21.0, &mut ph2);
        let mut ph3 = 0.0;
        let h3 = sine(hz * 3.0, ms, -25.0, &mut ph3);
        for ((a, b), c) in note.iter_mut().zip(h2).zip(h3) {
            *a += b + c;
        }
        v.extend(note);
        if rng.below(3) == 0 {
            v.extend(silence(8 * [100, 350][rng.below(2)]));
        }
    }
    let ev = detect(cn, &to_pcm(&v, Law::ALaw));
    assert!(first(&ev, CallProgress::Busy).is_none(), "{ev:?}");
    // And a long silence is reported as silence.
    let ev = detect(cn, &to_pcm(&silence(8 * 4000), Law::ALaw));
    assert_eq!(ev.first().map(|e| e.tone), Some(CallProgress::Silence));
}
