//! The fuzz targets' properties on a fixed pseudo-random corpus, so CI checks them on every
//! run (the real fuzzing is `cargo fuzz` in `crates/ivr/fuzz`).

mod support;

use ivr::{CallInfo, Engine, HookId, HookReply, Input, Instant, Output, Script};
use tel_types::{
    ChannelId, Digit, DigitEvent, LineEvent, MediaEvent, ProgressTone, PromptId, RecordingId,
    SampleTime,
};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 40] = [
    "flow",
    "main",
    "end",
    "menu",
    "key",
    "1",
    "\"#\"",
    "on",
    "timeout-limit",
    "invalid-limit",
    "greeting",
    "\"g\"",
    "collect",
    "x",
    "hook",
    "find_order(",
    ")",
    "->",
    "o",
    "say",
    "money",
    "o.amount",
    "if",
    "==",
    "\"\"",
    "else",
    "goto",
    "top:",
    "call",
    "f(",
    "record",
    "r",
    "\n",
    "\n",
    "  ",
    "set",
    "=",
    "\"中文\"",
    "5s",
    "#c\n",
];

#[test]
fn random_scripts_never_panic_and_errors_point_inside_the_text() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let base = std::fs::read_to_string(support::scripts_dir().join("lib/order.ivr")).unwrap();
    for round in 0..3000 {
        let text: String = if round % 3 == 0 {
            // Mutate a real script: drop, duplicate or swap characters.
            let mut chars: Vec<char> = base.chars().collect();
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(chars.len() as u64) as usize;
                match rng.below(3) {
                    0 => {
                        chars.remove(i);
                    }
                    1 => chars.insert(i, chars[i]),
                    _ => chars[i] = char::from(b" \n\"#:()=-.1"[rng.below(11) as usize]),
                }
            }
            chars.into_iter().collect::<String>() + "\nflow main\n  call order_status\nend\n"
        } else {
            (0..rng.below(60))
                .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let lines = text.lines().count() as u32 + 1;
        let (_, diags) = ivr::check_with("f.ivr", |p| {
            if p == "f.ivr" {
                Ok(text.clone())
            } else {
                Err(std::io::ErrorKind::NotFound.into())
            }
        });
        for d in &diags {
            assert!(d.loc.line <= lines, "{d}\n--- in ---\n{text}");
        }
    }
}

#[test]
fn random_event_sequences_never_panic_and_output_stays_bounded() {
    let script = std::sync::Arc::new(support::load("shop-hotline.ivr"));
    let prompts = script.prompts().len() as u64;
    let mut rng = Rng(42);
    for _ in 0..200 {
        let mut e = Engine::new_shared(script.clone());
        e.set_tracing(true);
        let mut now = Instant::ZERO;
        let mut last_hook = 1;
        for _ in 0..400 {
            let ch = ChannelId(rng.below(3) as u16);
            let at = SampleTime::from_millis(now.as_millis());
            let input = match rng.below(10) {
                0 => Input::CallArrived {
                    now,
                    ch,
                    call: CallInfo {
                        caller_id: "13800138000".into(),
                        ..CallInfo::default()
                    },
                },
                1 => Input::Media {
                    now,
                    ch,
                    event: MediaEvent::Line {
                        at,
                        event: LineEvent::OnHook,
                    },
                },
                2 => Input::Media {
                    now,
                    ch,
                    event: MediaEvent::Progress {
                        at,
                        tone: ProgressTone::Busy,
                    },
                },
                3 | 4 => {
                    let digit = Digit::from_index(rng.below(12) as usize).unwrap();
                    let ev = DigitEvent {
                        digit,
                        start: at,
                        end: at,
                        low_dbm0: -9.0,
                        high_dbm0: -7.0,
                        snr_db: 20.0,
                    };
                    Input::Media {
                        now,
                        ch,
                        event: MediaEvent::Digit(ev),
                    }
                }
                5 => {
                    now += ivr::Duration::from_millis(rng.below(20_000));
                    Input::Timeout(now)
                }
                6 | 7 => {
                    let prompt = PromptId(rng.below(prompts) as u16);
                    Input::Media {
                        now,
                        ch,
                        event: MediaEvent::PlaybackDone {
                            prompt,
                            played_samples: 0,
                            barged_in_by: None,
                        },
                    }
                }
                8 => Input::Media {
                    now,
                    ch,
                    event: MediaEvent::RecordingDone {
                        slot: RecordingId(rng.below(4) as u32),
                        samples: rng.below(100_000) as u32,
                        stopped_by: None,
                    },
                },
                _ => Input::HookReply {
                    now,
                    ch,
                    id: HookId(last_hook),
                    reply: match rng.below(4) {
                        0 => HookReply::Found(vec![
                            ("status".into(), "shipped".into()),
                            ("amount".into(), "x.5".into()),
                        ]),
                        1 => HookReply::NotFound,
                        2 => HookReply::Error("down".into()),
                        _ => HookReply::Timeout,
                    },
                },
            };
            let _ = e.handle_input(input);
            let mut n = 0;
            loop {
                n += 1;
                assert!(n < 2000, "unbounded output");
                match e.poll_output() {
                    Output::Timeout(d) => {
                        if let Some(d) = d {
                            assert!(e.calls() > 0 && d.as_millis() > 0);
                        }
                        break;
                    }
                    Output::Hook(_, id, _) => last_hook = id.0,
                    _ => {}
                }
            }
        }
    }
    // A script whose every path meets runtime errors still never panics.
    let s = Script::from_text(
        "e.ivr",
        "flow main\n  say money caller_id\n  say date caller_id\n  hangup\nend\n",
    )
    .unwrap();
    let mut e = Engine::new(s);
    e.handle_input(Input::CallArrived {
        now: Instant::ZERO,
        ch: ChannelId(1),
        call: CallInfo {
            caller_id: "12a".into(),
            ..CallInfo::default()
        },
    })
    .unwrap();
    let mut errs = 0;
    loop {
        match e.poll_output() {
            Output::Timeout(_) => break,
            Output::Error(_, _) => errs += 1,
            _ => {}
        }
    }
    assert_eq!(errs, 1);
}
