//! Latency through the media pipeline in real time, across threads, as in the daemon, with
//! a line clocked by a card.
//!
//! Three threads, as on a DAHDI system:
//!
//! - **Card** (SCHED_FIFO 60, standing in for the board's interrupt): every 1 ms, on
//!   absolute deadlines from T0, it plays the next 8 samples (one DAHDI chunk) from the
//!   channel's transmit queue on the line, idle (A-law silence) if the queue is short, and
//!   takes in 8 samples of caller audio. Chunk `m` goes on the line at T0 + m ms, its
//!   sample `i` at T0 + m ms + i/8 kHz. Every block (20 ms, or 10 ms with DAHDI's 80-sample
//!   blocks) a received block is complete and the card wakes the audio thread (as a DAHDI
//!   fd becomes readable). The transmit queue is
//!   sample-exact, like DAHDI's write buffers with the "immediate" policy: a frame written
//!   is played right after whatever is still queued; a queue that ran dry restarts with the
//!   next frame written.
//! - **Audio** (SCHED_FIFO 50): waits in `mio`, processes every complete block (20 ms:
//!   `process_coded`; 10 ms: `process_block_coded`), writes the transmit block to the
//!   card's queue and wakes the control thread, as `ivrd`'s loop. With
//!   a reaction window it runs the receive half of a frame, and if that queued events,
//!   wakes the control thread and waits until the control thread says it is done with them
//!   (or the window ends) before running the transmit half, so an answer to a key is heard
//!   in the same frame. `ivrd`'s loop does not do this yet (both halves in one step).
//! - **Control** (ordinary priority): the test's IVR.
//!
//! Measured:
//!
//! - **Digit**: a DTMF key starts at a random sample; its minimum duration (40 ms) ends at
//!   T0 + (start + 320 samples)/8 kHz. Latency is until the control thread has the `Digit`
//!   event in hand. Goal: at most 25 ms.
//! - **Play**: from the moment the control thread sends `Play` to the moment the prompt's
//!   first sample is on the line (the card finds it in the chunk it takes and computes its
//!   line time). Split into "command → frame handed to the card" (waiting for the next
//!   frame to be built, and building it) and "handed → on the line" (the transmit lead:
//!   what was still queued ahead of it). Two cases: commands at random moments, and
//!   commands sent as soon as a key event arrives (an IVR answering a key). Goal: at most
//!   one frame (20 ms).
//!
//! The transmit lead starts at the silence written ahead of the first frame. Whenever the
//! audio thread hands a frame over later than the lead covers, the queue runs dry (an
//! underrun: idle on the line) and the lead grows by that much for good: with this queue
//! the lead ends at the worst hand-over delay of the run. With catch-up trimming, after a
//! wake-up a whole frame or more late the audio thread leaves out as many silent transmit
//! frames as it had to catch up, which takes that frame back.
//!
//! The program runs three times, back to back: 20 ms blocks as `ivrd`'s loop does them (no
//! window, nothing primed, catch-up trimming), 20 ms blocks with the reaction window proposed
//! earlier (2 ms window, 2 ms primed, trimming), and 10 ms blocks as `ivrd`'s loop does
//! them on DAHDI by default (`block_ms = 10`: nothing primed, catch-up trimming). Or once, as set
//! by `BLOCK_SAMPLES=80|160` (default 160), `REACTION_WINDOW_US=µs` (0: one step; 20 ms
//! blocks only), `TX_PRIME_SAMPLES=n` (default: the window's length) and `NO_TRIM=1`.
//!
//! `cargo bench -p benches --bench pipeline_latency` (release profile). Runs about 100 s.

mod pipeline_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dsp::dtmf_gen::{DtmfBurst, DtmfGenConfig, DtmfGenerator};
use media::{Config, MediaEvent, PromptTable};
use ringbuf::HeapRb;
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use tel_types::{ChannelId, Digit, DigitSet, FRAME_SAMPLES, Law, MediaCommand, SampleTime};

const DIGITS: usize = 100;
/// Samples per digit slot: 300 ms (key 100 ms, then silence).
const SLOT: u64 = 2400;
const MIN_DURATION_SAMPLES: u64 = 320;
/// Samples the card moves per 1 ms tick (DAHDI's chunk).
const CHUNK: usize = 8;
/// Frames the card's transmit queue holds (DAHDI buffers).
const TX_QUEUE_FRAMES: usize = 4;

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

