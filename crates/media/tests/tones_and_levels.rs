//! Tone generation on the transmit path and the level/voice receiver, in virtual time.

mod support;

use media::{MediaCommand, MediaEvent};
use support::{Chan, prompt_table};
use tel_types::{Digit, DigitSet, RecordingId, SampleTime, Tone};

/// Power of one frequency in a block (Goertzel), normalised by the block length.
fn goertzel(samples: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - c * s1 * s2) / (samples.len() as f64).powi(2)
}

fn energy(samples: &[i16]) -> f64 {
    samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64
}

#[test]
fn cn_busy_tone_is_450_hz_350_on_350_off() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::PlayTone {
        tone: Tone::Busy,
        duration_ms: 0,
    });
    let out: Vec<i16> = (0..70).flat_map(|_| ch.step_silent()).collect(); // 1.4 s
    let ms = |a: usize, b: usize| &out[a * 8..b * 8];
    assert!(energy(ms(10, 340)) > 1e5, "tone on");
    assert!(goertzel(ms(10, 340), 450.0) > 50.0 * goertzel(ms(10, 340), 1000.0));
    assert_eq!(energy(ms(360, 690)), 0.0, "cadence off");
    assert!(energy(ms(710, 1040)) > 1e5, "second burst");
    ch.send(MediaCommand::StopTone);
    assert!(ch.step_silent().iter().all(|&s| s == 0));
}

#[test]
fn tone_with_a_duration_stops_by_itself() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::PlayTone {
        tone: Tone::Dial,
        duration_ms: 50,
    });
    let out: Vec<i16> = (0..4).flat_map(|_| ch.step_silent()).collect();
    assert!(out[..400].iter().filter(|&&s| s != 0).count() > 300);
    assert!(out[400..].iter().all(|&s| s == 0));
}

#[test]
fn dtmf_tone_has_both_q23_frequencies() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::PlayTone {
        tone: Tone::Dtmf(Digit::D5),
        duration_ms: 100,
    });
    let out: Vec<i16> = (0..6).flat_map(|_| ch.step_silent()).collect();
    let on = &out[..800];
    let (lo, hi) = (goertzel(on, 770.0), goertzel(on, 1336.0));
    assert!(lo > 100.0 * goertzel(on, 697.0) && hi > 100.0 * goertzel(on, 1209.0));
    assert!(out[800..].iter().all(|&s| s == 0), "100 ms, then silence");
}

#[test]
fn beep_mixes_over_a_prompt_and_ends_on_its_own() {
    let (table, ids) = prompt_table(&[(100, 8000)]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    ch.send(MediaCommand::PlayTone {
        tone: Tone::Beep,
        duration_ms: 0,
    });
    let out: Vec<i16> = (0..30).flat_map(|_| ch.step_silent()).collect();
    let beep: Vec<i16> = out[..4000].iter().map(|&s| s - 100).collect();
    assert!(goertzel(&beep, 1400.0) > 1e4);
    assert!(out[4000..].iter().all(|&s| s == 100), "beep is 500 ms");
}

/// Speech-like audio: harmonics of a gliding pitch with a syllable-rate envelope (a steady
/// tone would be tracked as line noise by the voice detector).
fn loud(frame: usize) -> [i16; 160] {
    let mut f = [0i16; 160];
    for (i, s) in f.iter_mut().enumerate() {
        let t = (frame * 160 + i) as f64 / 8000.0;
        let tau = 2.0 * std::f64::consts::PI;
        let pitch = 120.0 + 30.0 * (t * 0.7 * tau).sin();
        let syllable = 0.3 + 0.7 * (t * 4.0 * tau).sin().abs();
        let voice: f64 = (1..=5)
            .map(|h| (tau * pitch * h as f64 * t).sin() / h as f64)
            .sum();
        *s = (6000.0 * syllable * voice) as i16;
    }
    f
}

#[test]
fn voice_and_silence_are_reported_with_their_start_times() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    for f in 0..130 {
        // 0.4 s quiet, 1 s of voice, then quiet again (silence is sure after 800 ms).
        let rx = if (20..70).contains(&f) {
            loud(f)
        } else {
            [0; 160]
        };
        ch.step(&rx, None);
    }
    let ev = ch.events();
    assert_eq!(
        ev,
        vec![
            MediaEvent::Voice {
                at: SampleTime::from_millis(400)
            },
            MediaEvent::Silence {
                at: SampleTime::from_millis(1400)
            },
        ]
    );
}

#[test]
fn recording_ends_after_the_configured_silence() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    let mut tap = ch.ctl.take_record_tap().expect("tap");
    ch.send(MediaCommand::StartRecording {
        slot: RecordingId(9),
        max_ms: 0,
        end_on_silence_ms: 1000,
        stop_keys: DigitSet::EMPTY,
    });
    // 1 s of voice, then silence: the recording ends 1 s after the silence began.
    let mut ended_at = None;
    for f in 0..200 {
        let rx = if f < 50 { loud(f) } else { [0; 160] };
        ch.step(&rx, None);
        while tap.pop().is_some() {}
        if ended_at.is_none()
            && ch
                .events()
                .iter()
                .any(|e| matches!(e, MediaEvent::RecordingDone { .. }))
        {
            ended_at = Some(ch.now.as_millis());
        }
    }
    assert_eq!(ended_at, Some(2000));
}

#[test]
fn busy_tone_on_the_line_is_reported_as_far_end_hangup() {
    let (table, _) = prompt_table(&[]);
    // The far end: China's busy tone, as the exchange sends it after the caller hung up.
    let (far, _) = prompt_table(&[]);
    let mut exchange = Chan::new(9, far);
    exchange.send(MediaCommand::PlayTone {
        tone: Tone::Busy,
        duration_ms: 0,
    });
    let mut ch = Chan::new(1, table);
    // We answered: call-progress detection runs off-hook (an idle line carries no tones).
    ch.send(MediaCommand::SetHook(tel_types::Hook::OffHook));
    let mut heard = None;
    for _ in 0..100 {
        let line = exchange.step_silent();
        ch.step(&line, None);
        if let Some(at) = ch.events().iter().find_map(|e| match e {
            MediaEvent::Progress {
                at,
                tone: tel_types::ProgressTone::Busy,
            } => Some(*at),
            _ => None,
        }) {
            heard = Some(at);
            break;
        }
    }
    // Recognised at the end of the second burst (about 1.05 s).
    let at = heard.expect("busy tone recognised within 2 s");
    assert!((1000..=1300).contains(&at.as_millis()), "at {at}");
}
