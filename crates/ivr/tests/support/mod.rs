//! Test support: load the bundled scripts, a canned shop, golden-file comparison, and a raw
//! virtual-time harness over the engine's inputs and outputs.
#![allow(dead_code, unreachable_pub)]

use ivr::{Duration, Engine, HookCall, HookReply, Input, Instant, Output, Script};
use std::path::{Path, PathBuf};
use tel_types::{ChannelId, Digit, DigitEvent, LineEvent, MediaCommand, MediaEvent, SampleTime};

pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../ivr-scripts")
        .canonicalize()
        .unwrap()
}

pub fn load(name: &str) -> Script {
    let path = scripts_dir().join(name);
    Script::load(&path.to_string_lossy(), |p| std::fs::read_to_string(p))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A canned shop: one order, one phone.
pub fn shop(call: &HookCall) -> (HookReply, Duration) {
    let found = |f: &[(&str, &str)]| {
        HookReply::Found(
            f.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let r = match call {
        HookCall::FindOrder { order_no } if order_no == "20261122001" => found(&[
            ("order_no", "20261122001"),
            ("status", "shipped"),
            ("payment", "paid"),
            ("amount", "128.50"),
            ("carrier", "sf"),
            ("tracking_no", "9876543210"),
        ]),
        HookCall::FindOrder { order_no } if order_no == "20260000000" => {
            HookReply::Error("db down".into())
        }
        HookCall::RecentOrders { phone } if phone == "13800138000" => found(&[
            ("order_no", "20261122001"),
            ("status", "delivered"),
            ("payment", "cod"),
            ("amount", "20000.08"),
            ("carrier", "zto"),
            ("tracking_no", "1234"),
            ("count", "3"),
        ]),
        HookCall::AfterSales { .. } => found(&[("reference", "88122001")]),
        HookCall::RequestCallback { .. } => found(&[("ticket", "1")]),
        _ => HookReply::NotFound,
    };
    (r, Duration::from_millis(250))
}

/// Compares `actual` with `tests/golden/<name>.txt`; `UPDATE_GOLDEN=1` rewrites the file.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    if want != actual {
        for (i, (w, a)) in want.lines().zip(actual.lines()).enumerate() {
            if w != a {
                panic!(
                    "{name}: first difference at line {}:\n  want: {w}\n  got:  {a}\n(UPDATE_GOLDEN=1 rewrites)",
                    i + 1
                );
            }
        }
        panic!(
            "{name}: transcripts differ in length (want {} lines, got {})",
            want.lines().count(),
            actual.lines().count()
        );
    }
}

/// A raw harness: feeds inputs at `now`, drains outputs into a transcript, jumps to deadlines.
pub struct Caller {
    pub engine: Engine,
    pub now: Instant,
    pub ch: ChannelId,
    pub deadline: Option<Instant>,
    pub log: Vec<String>,
    pub outputs: Vec<Output>,
}

impl Caller {
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            now: Instant::ZERO,
            ch: ChannelId(1),
            deadline: None,
            log: Vec::new(),
            outputs: Vec::new(),
        }
    }

    pub fn input(&mut self, input: Input) {
        self.log
            .push(format!("{} {} <- {:?}", self.now, self.ch, input));
        self.engine.handle_input(input).unwrap();
        self.drain();
    }

    pub fn drain(&mut self) {
        let mut n = 0;
        loop {
            n += 1;
            assert!(n < 10_000, "unbounded output");
            match self.engine.poll_output() {
                Output::Timeout(t) => {
                    self.deadline = t;
                    break;
                }
                o => {
                    self.log
                        .push(format!("{} {} -> {:?}", self.now, self.ch, o));
                    self.outputs.push(o);
                }
            }
        }
    }

    pub fn arrive(&mut self, call: ivr::CallInfo) {
        let (now, ch) = (self.now, self.ch);
        self.input(Input::CallArrived { now, ch, call });
    }

    pub fn media(&mut self, event: MediaEvent) {
        let (now, ch) = (self.now, self.ch);
        self.input(Input::Media { now, ch, event });
    }

    pub fn key(&mut self, c: char) {
        let d = Digit::from_char(c).unwrap();
        let t = SampleTime::from_millis(self.now.as_millis());
        self.media(MediaEvent::Digit(DigitEvent {
            digit: d,
            start: t,
            end: t,
            low_dbm0: -9.0,
            high_dbm0: -7.0,
            snr_db: 30.0,
        }));
    }

    pub fn hang_up(&mut self) {
        self.media(MediaEvent::Line {
            at: SampleTime::ZERO,
            event: LineEvent::OnHook,
        });
    }

    /// Finishes every prompt the engine asked to play since the last call.
    pub fn finish_prompts(&mut self) {
        let plays: Vec<_> = self
            .outputs
            .drain(..)
            .filter_map(|o| match o {
                Output::Media(_, MediaCommand::Play { prompt, .. }) => Some(prompt),
                _ => None,
            })
            .collect();
        for p in plays {
            self.media(MediaEvent::PlaybackDone {
                prompt: p,
                played_samples: 8000,
                barged_in_by: None,
            });
        }
    }

    /// Jumps to the next deadline and fires it.
    pub fn advance(&mut self) {
        let t = self.deadline.expect("no timer armed");
        self.now = t;
        self.input(Input::Timeout(t));
    }

    pub fn sleep(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
    }

    pub fn transcript(&self) -> String {
        self.log.join("\n") + "\n"
    }
}
