//! Hostile input: random and truncated bytes into the parsers, random audio and odd frame
//! sizes into the detectors. Nothing may panic, and the detectors must not depend on how
//! the audio is cut into frames.

mod common;

use common::*;
use dsp::callerid::{CallerIdReceiver, encode_mdmf, parse_message};
use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
use dsp::fsk::FskModem;
use dsp::progress::CallProgressDetector;
use dsp::wav;
use dsp::zones::ToneZone;
use tel_types::{CallerId, Digit, FixedStr, Law, SampleTime};

#[test]
fn parsers_survive_random_and_truncated_input() {
    let mut rng = Rng(0xF022);
    let mut good = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\x08\0\0\0".to_vec();
    good.extend_from_slice(&[1, 0, 2, 0, 3, 0, 4, 0]);
    assert_eq!(wav::parse(&good).unwrap().frames(), 4);
    for cut in 0..good.len() {
        let _ = wav::parse(&good[..cut]);
    }
    let cid = CallerId {
        number: FixedStr::new_truncated("13800138000"),
        name: FixedStr::new_truncated("X"),
        ..CallerId::default()
    };
    let mut m = [0u8; 128];
    let n = encode_mdmf(&cid, &mut m);
    for cut in 0..n {
        assert!(parse_message(&m[..cut]).is_err());
    }
    for _ in 0..20000 {
        let len = rng.below(80);
        let mut b: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if len > 12 && rng.below(2) == 0 {
            b[..4].copy_from_slice(b"RIFF");
            b[8..12].copy_from_slice(b"WAVE");
        }
        if let Ok(w) = wav::parse(&b) {
            let mut out = vec![0i16; w.frames()];
            w.decode_into(&mut out);
        }
        let _ = parse_message(&b);
        let _ = dsp::callerid::parse_dtmf_caller_id(&String::from_utf8_lossy(&b));
    }
}

#[test]
fn detectors_survive_random_audio_and_any_framing() {
    let mut rng = Rng(0xA0D10);
    let mut audio: Vec<i16> = (0..8000 * 5).map(|_| rng.next_u64() as i16).collect();
    // Full-scale square waves and DC too.
    audio.extend(std::iter::repeat_n(i16::MAX, 4000));
    audio.extend((0..4000).map(|i| if i % 2 == 0 { i16::MIN } else { i16::MAX }));
    let cn = ToneZone::by_code("cn").unwrap();
    let mut d = DtmfReceiver::new(DtmfConfig::default());
    let mut c = CallProgressDetector::new(cn);
    let mut f = CallerIdReceiver::new(FskModem::V23);
    let mut t = SampleTime::ZERO;
    let mut i = 0;
    while i < audio.len() {
        let n = (1 + rng.below(400)).min(audio.len() - i);
        let frame = &audio[i..i + n];
        d.process(frame, t);
        while d.poll_event().is_some() {}
        let _ = c.process(frame, t);
        let _ = f.process(frame, t);
        t += n as u64;
        i += n;
    }
}

#[test]
fn dtmf_results_do_not_depend_on_frame_size() {
    let mut v = silence(500);
    for d in [Digit::D3, Digit::Hash, Digit::D3, Digit::A] {
        v.extend(key(d, -12.0, -10.0, 45));
        v.extend(silence(370));
    }
    let pcm = to_pcm(&v, Law::ALaw);
    let run = |sizes: &[usize]| {
        let mut rx = DtmfReceiver::new(DtmfConfig::default());
        let mut out = Vec::new();
        let (mut i, mut k, mut t) = (0, 0, SampleTime(77));
        while i < pcm.len() {
            let n = sizes[k % sizes.len()].min(pcm.len() - i);
            rx.process(&pcm[i..i + n], t);
            while let Some(e) = rx.poll_event() {
                if let DtmfEvent::Up(e) = e {
                    out.push((e.digit, e.start, e.end));
                }
            }
            t += n as u64;
            i += n;
            k += 1;
        }
        rx.finish_key();
        while let Some(e) = rx.poll_event() {
            if let DtmfEvent::Up(e) = e {
                out.push((e.digit, e.start, e.end));
            }
        }
        out
    };
    let reference = run(&[160]);
    assert_eq!(reference.len(), 4);
    for sizes in [&[1usize][..], &[7, 13, 160], &[40], &[333, 1], &[8000]] {
        assert_eq!(run(sizes), reference, "{sizes:?}");
    }
}
