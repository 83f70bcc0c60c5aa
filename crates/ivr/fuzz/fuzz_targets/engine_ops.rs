//! Random event sequences against the bundled hotline script on several channels: no panic,
//! and a bounded number of outputs per input.
#![no_main]

use arbitrary::Arbitrary;
use ivr::{CallInfo, Engine, HookReply, Input, Instant, Output, Script};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tel_types::{
    ChannelId, Digit, DigitEvent, LineEvent, MediaEvent, ProgressTone, PromptId, RecordingId,
    SampleTime,
};

#[derive(Debug, Arbitrary)]
enum Op {
    Arrive(u8, bool),
    OnHook(u8),
    Busy(u8),
    Digit(u8, u8),
    Advance(u16),
    PlayDone(u8, u16),
    RecDone(u8, u32, u32),
    Hook(u8, u32, u8),
}

fn script() -> &'static std::sync::Arc<Script> {
    static S: OnceLock<std::sync::Arc<Script>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../ivr-scripts/");
        let path = format!("{dir}shop-hotline.ivr");
        std::sync::Arc::new(
            Script::load(&path, |p| std::fs::read_to_string(p)).expect("hotline loads"),
        )
    })
}

fuzz_target!(|ops: Vec<Op>| {
    let mut e = Engine::new_shared(script().clone());
    e.set_tracing(true);
    let mut now = Instant::ZERO;
    let t = |now: Instant| SampleTime::from_millis(now.as_millis());
    for op in ops.into_iter().take(2000) {
        let input = match op {
            Op::Arrive(c, out) => Input::CallArrived {
                now,
                ch: ChannelId(u16::from(c % 4)),
                call: CallInfo {
                    caller_id: "13800138000".into(),
                    outbound: out,
                    ..CallInfo::default()
                },
            },
            Op::OnHook(c) => Input::Media {
                now,
                ch: ChannelId(u16::from(c % 4)),
                event: MediaEvent::Line {
                    at: t(now),
                    event: LineEvent::OnHook,
                },
            },
            Op::Busy(c) => Input::Media {
                now,
                ch: ChannelId(u16::from(c % 4)),
                event: MediaEvent::Progress {
                    at: t(now),
                    tone: ProgressTone::Busy,
                },
            },
            Op::Digit(c, d) => Input::Media {
                now,
                ch: ChannelId(u16::from(c % 4)),
                event: MediaEvent::Digit(DigitEvent {
                    digit: Digit::from_index(usize::from(d % 16)).unwrap_or(Digit::D0),
                    start: t(now),
                    end: t(now),
                    low_dbm0: -9.0,
                    high_dbm0: -7.0,
                    snr_db: 20.0,
                }),
            },
            Op::Advance(ms) => {
                now += ivr::Duration::from_millis(u64::from(ms) * 10);
                Input::Timeout(now)
            }
            Op::PlayDone(c, p) => Input::Media {
                now,
                ch: ChannelId(u16::from(c % 4)),
                event: MediaEvent::PlaybackDone {
                    prompt: PromptId(p % 400),
                    played_samples: 0,
                    barged_in_by: None,
                },
            },
            Op::RecDone(c, slot, n) => Input::Media {
                now,
                ch: ChannelId(u16::from(c % 4)),
                event: MediaEvent::RecordingDone {
                    slot: RecordingId(slot % 8),
                    samples: n % 1_000_000,
                    stopped_by: None,
                },
            },
            Op::Hook(c, id, k) => Input::HookReply {
                now,
                ch: ChannelId(u16::from(c % 4)),
                id: ivr::HookId(id % 16),
                reply: match k % 4 {
                    0 => HookReply::Found(vec![
                        ("status".into(), "shipped".into()),
                        ("amount".into(), "1.5".into()),
                        ("count".into(), "x".into()),
                    ]),
                    1 => HookReply::NotFound,
                    2 => HookReply::Error("e".into()),
                    _ => HookReply::Timeout,
                },
            },
        };
        let _ = e.handle_input(input);
        let mut n = 0;
        loop {
            n += 1;
            assert!(n < 5000, "unbounded output");
            if let Output::Timeout(d) = e.poll_output() {
                if let Some(d) = d {
                    assert!(d >= now || e.calls() > 0);
                }
                break;
            }
        }
    }
});
