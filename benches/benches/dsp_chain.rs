//! The full receive chain of one channel, and how many channels one core runs in real time.
//!
//! Per channel and 20 ms frame: G.711 A-law decode, DTMF receiver, call-progress detector
//! (zone cn), FSK caller-ID receiver (idle: no caller ID on the line), level meter and
//! voice detector. Channels carry a mix of recorded/synthesised speech, key presses, busy
//! tone and quiet line, each channel at its own offset.
//!
//! Run: `cargo bench -p benches --bench dsp_chain`

use benches::signals::{Rng, dtmf_line, noise_line};
use dsp::callerid::CallerIdReceiver;
use dsp::dtmf_rx::{DtmfConfig, DtmfReceiver};
use dsp::fsk::FskModem;
use dsp::g711;
use dsp::level::{LevelMeter, VadConfig, VoiceDetector};
use dsp::progress::CallProgressDetector;
use dsp::tone::ToneGenerator;
use dsp::zones::ToneZone;
use std::hint::black_box;
use std::time::Instant;
use tel_types::SampleTime;

const GOAL: f64 = 5000.0;

/// CPU time this thread has used, in seconds (user + system, from /proc; 10 ms ticks).
/// On a shared machine it counts only the time the benchmark actually ran.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

struct Channel {
    dtmf: DtmfReceiver,
    cpd: CallProgressDetector,
    cid: CallerIdReceiver,
    meter: LevelMeter,
    vad: VoiceDetector,
    signal: usize,
    offset: usize,
    events: u64,
}

fn speech(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../crates/dsp/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let w = dsp::wav::parse(&bytes).unwrap();
    assert_eq!(w.encoding, dsp::wav::Encoding::ALaw);
    w.data.to_vec()
}

fn alaw(x: &[i16]) -> Vec<u8> {
    let mut out = vec![0u8; x.len()];
    g711::alaw_encode_slice(x, &mut out);
    out
}

fn main() {
    let secs = 20usize;
    let n = secs * 8000;
    let mut rng = Rng(77);
    let cn = ToneZone::by_code("cn").unwrap();
    let mut busy = vec![0i16; n];
    ToneGenerator::new(cn.busy, -20.0).fill(&mut busy);
    let mut signals: Vec<Vec<u8>> = vec![
        speech("speech_en_recorded.wav"),
        speech("speech_zh_espeak.wav"),
        alaw(&dtmf_line(&mut rng, n).0),
        alaw(&busy),
        alaw(&noise_line(&mut rng, n, -65.0)),
    ];
    for s in &mut signals {
        let orig = s.clone();
        while s.len() < n {
            s.extend_from_slice(&orig);
        }
        s.truncate(n);
    }
    for channels in [1000usize, 5000] {
        let mut chans: Vec<Channel> = (0..channels)
            .map(|i| Channel {
                dtmf: DtmfReceiver::new(DtmfConfig::default()),
                cpd: CallProgressDetector::new(cn),
                cid: CallerIdReceiver::new(FskModem::V23),
                meter: LevelMeter::new(),
                vad: VoiceDetector::new(VadConfig::default()),
                signal: i % signals.len(),
                offset: (i * 1237) % (n - 160),
                events: 0,
            })
            .collect();
        let frames = n / 160;
        let mut pcm = [0i16; 160];
        let cpu0 = thread_cpu_seconds();
        let start = Instant::now();
        for f in 0..frames {
            let t = SampleTime((f * 160) as u64);
            for c in &mut chans {
                let s = &signals[c.signal];
                let at = (c.offset + f * 160) % (n - 160);
                g711::alaw_decode_slice(&s[at..at + 160], &mut pcm);
                c.dtmf.process(&pcm, t);
                while let Some(_e) = c.dtmf.poll_event() {
                    c.events += 1;
                }
                if c.cpd.process(&pcm, t).is_some() {
                    c.events += 1;
                }
                if c.cid.process(&pcm, t).is_some() {
                    c.events += 1;
                }
                c.meter.process(&pcm);
                if c.vad.process(&pcm, t).is_some() {
                    c.events += 1;
                }
            }
        }
        let wall = start.elapsed().as_secs_f64();
        let cpu = match (cpu0, thread_cpu_seconds()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall,
        };
        let events: u64 = chans.iter().map(|c| c.events).sum();
        let per_core = channels as f64 * secs as f64 / cpu;
        let ns = cpu * 1e9 / (channels * n) as f64;
        let note = if per_core < GOAL {
            "  BELOW the 5000 goal"
        } else {
            ""
        };
        println!(
            "{channels} channels x {secs} s audio: {cpu:.2} s CPU ({wall:.2} s wall), {ns:.1} ns/sample, {per_core:.0} channels per core in real time ({events} events){note}"
        );
        black_box(&chans);
    }
}
