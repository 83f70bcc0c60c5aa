//! Turns heard audio into a [`Timeline`]: energy spans from a 20 ms level meter, plus the
//! DSP crate's detectors (call-progress tones, DTMF, caller ID).

use dsp::callerid::{CallerIdReceiver, DtmfCallerIdParser};
use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
use dsp::fsk::FskModem;
use dsp::progress::CallProgressDetector;
use dsp::zones::ToneZone;
use tel_types::{ProgressTone, SampleTime};

use crate::profile::Zone;

use crate::hearing::{Heard, Span, Timeline};

/// Mean square of a 20 ms frame above which it counts as sound (about −45 dBm0).
const SOUND_MEAN_SQUARE: f64 = 1.2e4;

pub(crate) fn analyse(zone: Zone, t0_ms: u64, audio: &[i16]) -> Timeline {
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
    spans.extend(detectors(zone, t0_ms, audio));
    spans.sort_by_key(|s| s.start_ms);
    Timeline { spans }
}

fn detectors(zone: Zone, t0_ms: u64, audio: &[i16]) -> Vec<Span> {
    let mut spans = Vec::new();
    let tz = ToneZone::by_code(zone.name()).unwrap_or_else(ToneZone::default_zone);
    let mut dtmf = DtmfReceiver::new(DtmfConfig::for_country(zone.name()));
    let mut cid_keys = DtmfCallerIdParser::default();
    let mut progress = CallProgressDetector::new(tz);
    let mut fsk = [
        CallerIdReceiver::new(FskModem::Bell202),
        CallerIdReceiver::new(FskModem::V23),
    ];
    let mut tone: Option<(u64, ProgressTone)> = None;
    let t0 = SampleTime::from_millis(t0_ms);
    let end_ms = t0_ms + audio.len() as u64 / 8;
    for (k, frame) in audio.chunks(160).enumerate() {
        let now = t0 + (k * 160) as u64;
        dtmf.process(frame, now);
        while let Some(e) = dtmf.poll_event() {
            if let DtmfEvent::Up(d) = e {
                spans.push(Span {
                    start_ms: d.start.as_millis(),
                    end_ms: d.end.as_millis(),
                    what: Heard::Dtmf(d.digit),
                });
                if let Some(c) = cid_keys.push(d.digit) {
                    spans.push(Span {
                        start_ms: d.end.as_millis(),
                        end_ms: d.end.as_millis(),
                        what: Heard::CallerId(c),
                    });
                }
            }
        }
        for rx in &mut fsk {
            if let Some(e) = rx.process(frame, now) {
                spans.push(Span {
                    start_ms: e.at.as_millis(),
                    end_ms: e.at.as_millis(),
                    what: Heard::CallerId(e.caller_id),
                });
            }
        }
        if let Some(e) = progress.process(frame, now) {
            // A tone span lasts until the detector reports something else.
            if let Some((since, t)) = tone.take() {
                spans.push(Span {
                    start_ms: since,
                    end_ms: e.at.as_millis(),
                    what: Heard::Tone(t),
                });
            }
            if let Some(t) = e.tone.progress_tone() {
                tone = Some((e.since.as_millis(), t));
            }
        }
    }
    if let Some((since, t)) = tone {
        spans.push(Span {
            start_ms: since,
            end_ms: end_ms.max(since),
            what: Heard::Tone(t),
        });
    }
    spans
}

/// Level of each 20 ms frame in dB (floored at 0 dB, about −88 dBm0).
fn envelope(x: &[i16]) -> Vec<f32> {
    x.chunks_exact(160)
        .map(|f| {
            let ms = f.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / 160.0;
            (10.0 * ms.max(1.0).log10()) as f32
        })
        .collect()
}

/// The frame index in `audio` where `clip`'s level envelope matches best, if the match is
/// close: mean absolute difference under 2 dB after removing a constant gain (±6 dB), with
/// the clip's quiet frames (more than 30 dB under its peak) not counted.
pub(crate) fn find_envelope(audio: &[i16], clip: &[i16]) -> Option<usize> {
    let a = envelope(audio);
    let c = envelope(clip);
    if c.len() < 10 || a.len() < c.len() {
        return None;
    }
    let peak = c.iter().copied().fold(f32::MIN, f32::max);
    let loud: Vec<usize> = (0..c.len()).filter(|&i| c[i] > peak - 30.0).collect();
    if loud.len() < 5 {
        return None;
    }
    let mut best: Option<(f32, usize)> = None;
    for start in 0..=a.len() - c.len() {
        // Gain: the mean difference over the clip's loud frames.
        let gain = loud.iter().map(|&i| a[start + i] - c[i]).sum::<f32>() / loud.len() as f32;
        if gain.abs() > 6.0 {
            continue;
        }
        let err = loud
            .iter()
            .map(|&i| (a[start + i] - c[i] - gain).abs())
            .sum::<f32>()
            / loud.len() as f32;
        if best.is_none_or(|(e, _)| err < e) {
            best = Some((err, start));
        }
    }
    best.filter(|(e, _)| *e < 2.0).map(|(_, s)| s)
}
