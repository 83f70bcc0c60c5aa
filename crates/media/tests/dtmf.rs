//! In-band DTMF through the pipeline: digit events, barge-in, clamping in bridged and
//! recorded audio, type-ahead flush. Virtual time.

mod support;

use dsp::dtmf_gen::{DtmfBurst, DtmfGenConfig, DtmfGenerator};
use media::{MediaCommand, MediaEvent};
use support::{Chan, prompt_table};
use tel_types::{ChannelId, Digit, DigitSet, LineEvent, RecordingId, SampleTime};

/// `frames` frames of a quiet 300 Hz "voice", with `key` pressed for 100 ms from sample
/// `key_at`.
fn line_audio(frames: usize, key: Digit, key_at: usize) -> Vec<[i16; 160]> {
    let mut lin: Vec<i16> = (0..frames * 160)
        .map(|i| {
            let t = i as f64 / 8000.0;
            (1500.0 * (2.0 * std::f64::consts::PI * 300.0 * t).sin()) as i16
        })
        .collect();
    let mut g = DtmfGenerator::new(DtmfGenConfig::default());
    let cfg = DtmfGenConfig {
        off_ms: 0,
        ..DtmfGenConfig::default()
    };
    g.push_burst(DtmfBurst::for_digit(key, &cfg));
    g.mix(&mut lin[key_at..key_at + 800]);
    lin.chunks_exact(160)
        .map(|c| c.try_into().expect("frame"))
        .collect()
}

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

fn digits(ev: &[MediaEvent]) -> Vec<(Digit, SampleTime)> {
    ev.iter()
        .filter_map(|e| match e {
            MediaEvent::Digit(d) => Some((d.digit, d.start)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_in_band_key_is_reported_once_with_its_start_time() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    for f in line_audio(30, Digit::D7, 1234) {
        ch.step(&f, None);
    }
    let got = digits(&ch.events());
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, Digit::D7);
    assert!(got[0].1.0.abs_diff(1234) <= 40, "start {}", got[0].1.0);
}

#[test]
fn in_band_barge_in_stops_the_prompt_and_reports_the_position() {
    let (table, ids) = prompt_table(&[(500, 16_000)]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::from_keys("#"),
    });
    let audio = line_audio(40, Digit::Hash, 4000);
    let mut stopped_at = None;
    for (k, f) in audio.iter().enumerate() {
        let tx = ch.step(f, None);
        if stopped_at.is_none() && tx[159] == 0 {
            stopped_at = Some(k);
        }
    }
    let ev = ch.events();
    let done = ev
        .iter()
        .find_map(|e| match e {
            MediaEvent::PlaybackDone {
                played_samples,
                barged_in_by,
                ..
            } => Some((*played_samples, *barged_in_by)),
            _ => None,
        })
        .expect("playback stopped");
    assert_eq!(done.1, Some(Digit::Hash));
    // Accepted 30-40 ms into the key (which began at sample 4000), in the frame that holds
    // the acceptance; that frame already goes out silent, so the prompt played up to its
    // start.
    assert!(
        (4000..=4000 + 320).contains(&done.0),
        "stopped after {} samples",
        done.0
    );
    assert_eq!(stopped_at.map(|k| k * 160), Some(done.0 as usize));
}

#[test]
fn a_key_outside_the_barge_in_set_is_reported_but_does_not_stop_the_prompt() {
    let (table, ids) = prompt_table(&[(500, 16_000)]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::from_keys("#"),
    });
    for f in line_audio(40, Digit::D3, 2000) {
        assert_eq!(ch.step(&f, None)[0], 500);
    }
    assert_eq!(digits(&ch.events()).len(), 1);
}

#[test]
fn clamping_removes_the_key_from_bridged_and_recorded_audio() {
    let (table, _) = prompt_table(&[]);
    let mut a = Chan::new(1, table);
    let mut b = Chan::new(2, table);
    let mut tap = a.ctl.take_record_tap().expect("tap");
    a.send(MediaCommand::Bridge(ChannelId(2)));
    a.send(MediaCommand::StartRecording {
        slot: RecordingId(1),
        max_ms: 0,
        end_on_silence_ms: 0,
        stop_keys: DigitSet::EMPTY,
    });
    b.pipe.set_peer(Some(ChannelId(1)));
    let key_at = 3 * 160 + 77;
    let mut heard_by_b = Vec::new();
    for f in line_audio(30, Digit::D1, key_at) {
        a.step(&f, None);
        let peer = *a.pipe.last_rx();
        heard_by_b.extend(b.step(&[0; 160], Some(&peer)));
    }
    assert_eq!(digits(&a.events()).len(), 1, "the key was heard");
    let recorded: Vec<i16> = std::iter::from_fn(|| tap.pop())
        .flat_map(|f| f.audio().to_vec())
        .collect();
    for (what, audio) in [("bridged", &heard_by_b), ("recorded", &recorded)] {
        let (lo, hi) = (goertzel(audio, 697.0), goertzel(audio, 1209.0));
        let voice = goertzel(audio, 300.0);
        assert!(voice > 1000.0, "{what}: the rest of the audio still passes");
        assert!(
            lo < voice / 1e4 && hi < voice / 1e4,
            "{what}: key energy left (697 Hz {lo:.3}, 1209 Hz {hi:.3}, voice {voice:.1})"
        );
    }
}