/// SCHED_FIFO at `priority` for the calling thread; returns the policy and priority read
/// back from the kernel, to show it took effect.
fn fifo(priority: u8) -> String {
    use thread_priority::*;
    let set = ThreadPriorityValue::try_from(priority).ok().and_then(|v| {
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Crossplatform(v),
            ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
        )
        .ok()
    });
    match thread_schedule_policy_param(thread_native_id()) {
        Ok((policy, params)) => format!(
            "{}{policy:?} priority {}",
            if set.is_some() { "" } else { "refused; " },
            params.sched_priority
        ),
        Err(e) => format!("unknown ({e})"),
    }
}

/// Total CPU steal time of the machine in ms (`/proc/stat`), if readable: time the
/// hypervisor ran something else while our virtual CPUs wanted to run.
fn steal_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?;
    // cpu user nice system idle iowait irq softirq steal ...; in USER_HZ (100 per second).
    let steal: u64 = cpu.split_whitespace().nth(8)?.parse().ok()?;
    Some(steal * 10)
}

fn sleep_until(due: Instant) {
    if let Some(wait) = due.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
}

/// What one `Play` measured, ms.
#[derive(Default)]
struct PlayTimes {
    total: Vec<f64>,
    to_card: Vec<f64>,
    lead: Vec<f64>,
}

impl PlayTimes {
    fn report(self, what: &str) {
        println!(
            "play ({what}): command sent -> first prompt sample on the line: {} (goal <= 20 ms)",
            percentiles(self.total)
        );
        println!(
            "  of which: command -> frame handed to the card: {}",
            percentiles(self.to_card)
        );
        println!(
            "  of which: handed -> on the line (transmit lead): {}",
            percentiles(self.lead)
        );
    }
}

