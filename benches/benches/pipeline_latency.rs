//! Latency through the media pipeline in real time, across threads, as in the daemon.
//!
//! An "audio thread" processes one 20 ms frame per channel every 20 ms (absolute
//! deadlines; frame k is processed when its last sample would have arrived from the board,
//! at T0 + (k+1)·20 ms) and wakes the "control thread" through a `mio::Waker`, as `ivrd`'s
//! audio loop does. Measured:
//!
//! - **Digit**: a DTMF key starts at a random sample; its minimum duration (40 ms) ends at
//!   T0 + (start + 320 samples)/8 kHz of wall time. Latency is from then until the control
//!   thread has the `Digit` event in hand. Goal: at most 25 ms.
//! - **Play**: the control thread sends `Play` at a random moment; latency is until the
//!   audio thread hands the board the frame that starts with the prompt's first sample.
//!   Goal: at most one frame (20 ms) plus the processing time.
//!
//! `cargo bench -p benches --bench pipeline_latency` (release profile). Runs about 20 s.

mod pipeline_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dsp::dtmf_gen::{DtmfBurst, DtmfGenConfig, DtmfGenerator};
use media::{Config, MediaEvent, PromptTable};
use tel_types::{ChannelId, Digit, DigitSet, FRAME_SAMPLES, Law, MediaCommand, SampleTime};

const DIGITS: usize = 60;
/// Samples per digit slot: 300 ms (key 100 ms, then silence).
const SLOT: u64 = 2400;
const MIN_DURATION_SAMPLES: u64 = 320;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// `a - b` in ms, negative if `a` is earlier.
fn signed_ms(a: Instant, b: Instant) -> f64 {
    if a >= b {
        (a - b).as_secs_f64() * 1e3
    } else {
        -((b - a).as_secs_f64() * 1e3)
    }
}

fn percentiles(mut v: Vec<f64>) -> String {
    if v.is_empty() {
        return "no samples".into();
    }
    v.sort_by(f64::total_cmp);
    let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        p(0.5),
        p(0.99),
        v[v.len() - 1],
        v.len()
    )
}

