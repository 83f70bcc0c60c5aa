//! IVR engine throughput: complete simulated calls of the order-status script per second on
//! one core, in virtual time, with canned hook replies (goal: at least 100,000 calls/s).
//!
//! Each call: arrives, is answered, hears the welcome and the order menu, presses 1, keys in
//! an order number (12 keys), waits for the lookup, hears the status, payment, amount,
//! carrier and tracking number said back (about 40 prompts), presses 9 and is hung up.
//!
//! `cargo bench -p benches --bench engine` (release). Prints calls/s and fails if below goal.

use ivr::{CallInfo, Engine, HookReply, Input, Instant, Output, Script};
use std::hint::black_box;
use std::path::Path;
use tel_types::{ChannelId, Digit, DigitEvent, MediaCommand, MediaEvent, PromptId, SampleTime};

const GOAL_CALLS_PER_S: f64 = 100_000.0;

/// CPU time this thread has run, in ns (Linux `/proc/thread-self/schedstat`), so the figure
/// is per core even when other processes share the machine; `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn digit(d: Digit, now: Instant) -> MediaEvent {
    let t = SampleTime::from_millis(now.as_millis());
    MediaEvent::Digit(DigitEvent {
        digit: d,
        start: t,
        end: t,
        low_dbm0: -9.0,
        high_dbm0: -7.0,
        snr_db: 30.0,
    })
}

/// Runs one call to its end; returns the number of inputs it took.
fn one_call(
    engine: &mut Engine,
    ch: ChannelId,
    start: Instant,
    fields: &[(String, String)],
    plays: &mut Vec<PromptId>,
) -> u32 {
    let keys: Vec<Vec<Digit>> = ["1", "20261122001#", "9"]
        .iter()
        .map(|k| k.chars().filter_map(Digit::from_char).collect())
        .collect();
    let mut next_keys = 0;
    let mut now = start;
    let mut inputs = 1;
    let call = CallInfo {
        caller_id: "13800138000".into(),
        ..CallInfo::default()
    };
    engine
        .handle_input(Input::CallArrived { now, ch, call })
        .unwrap();
    let mut hook = None;
    let mut deadline;
    loop {
        let mut ended = false;
        loop {
            match engine.poll_output() {
                Output::Timeout(t) => {
                    deadline = t;
                    break;
                }
                Output::Media(_, MediaCommand::Play { prompt, .. }) => plays.push(prompt),
                Output::Media(_, MediaCommand::StopPlayback) => plays.clear(),
                Output::Hook(_, id, _) => hook = Some(id),
                Output::CallEnded(_, rec) => {
                    assert_eq!(
                        rec.result, "order-status-said",
                        "the call must say the status"
                    );
                    black_box(rec);
                    ended = true;
                }
                o => {
                    let _ = black_box(o);
                }
            }
        }
        if ended {
            return inputs;
        }
        inputs += 1;
        now += ivr::Duration::from_millis(500);
        // The shop answers before the hold music ends; then prompts finish one by one.
        if let Some(id) = hook.take() {
            let reply = HookReply::Found(fields.to_vec());
            engine
                .handle_input(Input::HookReply { now, ch, id, reply })
                .unwrap();
        } else if let Some(prompt) = plays.first().copied() {
            plays.remove(0);
            let ev = MediaEvent::PlaybackDone {
                prompt,
                played_samples: 4000,
                barged_in_by: None,
            };
            engine
                .handle_input(Input::Media { now, ch, event: ev })
                .unwrap();
        } else if engine.is_waiting_for_keys(ch) && next_keys < keys.len() {
            for &d in &keys[next_keys] {
                engine
                    .handle_input(Input::Media {
                        now,
                        ch,
                        event: digit(d, now),
                    })
                    .unwrap();
            }
            next_keys += 1;
        } else if let Some(t) = deadline {
            now = now.max(t);
            engine.handle_input(Input::Timeout(now)).unwrap();
        } else {
            panic!("call stuck");
        }
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ivr-scripts");
    let path = dir.join("order-status.ivr");
    let script = Script::load(&path.to_string_lossy(), |p| std::fs::read_to_string(p))
        .expect("order-status.ivr loads");
    let mut engine = Engine::new(script);
    let fields: Vec<(String, String)> = [
        ("order_no", "20261122001"),
        ("status", "shipped"),
        ("payment", "paid"),
        ("amount", "128.50"),
        ("carrier", "sf"),
        ("tracking_no", "9876543210123"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut plays = Vec::with_capacity(64);
    let ch = ChannelId(1);
    let calls: u64 = std::env::var("CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    // Warm up.
    let mut inputs = 0;
    for i in 0..calls.min(2_000) {
        inputs = one_call(
            &mut engine,
            ch,
            Instant::from_secs(i * 3600),
            &fields,
            &mut plays,
        );
    }
    eprintln!("warm-up done");
    let t0 = std::time::Instant::now();
    let c0 = cpu_ns();
    for i in 0..calls {
        black_box(one_call(
            &mut engine,
            ch,
            Instant::from_secs(i * 3600),
            &fields,
            &mut plays,
        ));
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall,
    };
    let rate = calls as f64 / cpu;
    println!(
        "engine: {calls} order-status calls ({inputs} inputs each): {cpu:.3} s on one core ({wall:.3} s wall) = {rate:.0} calls/s per core, {:.2} µs per call (goal >= {GOAL_CALLS_PER_S:.0} calls/s)",
        cpu * 1e6 / calls as f64
    );
    println!(
        "engine: wall-clock rate {:.0} calls/s (lower when other processes share the core)",
        calls as f64 / wall
    );
    if rate < GOAL_CALLS_PER_S {
        eprintln!("engine: below the goal");
        std::process::exit(1);
    }
}