fn run(label: &str, block: usize, window_us: u64, prime: usize, trim: bool) {
    println!("== {label}");
    assert!(
        FRAME_SAMPLES % block == 0 && block % CHUNK == 0,
        "block of {block} samples"
    );
    assert!(
        window_us == 0 || block == FRAME_SAMPLES,
        "the window is for 20 ms blocks"
    );
    // The card's block in 1 ms ticks, and in µs.
    let block_ticks = (block / CHUNK) as u64;
    let block_us = block_ticks * 1000;
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

    // Two one-frame prompts of different constant level, sent alternately, so the card can
    // tell the prompt it is waiting for from the tail of the previous one.
    let mut table = PromptTable::new();
    let prompts = [table.push(&[4000; 160]), table.push(&[-4000; 160])];
    let codes = [dsp::g711::alaw_encode(4000), dsp::g711::alaw_encode(-4000)];
    let silence = dsp::g711::alaw_encode(0);
    let table: &'static PromptTable = Box::leak(Box::new(table));
    let mut cfg = Config::new(ChannelId(1), table);
    cfg.law = Law::ALaw;
    let (mut pipe, mut ctl) = media::channel(cfg);

    let window = Duration::from_micros(window_us);
    let (mut tx_prod, mut tx_cons) =
        HeapRb::<u8>::new(FRAME_SAMPLES * TX_QUEUE_FRAMES + prime).split();
    let prime_audio = vec![silence; prime];

    let mut control_poll = mio::Poll::new().expect("poll");
    let control_waker =
        Arc::new(mio::Waker::new(control_poll.registry(), mio::Token(0)).expect("waker"));
    let mut audio_poll = mio::Poll::new().expect("poll");
    let audio_waker =
        Arc::new(mio::Waker::new(audio_poll.registry(), mio::Token(0)).expect("waker"));
    // The control thread's "done with your events" to the audio thread.
    let answer_waker =
        Arc::new(mio::Waker::new(audio_poll.registry(), mio::Token(1)).expect("waker"));
    // Wake-ups of the control thread asked for by the audio thread, and answered.
    let asked = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));

    let steal_before = steal_ms();
    let t0 = Instant::now() + Duration::from_millis(50);
    let frames = total / FRAME_SAMPLES as u64;
    let blocks = total / block as u64;
    let stop = Arc::new(AtomicBool::new(false));
    // Complete received blocks (the card's "readable").
    let rx_frames = Arc::new(AtomicU64::new(0));
    // The prompt code the control thread waits for (code + 1; 0 while none).
    let armed = Arc::new(AtomicU32::new(0));
    // ns after T0 (+1, 0 while none): frame with the armed prompt handed to the card, and
    // its first sample on the line.
    let handed_ns = Arc::new(AtomicU64::new(0));
    let line_ns = Arc::new(AtomicU64::new(0));

    let card = {
        let (stop, rx_frames, armed, line_ns) = (
            Arc::clone(&stop),
            Arc::clone(&rx_frames),
            Arc::clone(&armed),
            Arc::clone(&line_ns),
        );
        let waker = Arc::clone(&audio_waker);
        std::thread::spawn(move || {
            let policy = fifo(60);
            let ticks = frames * 20 + 200;
            let mut lateness_ms = Vec::with_capacity(ticks as usize);
            let (mut underruns, mut started) = (0u64, false);
            for m in 1..=ticks {
                let due = t0 + Duration::from_millis(m);
                sleep_until(due);
                lateness_ms.push(Instant::now().saturating_duration_since(due).as_secs_f64() * 1e3);
                // Transmit: chunk m goes on the line from T0 + m ms.
                let mut chunk = [silence; CHUNK];
                let n = tx_cons.pop_slice(&mut chunk);
                started |= n > 0;
                // (After the last frame the queue runs dry for good: not an underrun.)
                if started && n < CHUNK && m <= frames * 20 {
                    underruns += 1;
                }
                let want = armed.load(Ordering::Acquire);
                let at = chunk.iter().position(|&c| u32::from(c) + 1 == want);
                if let Some(i) = at.filter(|_| want != 0) {
                    let ns = m * 1_000_000 + i as u64 * 125_000;
                    if line_ns
                        .compare_exchange(0, ns + 1, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                    {
                        armed.store(0, Ordering::Release);
                    }
                }
                // Receive: samples up to 8m are in; a block is complete every 10 or 20 ms.
                if m % block_ticks == 0 && m / block_ticks <= blocks {
                    rx_frames.store(m / block_ticks, Ordering::Release);
                    let _ = waker.wake();
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            (policy, lateness_ms, underruns)
        })
    };

    let audio = {
        let (stop, rx_frames, armed, handed_ns) = (
            Arc::clone(&stop),
            Arc::clone(&rx_frames),
            Arc::clone(&armed),
            Arc::clone(&handed_ns),
        );
        let waker = Arc::clone(&control_waker);
        let (asked, answered) = (Arc::clone(&asked), Arc::clone(&answered));
        std::thread::spawn(move || {
            let policy = fifo(50);
            let mut events = mio::Events::with_capacity(4);
            let mut lateness_ms = Vec::with_capacity(blocks as usize);
            // (first sample, wall ns after T0) of every block that queued events.
            let mut woke: Vec<(u64, u64)> = Vec::with_capacity(blocks as usize);
            let mut tx_buf = [0u8; FRAME_SAMPLES];
            let (mut would_block, mut trimmed, mut excess) = (0u64, 0u64, 0u64);
            let mut late_answers = 0u64;
            let mut done = 0u64;
            while !stop.load(Ordering::Relaxed) && done < blocks {
                let _ = audio_poll.poll(&mut events, Some(Duration::from_millis(100)));
                let ready = rx_frames.load(Ordering::Acquire);
                let first = done;
                while done < ready {
                    let k = done;
                    let due = t0 + Duration::from_micros((k + 1) * block_us);
                    lateness_ms
                        .push(Instant::now().saturating_duration_since(due).as_secs_f64() * 1e3);
                    let at = k as usize * block;
                    let now = SampleTime(at as u64);
                    let rx = &rx_coded[at..at + block];
                    let tx = &mut tx_buf[..block];
                    if block < FRAME_SAMPLES {
                        // As `ivrd`'s loop with DAHDI's 10 ms blocks.
                        pipe.process_block_coded(now, rx, tx, None);
                    } else if window.is_zero() {
                        pipe.process_coded(now, rx, tx, None);
                    } else {
                        // Receive half; if it queued events, wake the control thread and
                        // give it up to `window` to answer before the transmit half.
                        pipe.process_rx_coded(now, rx);
                        if pipe.take_wake() {
                            let ask = asked.fetch_add(1, Ordering::AcqRel) + 1;
                            let _ = waker.wake();
                            if woke.len() < woke.capacity() {
                                woke.push((at as u64, t0.elapsed().as_nanos() as u64));
                            }
                            let until = Instant::now() + window;
                            while answered.load(Ordering::Acquire) < ask {
                                let Some(left) = until.checked_duration_since(Instant::now())
                                else {
                                    late_answers += 1;
                                    break;
                                };
                                let _ = audio_poll.poll(&mut events, Some(left));
                            }
                        }
                        pipe.process_tx_coded(now, tx, None);
                    }
                    // As `ivrd`'s loop (`AudioLoop::service`): a block read after the first in one wake-up means
                    // we were a frame late and the card's queue ran dry; writing all of
                    // them would leave the transmit lead one frame longer for good, so the
                    // next silent frames are left out until that frame is made up. Whole
                    // primed blocks (`tx_prime_blocks`) cover that many blocks of lateness.
                    if trim && k > first + (prime / block) as u64 {
                        excess += 1;
                    }
                    if excess > 0 && tx.iter().all(|&b| b == silence) {
                        excess -= 1;
                        trimmed += 1;
                    } else if tx_prod.vacant_len() >= block {
                        if k == 0 {
                            // The stream starts: the lead goes in ahead of the first frame.
                            tx_prod.push_slice(&prime_audio);
                        }
                        tx_prod.push_slice(tx);
                    } else {
                        would_block += 1;
                    }
                    let want = armed.load(Ordering::Acquire);
                    if want != 0 && u32::from(tx[0]) + 1 == want {
                        let ns = t0.elapsed().as_nanos() as u64;
                        let _ = handed_ns.compare_exchange(
                            0,
                            ns + 1,
                            Ordering::AcqRel,
                            Ordering::Relaxed,
                        );
                    }
                    if pipe.take_wake() {
                        let _ = waker.wake();
                        if woke.len() < woke.capacity() {
                            woke.push((at as u64, t0.elapsed().as_nanos() as u64));
                        }
                    }
                    done += 1;
                }
            }
            (
                policy,
                lateness_ms,
                woke,
                would_block,
                trimmed,
                late_answers,
            )
        })
    };

    let mut digit_ms = Vec::new();
    // (acceptance sample time, min-duration end, received) per key.
    let mut keys: Vec<(u64, Instant, Instant)> = Vec::new();
    let (mut random, mut reactive) = (PlayTimes::default(), PlayTimes::default());
    let mut skipped_reactive = 0;
    let mut acausal = 0;
    let mut events = mio::Events::with_capacity(4);
    let mut next_play = t0 + Duration::from_millis(100 + rng.next(200));
    // (sent, in reaction to a key, which prompt)
    let mut pending: Option<(Instant, bool)> = None;
    let mut which = 0usize;
    let end = t0 + Duration::from_micros(frames * 20_000 + 100_000);
    let send_play = |ctl: &mut media::ControlHandle, which: &mut usize| {
        *which ^= 1;
        handed_ns.store(0, Ordering::Release);
        line_ns.store(0, Ordering::Release);
        armed.store(u32::from(codes[*which]) + 1, Ordering::Release);
        let sent = Instant::now();
        let _ = ctl.try_send(MediaCommand::Play {
            prompt: prompts[*which],
            barge_in: DigitSet::EMPTY,
        });
        sent
    };
    while Instant::now() < end {
        let timeout = next_play.saturating_duration_since(Instant::now());
        let _ = control_poll.poll(&mut events, Some(timeout.min(Duration::from_millis(20))));
        let now = Instant::now();
        let ask = asked.load(Ordering::Acquire);
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
                digit_ms.push(signed_ms(now, min_end));
                keys.push((d.end.0, min_end, now));
                // An IVR answering the key with a prompt, at once.
                if pending.is_none() {
                    pending = Some((send_play(&mut ctl, &mut which), true));
                } else {
                    skipped_reactive += 1;
                }
            }
        }
        // Done with everything the audio thread queued: tell it (it may be holding the
        // transmit half of the frame for our answer).
        if answered.load(Ordering::Relaxed) < ask {
            answered.store(ask, Ordering::Release);
            let _ = answer_waker.wake();
        }
        if let Some((sent, is_reactive)) = pending {
            let (h, l) = (
                handed_ns.load(Ordering::Acquire),
                line_ns.load(Ordering::Acquire),
            );
            if h != 0 && l != 0 {
                let handed = t0 + Duration::from_nanos(h - 1);
                let line = t0 + Duration::from_nanos(l - 1);
                let times = if is_reactive {
                    &mut reactive
                } else {
                    &mut random
                };
                times.total.push(signed_ms(line, sent));
                times.to_card.push(signed_ms(handed, sent));
                times.lead.push(signed_ms(line, handed));
                if line < handed {
                    // The card thread ran late and took the frame after its slot began:
                    // this sample is counted earlier than a hardware card would play it.
                    acausal += 1;
                }
                pending = None;
                next_play = Instant::now() + Duration::from_millis(60 + rng.next(200));
            }
        } else if now >= next_play {
            pending = Some((send_play(&mut ctl, &mut which), false));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (audio_policy, lateness, woke, would_block, trimmed, late_answers) =
        audio.join().expect("audio thread");
    let (card_policy, card_lateness, underruns) = card.join().expect("card thread");
    // Split each key's latency at the moment the audio thread queued the event.
    let (mut in_audio, mut hop) = (Vec::new(), Vec::new());
    for (accepted, min_end, received) in keys {
        // `accepted` is a sample time; the frame holding the sample before it decided.
        let frame = accepted.saturating_sub(1) / FRAME_SAMPLES as u64;
        // The frame's receivers run with its last block.
        let last_block = (frame + 1) * FRAME_SAMPLES as u64 - block as u64;
        if let Some(&(_, ns)) = woke.iter().find(|(at, _)| *at >= last_block) {
            let queued = t0 + Duration::from_nanos(ns);
            in_audio.push(signed_ms(queued, min_end));
            hop.push(signed_ms(received, queued));
        }
    }
    println!("card thread: {card_policy}; audio thread: {audio_policy}");
    if let (Some(a), Some(b)) = (steal_before, steal_ms()) {
        println!(
            "hypervisor steal during the run: {} ms over {:.0} s (both virtual CPUs)",
            b - a,
            t0.elapsed().as_secs_f64()
        );
    }
    if window.is_zero() {
        println!("reaction window: none (receive and transmit in one step, as ivrd's loop today)");
    } else {
        println!(
            "reaction window: {window_us} µs after a frame with events, before its transmit half; \
             {late_answers} times the control thread answered later than that"
        );
    }
    println!(
        "card tick lateness (1 ms ticks): {}",
        percentiles(card_lateness)
    );
    println!(
        "board block: {block} samples ({} ms); audio thread wake-up lateness per block: {}",
        block / 8,
        percentiles(lateness)
    );
    println!(
        "transmit: {prime} samples primed; {underruns} card ticks short of audio (underruns); \
         {would_block} blocks refused (queue full); {trimmed} silent blocks left out to \
         take the lead back after a late wake-up{}",
        if trim { "" } else { " (trimming off)" }
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
    random.report("sent at random moments");
    reactive.report("sent on a key event");
    println!(
        "  ({acausal} prompts taken by the card before they were handed over: card thread late)"
    );
    if skipped_reactive > 0 {
        println!("  ({skipped_reactive} keys came while a measurement was open: no play sent)");
    }
}

fn main() {
    // As ivrd by default (`daemon.cpu_wakeup_latency_us = 0`): CPUs kept out of idle states
    // that are slow to leave and empty the caches; `CPU_LATENCY=off` makes no request.
    let latency = std::env::var("CPU_LATENCY")
        .map_or(true, |v| v != "off")
        .then(|| pipeline_support::hold_cpu_latency(0))
        .flatten();
    println!(
        "CPU wake-up latency held at 0 µs (as ivrd's default): {}",
        latency.is_some()
    );
    let env = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    if env("REACTION_WINDOW_US").is_some() || env("BLOCK_SAMPLES").is_some() {
        let window_us = env("REACTION_WINDOW_US").unwrap_or(0);
        // The window delays some transmit frames by up to its length: by default start
        // with that much queued, so the first such frame does not run the queue dry.
        let prime = env("TX_PRIME_SAMPLES").map_or(window_us as usize * 8 / 1000, |p| p as usize);
        let trim = std::env::var_os("NO_TRIM").is_none();
        let block = env("BLOCK_SAMPLES").map_or(FRAME_SAMPLES, |b| b as usize);
        run("as configured", block, window_us, prime, trim);
        return;
    }
    run(
        "20 ms blocks (block_ms = 20): receive and transmit in one step per frame, catch-up trimming (as ivrd's loop)",
        FRAME_SAMPLES,
        0,
        0,
        true,
    );
    run(
        "20 ms blocks with the proposed 2 ms reaction window, 2 ms lead primed, catch-up trimming",
        FRAME_SAMPLES,
        2000,
        16,
        true,
    );
    run(
        "10 ms blocks (block_ms = 10, ivrd's DAHDI default): transmit built per block, nothing primed, catch-up trimming (as ivrd's loop)",
        FRAME_SAMPLES / 2,
        0,
        0,
        true,
    );
}