fn main() {
    // Caller audio: one key per slot at a random offset, A-law coded.
    let mut rng = Lcg(0x5eed);
    let total = DIGITS as u64 * SLOT + 8000;
    let mut lin = vec![0i16; total as usize];
    let mut starts = Vec::with_capacity(DIGITS);
    let mut generator = DtmfGenerator::new(DtmfGenConfig::default());
    for k in 0..DIGITS as u64 {
        let start = k * SLOT + 400 + rng.next(800);
        starts.push(start);
        let d = Digit::ALL[(k % 12) as usize];
        let cfg = DtmfGenConfig {
            off_ms: 0,
            ..Default::default()
        };
        generator.push_burst(DtmfBurst::for_digit(d, &cfg));
        generator.fill(&mut lin[start as usize..start as usize + 800]);
    }
    let mut rx_coded = vec![0u8; lin.len()];
    dsp::g711::encode_slice(Law::ALaw, &lin, &mut rx_coded);

    let mut table = PromptTable::new();
    let prompt = table.push(&[4000; 160]);
    let table: &'static PromptTable = Box::leak(Box::new(table));
    let mut cfg = Config::new(ChannelId(1), table);
    cfg.law = Law::ALaw;
    let (mut pipe, mut ctl) = media::channel(cfg);

    let mut poll = mio::Poll::new().expect("poll");
    let waker = Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).expect("waker"));
    let t0 = Instant::now() + Duration::from_millis(50);
    let frames = total / FRAME_SAMPLES as u64;
    let stop = Arc::new(AtomicBool::new(false));
    // Wall time (ns after T0) at which the audio thread handed over the first frame that
    // carried the prompt; 0 while none.
    let first_sample_ns = Arc::new(AtomicU64::new(0));

    let audio = {
        let stop = Arc::clone(&stop);
        let first = Arc::clone(&first_sample_ns);
        std::thread::spawn(move || {
            // As the daemon's audio thread: SCHED_FIFO if allowed.
            let fifo = pipeline_support::realtime();
            let mut lateness_ms = Vec::with_capacity(frames as usize);
            // (frame, wall ns after T0) of every frame that queued events.
            let mut woke: Vec<(u64, u64)> = Vec::with_capacity(frames as usize);
            let mut tx = [0u8; FRAME_SAMPLES];
            let silence = dsp::g711::alaw_encode(0);
            for k in 0..frames {
                let due = t0 + Duration::from_micros((k + 1) * 20_000);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                lateness_ms.push(Instant::now().saturating_duration_since(due).as_secs_f64() * 1e3);
                let at = (k * FRAME_SAMPLES as u64) as usize;
                pipe.process_coded(
                    SampleTime(at as u64),
                    &rx_coded[at..at + FRAME_SAMPLES],
                    &mut tx,
                    None,
                );
                if tx[0] != silence && first.load(Ordering::Relaxed) == 0 {
                    first.store(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                }
                if pipe.take_wake() {
                    let _ = waker.wake();
                    if woke.len() < woke.capacity() {
                        woke.push((k, t0.elapsed().as_nanos() as u64));
                    }
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            (fifo, lateness_ms, woke)
        })
    };

    let mut digit_ms = Vec::new();
    // (acceptance sample time, min-duration end, received) per key.
    let mut keys: Vec<(u64, Instant, Instant)> = Vec::new();
    let mut play_ms = Vec::new();
    let mut events = mio::Events::with_capacity(4);
    let mut next_play = t0 + Duration::from_millis(100 + rng.next(200));
    let mut play_sent: Option<Instant> = None;
    let end = t0 + Duration::from_micros(frames * 20_000 + 100_000);
    while Instant::now() < end {
        let timeout = next_play.saturating_duration_since(Instant::now());
        let _ = poll.poll(&mut events, Some(timeout.min(Duration::from_millis(20))));
        let now = Instant::now();
        while let Some(ev) = ctl.poll_event() {
            if let MediaEvent::Digit(d) = ev {
                // Which key was it? The one whose start is nearest.
                let start = starts
                    .iter()
                    .copied()
                    .min_by_key(|s| s.abs_diff(d.start.0))
                    .unwrap_or(d.start.0);
                let min_end = t0
                    + Duration::from_nanos((start + MIN_DURATION_SAMPLES) * 1_000_000_000 / 8000);
                if std::env::var_os("LATENCY_DEBUG").is_some() {
                    eprintln!(
                        "key start {start} d.start {} d.end {} recv {:.2} ms after T0",
                        d.start.0,
                        d.end.0,
                        (now - t0).as_secs_f64() * 1e3
                    );
                }
                digit_ms.push(signed_ms(now, min_end));
                keys.push((d.end.0, min_end, now));
            }
        }
        if let Some(sent) = play_sent {
            let first = first_sample_ns.load(Ordering::Relaxed);
            if first != 0 {
                let at = t0 + Duration::from_nanos(first);
                play_ms.push(at.saturating_duration_since(sent).as_secs_f64() * 1e3);
                play_sent = None;
                first_sample_ns.store(0, Ordering::Relaxed);
                next_play = now + Duration::from_millis(60 + rng.next(200));
            }
        } else if now >= next_play {
            // Let the previous prompt's frame pass, then send the next one.
            play_sent = Some(Instant::now());
            let _ = ctl.try_send(MediaCommand::Play {
                prompt,
                barge_in: DigitSet::EMPTY,
            });
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (fifo, lateness, woke) = audio.join().expect("audio thread");
    // Split each key's latency at the moment the audio thread queued the event.
    let (mut in_audio, mut hop) = (Vec::new(), Vec::new());
    for (accepted, min_end, received) in keys {
        // `accepted` is a sample time; the frame holding the sample before it decided.
        let frame = accepted.saturating_sub(1) / FRAME_SAMPLES as u64;
        if let Some(&(_, ns)) = woke.iter().find(|(k, _)| *k >= frame) {
            let queued = t0 + Duration::from_nanos(ns);
            in_audio.push(signed_ms(queued, min_end));
            hop.push(signed_ms(received, queued));
        }
    }
    println!(
        "audio thread (SCHED_FIFO {fifo}) wake-up lateness per frame: {}",
        percentiles(lateness)
    );

    println!(
        "digit: end of minimum duration (40 ms) -> event at the control thread: {} (keys sent {DIGITS}; goal <= 25 ms; negative = before the 40 ms mark, the receiver decides at 30 ms)",
        percentiles(digit_ms)
    );
    println!(
        "  of which: end of minimum duration -> event queued by the audio thread: {}",
        percentiles(in_audio)
    );
    println!(
        "  of which: queued -> taken by the control thread (ring + mio wake-up): {}",
        percentiles(hop)
    );
    println!(
        "play: command sent -> frame with the first prompt sample handed to the board: {} (goal <= 20 ms + processing)",
        percentiles(play_ms)
    );
}
