//! Turns heard audio into a [`Timeline`]: energy spans from a 20 ms level meter, plus the
//! DSP crate's detectors (call-progress tones, DTMF, caller ID).

use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
use tel_types::SampleTime;

use crate::hearing::{Heard, Span, Timeline};

/// Mean square of a 20 ms frame above which it counts as sound (about −45 dBm0).
const SOUND_MEAN_SQUARE: f64 = 1.2e4;

pub(crate) fn analyse(t0_ms: u64, audio: &[i16]) -> Timeline {
    let mut spans: Vec<Span> = Vec::new();
    for (k, frame) in audio.chunks(160).enumerate() {
        let ms = frame
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum::<f64>()
            / frame.len().max(1) as f64;
        let what = if ms > SOUND_MEAN_SQUARE {
            Heard::Sound
        } else {
            Heard::Silence
        };
        let start = t0_ms + k as u64 * 20;
        let end = start + frame.len() as u64 / 8;
        match spans.last_mut() {
            Some(last) if last.what == what && last.end_ms == start => last.end_ms = end,
            _ => spans.push(Span {
                start_ms: start,
                end_ms: end,
                what,
            }),
        }
    }
    spans.extend(detectors(t0_ms, audio));
    spans.sort_by_key(|s| s.start_ms);
    Timeline { spans }
}

fn detectors(t0_ms: u64, audio: &[i16]) -> Vec<Span> {
    let mut spans = Vec::new();
    // DTMF, with the DSP crate's Q.24 receiver.
    let mut rx = DtmfReceiver::new(DtmfConfig::q24());
    let t0 = SampleTime::from_millis(t0_ms);
    for (k, frame) in audio.chunks(160).enumerate() {
        rx.process(frame, t0 + (k * 160) as u64);
        while let Some(e) = rx.poll_event() {
            if let DtmfEvent::Up(d) = e {
                spans.push(Span {
                    start_ms: d.start.as_millis(),
                    end_ms: d.end.as_millis(),
                    what: Heard::Dtmf(d.digit),
                });
            }
        }
    }
    spans
}
