//! IVR engine throughput: complete simulated calls of the order-status script per second on
//! one core, in virtual time, with canned hook replies (goal: at least 100,000 calls/s).
//!
//! Each call: arrives, is answered, hears the welcome and the order menu, presses 1, keys in
//! an order number (12 keys), waits for the lookup, hears the status, payment, amount,
//! carrier and tracking number said back (about 40 prompts), presses 9 and is hung up.
//!
//! Two runs: calls one after another, and the same number of calls with 120 lines busy at
//! once (the engine's per-input cost must not grow with the number of calls).
//!
//! `cargo bench -p benches --bench engine` (release). Prints calls/s (thread CPU time, and
//! wall time) and fails if either run is below the goal.

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
                // The pipeline reports stopped prompts done too; `plays` keeps them in order.
                Output::Media(_, MediaCommand::StopPlayback) => {}
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

/// One simulated caller per channel, all channels busy at once (the board's 120 lines).
struct Line {
    plays: std::collections::VecDeque<PromptId>,
    hook: Option<ivr::HookId>,
    next_keys: usize,
    busy: bool,
}

/// Runs `total` calls with `lines` calls in progress at any time, one input per line in turn.
fn concurrent(engine: &mut Engine, lines: usize, total: u64, fields: &[(String, String)]) -> u64 {
    let keys: Vec<Vec<Digit>> = ["1", "20261122001#", "9"]
        .iter()
        .map(|k| k.chars().filter_map(Digit::from_char).collect())
        .collect();
    let mut st: Vec<Line> = (0..lines)
        .map(|_| Line {
            plays: Default::default(),
            hook: None,
            next_keys: 0,
            busy: false,
        })
        .collect();
    let mut now = Instant::ZERO;
    let (mut started, mut ended) = (0u64, 0u64);
    while ended < total {
        now += ivr::Duration::from_millis(20);
        for (n, line) in st.iter_mut().enumerate() {
            let ch = ChannelId(n as u16 + 1);
            if !line.busy {
                if started == total {
                    continue;
                }
                started += 1;
                line.busy = true;
                line.next_keys = 0;
                let call = CallInfo {
                    caller_id: "13800138000".into(),
                    ..CallInfo::default()
                };
                engine
                    .handle_input(Input::CallArrived { now, ch, call })
                    .unwrap();
            } else if let Some(id) = line.hook.take() {
                let reply = HookReply::Found(fields.to_vec());
                engine
                    .handle_input(Input::HookReply { now, ch, id, reply })
                    .unwrap();
            } else if let Some(prompt) = line.plays.pop_front() {
                let ev = MediaEvent::PlaybackDone {
                    prompt,
                    played_samples: 4000,
                    barged_in_by: None,
                };
                engine
                    .handle_input(Input::Media { now, ch, event: ev })
                    .unwrap();
            } else if engine.is_waiting_for_keys(ch) && line.next_keys < keys.len() {
                for &d in &keys[line.next_keys] {
                    engine
                        .handle_input(Input::Media {
                            now,
                            ch,
                            event: digit(d, now),
                        })
                        .unwrap();
                }
                line.next_keys += 1;
            }
            loop {
                match engine.poll_output() {
                    Output::Timeout(_) => break,
                    Output::Media(c, MediaCommand::Play { prompt, .. }) => {
                        st_push(&mut line.plays, c, ch, prompt);
                    }
                    Output::Hook(_, id, _) => line.hook = Some(id),
                    Output::CallEnded(_, rec) => {
                        assert_eq!(rec.result, "order-status-said");
                        line.busy = false;
                        ended += 1;
                    }
                    o => {
                        let _ = black_box(o);
                    }
                }
            }
        }
    }
    ended
}

fn st_push(q: &mut std::collections::VecDeque<PromptId>, c: ChannelId, ch: ChannelId, p: PromptId) {
    debug_assert_eq!(c, ch, "outputs belong to the line that had the input");
    q.push_back(p);
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
    // The same calls with 120 lines busy at once.
    let lines = 120;
    let t0 = std::time::Instant::now();
    let c0 = cpu_ns();
    let done = concurrent(&mut engine, lines, calls, &fields);
    let wall = t0.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall,
    };
    let rate = done as f64 / cpu;
    println!(
        "engine: {done} calls with {lines} in progress at once: {cpu:.3} s on one core ({wall:.3} s wall) = {rate:.0} calls/s per core"
    );
    if rate < GOAL_CALLS_PER_S {
        eprintln!("engine: below the goal with {lines} lines busy");
        std::process::exit(1);
    }
}