#[test]
fn without_clamping_the_key_is_passed_through() {
    let (table, _) = prompt_table(&[]);
    let mut a = Chan::with(1, table, |c| c.dtmf_clamp = false);
    let mut out = Vec::new();
    for f in line_audio(30, Digit::D1, 800) {
        a.step(&f, None);
        out.extend_from_slice(a.pipe.last_rx());
    }
    assert!(goertzel(&out, 697.0) > goertzel(&out, 300.0) / 10.0);
}

#[test]
fn flush_digits_drops_type_ahead_but_keeps_other_events() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    for f in line_audio(20, Digit::D9, 400) {
        ch.step(&f, None);
    }
    ch.line_event(LineEvent::WinkFlash);
    ch.send(MediaCommand::FlushDigits);
    let ev = ch.events();
    assert!(digits(&ev).is_empty());
    assert!(ev.iter().any(|e| matches!(
        e,
        MediaEvent::Line {
            event: LineEvent::WinkFlash,
            ..
        }
    )));
}

fn caller(number: &str) -> tel_types::CallerId {
    tel_types::CallerId {
        number: tel_types::FixedStr::new_truncated(number),
        datetime: tel_types::FixedStr::new_truncated("11221205"),
        ..Default::default()
    }
}

fn caller_ids(ev: &[MediaEvent]) -> Vec<tel_types::CallerId> {
    ev.iter()
        .filter_map(|e| match e {
            MediaEvent::CallerId { caller_id, .. } => Some(*caller_id),
            _ => None,
        })
        .collect()
}

#[test]
fn fsk_caller_id_between_rings_is_decoded() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    let cid = caller("13800138000");
    let mut lin = vec![0i16; 16_000];
    let n = dsp::callerid::fsk_caller_id(&cid, dsp::fsk::FskModem::V23, false, -12.0, &mut lin);
    assert!(n > 0 && n < lin.len());
    ch.line_event(LineEvent::RingBegin);
    for f in lin.chunks_exact(160) {
        ch.step(f.try_into().expect("frame"), None);
    }
    assert_eq!(caller_ids(&ch.events()), vec![cid]);
}

#[test]
fn fsk_caller_id_is_not_listened_for_once_answered() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::SetHook(tel_types::Hook::OffHook));
    let mut lin = vec![0i16; 16_000];
    dsp::callerid::fsk_caller_id(
        &caller("1"),
        dsp::fsk::FskModem::V23,
        false,
        -12.0,
        &mut lin,
    );
    for f in lin.chunks_exact(160) {
        ch.step(f.try_into().expect("frame"), None);
    }
    assert!(caller_ids(&ch.events()).is_empty());
}

#[test]
fn dtmf_caller_id_before_the_first_ring_is_decoded() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    let cid = tel_types::CallerId {
        number: tel_types::FixedStr::new_truncated("13912345678"),
        ..Default::default()
    };
    let keys = dsp::callerid::dtmf_caller_id_keys(&cid, 'D');
    let mut g = DtmfGenerator::new(DtmfGenConfig {
        on_ms: 60,
        off_ms: 60,
        ..DtmfGenConfig::default()
    });
    g.push_str(keys.as_str());
    for _ in 0..(keys.as_str().len() * 6 + 10) {
        let mut f = [0i16; 160];
        g.fill(&mut f);
        ch.step(&f, None);
    }
    assert_eq!(caller_ids(&ch.events()), vec![cid]);
}

#[test]
fn caller_id_goes_to_a_station_after_its_first_ring_burst() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    let cid = caller("4008001234");
    ch.send(MediaCommand::SendCallerId(cid));
    ch.step_silent();
    ch.line_event(LineEvent::RingerOn);
    for _ in 0..50 {
        assert!(
            ch.step_silent().iter().all(|&s| s == 0),
            "nothing while ringing"
        );
    }
    ch.line_event(LineEvent::RingerOff);
    let mut phone = dsp::callerid::CallerIdReceiver::new(dsp::fsk::FskModem::V23);
    let mut got = None;
    let mut first_sound = None;
    for k in 0..150u64 {
        let tx = ch.step_silent();
        if first_sound.is_none() && tx.iter().any(|&s| s != 0) {
            first_sound = Some(k);
        }
        got = got.or(phone.process(&tx, SampleTime(k * 160)));
    }
    assert_eq!(got.map(|e| e.caller_id), Some(cid));
    // 600 ms after the burst ended.
    assert_eq!(first_sound, Some(30));
}

#[test]
fn caller_id_is_dropped_when_the_station_answers_first() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::SendCallerId(caller("1")));
    ch.step_silent();
    ch.line_event(LineEvent::RingOffHook);
    ch.line_event(LineEvent::RingerOff);
    for _ in 0..150 {
        assert!(ch.step_silent().iter().all(|&s| s == 0));
    }
}
