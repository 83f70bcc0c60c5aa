//! A simulated caller in virtual time, for golden tests, `ivrd simulate` and `ivrd test`.
//!
//! The simulator plays the media pipeline (each prompt takes its nominal length, then
//! `PlaybackDone`), the caller (presses keys when the IVR waits for them, stays silent, hangs
//! up) and the shop (answers hooks through [`Hooks`]). Time jumps from one event to the next,
//! so an hour-long call runs in microseconds, and every run is identical.
//!
//! ```
//! use ivr::sim::{Action, SimConfig, simulate};
//! use ivr::{Engine, HookReply, Script};
//! let script = Script::from_text("m.ivr", r#"
//! flow main
//!   answer
//!   menu top
//!     greeting "welcome"
//!     key 1: transfer group "sales"
//!     on invalid-limit: hangup
//!     on timeout-limit: hangup
//!   end
//! end
//! "#).unwrap();
//! let mut engine = Engine::new(script);
//! let mut hooks = |_: &ivr::HookCall| (HookReply::NotFound, ivr::Duration::from_millis(100));
//! let out = simulate(&mut engine, &SimConfig::default(), &[Action::Press("1".into())], &mut hooks);
//! assert!(out.transcript.iter().any(|l| l.contains("transfer to group \"sales\"")));
//! ```

use crate::engine::*;
use crate::error::Loc;
use crate::program::TransferKind;
use crate::script::Script;
use crate::time::{Duration, Instant};
use std::collections::VecDeque;
use tel_types::{
    ChannelId, Digit, DigitEvent, LineEvent, MediaCommand, MediaEvent, PromptId, SampleTime, Tone,
};

/// What the simulated caller does, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Press these keys once the IVR waits for keys (its prompt has finished).
    Press(String),
    /// Press these keys right away, interrupting a prompt (barge-in).
    PressNow(String),
    /// Do nothing for this long.
    Wait(Duration),
    /// Hang up.
    Hangup,
}

/// Answers hook calls in the simulation: the reply and how long the shop takes.
pub trait Hooks {
    /// The reply to `call` and its latency.
    fn answer(&mut self, call: &HookCall) -> (HookReply, Duration);
}

impl<F: FnMut(&HookCall) -> (HookReply, Duration)> Hooks for F {
    fn answer(&mut self, call: &HookCall) -> (HookReply, Duration) {
        self(call)
    }
}

/// The simulated call's setting.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The call.
    pub call: CallInfo,
    /// Time between two key presses.
    pub key_gap: Duration,
    /// How long the caller talks when recorded.
    pub speech: Duration,
    /// Length of each prompt by id; missing ids take `default_prompt`.
    pub prompt_lengths: Vec<Duration>,
    /// Length of a prompt not in `prompt_lengths`.
    pub default_prompt: Duration,
    /// The caller gives up (hangs up) after this long.
    pub give_up: Duration,
    /// Show each say-back fragment as its own `play` line.
    pub verbose: bool,
    /// What each prompt says, by id, shown after its `play` line (from the pack's text list).
    pub prompt_texts: Vec<Option<String>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            call: CallInfo {
                caller_id: "13800138000".into(),
                dialled: "4008001234".into(),
                trunk: "span1".into(),
                local: LocalTime {
                    year: 2026,
                    month: 11,
                    day: 23,
                    hour: 10,
                    minute: 0,
                },
                outbound: false,
                language: String::new(),
            },
            key_gap: Duration::from_millis(300),
            speech: Duration::from_secs(6),
            prompt_lengths: Vec::new(),
            default_prompt: Duration::from_millis(1500),
            give_up: Duration::from_secs(1800),
            verbose: false,
            prompt_texts: Vec::new(),
        }
    }
}

/// What a simulated call produced.
#[derive(Debug, Clone, Default)]
pub struct SimOutcome {
    /// One line per event, `12.300s -> play welcome`.
    pub transcript: Vec<String>,
    /// The call record, if the call ended.
    pub record: Option<CallRecord>,
    /// Branches taken, for coverage.
    pub branches: Vec<(Loc, String)>,
    /// Runtime errors.
    pub errors: Vec<RuntimeError>,
}

fn fragment_or_prompt(script: &Script, id: PromptId) -> (String, bool) {
    match script.prompt(id) {
        Some(p) => (p.name.clone(), p.used_at.is_none()),
        None => (format!("#{}", id.0), false),
    }
}

/// Runs one call on channel 1 of `engine` (tracing on) until it ends.
pub fn simulate(
    engine: &mut Engine,
    cfg: &SimConfig,
    actions: &[Action],
    hooks: &mut dyn Hooks,
) -> SimOutcome {
    let ch = ChannelId(1);
    engine.set_tracing(true);
    let script = engine.script().clone();
    let mut out = SimOutcome::default();
    let mut now = Instant::ZERO;
    out_line(
        &mut out.transcript,
        now,
        format!(
            "<- call from {} to {} on {}",
            show(&cfg.call.caller_id),
            show(&cfg.call.dialled),
            show(&cfg.call.trunk)
        ),
    );
    let arrive = Input::CallArrived {
        now,
        ch,
        call: cfg.call.clone(),
    };
    if engine.handle_input(arrive).is_err() {
        return out;
    }
    let mut play_q: VecDeque<PromptId> = VecDeque::new();
    let mut play_end: Option<Instant> = None;
    let mut stopped: Vec<PromptId> = Vec::new();
    let mut hook_replies: Vec<(Instant, HookId, HookReply)> = Vec::new();
    let mut keys: VecDeque<(Instant, Digit)> = VecDeque::new();
    let mut rec_end: Option<(Instant, tel_types::RecordingId, u32)> = None;
    // When the recording started, and how many samples the caller talks into it.
    let mut rec_talk = (Instant::ZERO, 0u32);
    let mut action = 0usize;
    let mut wait_until: Option<Instant> = None;
    let mut deadline: Option<Instant>;
    let mut ended = false;
    let give_up = now + cfg.give_up;
    let len = |id: PromptId| {
        cfg.prompt_lengths
            .get(id.0 as usize)
            .copied()
            .unwrap_or(cfg.default_prompt)
    };
    let mut transcript = std::mem::take(&mut out.transcript);
    let mut guard = 0u32;
    loop {
        guard += 1;
        // Drain outputs.
        loop {
            // What a call does after its caller hung up reads as any other output here.
            let o = match engine.poll_output() {
                Output::AfterHangup(_, o) => *o,
                o => o,
            };
            match o {
                Output::Timeout(t) => {
                    deadline = t;
                    break;
                }
                Output::CallerGone(..) => out_line(
                    &mut transcript,
                    now,
                    "== line released; the script goes on without the caller".into(),
                ),
                Output::Media(_, cmd) => match cmd {
                    MediaCommand::SetHook(tel_types::Hook::OffHook) => {
                        out_line(&mut transcript, now, "-> answer".into())
                    }
                    MediaCommand::SetHook(_) => out_line(&mut transcript, now, "-> hang up".into()),
                    MediaCommand::Play { prompt, .. } => {
                        let (name, frag) = fragment_or_prompt(&script, prompt);
                        if !frag || cfg.verbose {
                            let line = match cfg.prompt_texts.get(prompt.0 as usize) {
                                Some(Some(t)) => format!("-> play {name} \"{t}\""),
                                _ => format!("-> play {name}"),
                            };
                            out_line(&mut transcript, now, line);
                        }
                        play_q.push_back(prompt);
                        if play_end.is_none() {
                            play_end = Some(now + len(prompt));
                        }
                    }
                    MediaCommand::StopPlayback => {
                        // Like the media pipeline: every stopped prompt is reported done.
                        out_line(&mut transcript, now, "-> stop playback".into());
                        stopped.extend(play_q.drain(..));
                        play_end = None;
                    }
                    MediaCommand::PlayTone {
                        tone: Tone::Beep, ..
                    } => out_line(&mut transcript, now, "-> beep".into()),
                    MediaCommand::PlayTone { tone, .. } => {
                        out_line(&mut transcript, now, format!("-> tone {tone:?}"))
                    }
                    MediaCommand::StartRecording {
                        slot,
                        max_ms,
                        end_on_silence_ms,
                        ..
                    } => {
                        out_line(
                            &mut transcript,
                            now,
                            format!(
                                "-> record (max {}, silence {})",
                                Duration::from_millis(max_ms.into()),
                                Duration::from_millis(end_on_silence_ms.into())
                            ),
                        );
                        let talk = cfg.speech.as_millis().min(max_ms.into());
                        let ends = if talk >= u64::from(max_ms) {
                            talk
                        } else {
                            talk + u64::from(end_on_silence_ms)
                        };
                        rec_end =
                            Some((now + Duration::from_millis(ends), slot, (talk * 8) as u32));
                        rec_talk = (now, (talk * 8) as u32);
                    }
                    MediaCommand::StopRecording => {
                        rec_end = None;
                    }
                    other => out_line(&mut transcript, now, format!("-> {other:?}")),
                },
                Output::Hook(_, id, call) => {
                    out_line(&mut transcript, now, format!("-> hook {call}"));
                    let (reply, lat) = hooks.answer(&call);
                    hook_replies.push((now + lat, id, reply));
                }
                Output::Transfer(_, t) => {
                    let k = if t.kind == TransferKind::Group {
                        "group"
                    } else {
                        "extension"
                    };
                    out_line(
                        &mut transcript,
                        now,
                        format!("-> transfer to {k} \"{}\"", t.target),
                    );
                }
                Output::CallEnded(_, rec) => {
                    out_line(
                        &mut transcript,
                        now,
                        format!(
                            "== call ended: {:?}, result \"{}\", {} error(s)",
                            rec.reason, rec.result, rec.errors
                        ),
                    );
                    out.record = Some(rec);
                    ended = true;
                }
                Output::Error(_, e) => {
                    out_line(
                        &mut transcript,
                        now,
                        format!("!! error at {}: {}", e.at, e.message),
                    );
                    out.errors.push(e);
                }
                Output::AfterHangup(..) => {}
                Output::Trace(_, t) => match t {
                    Trace::Branch { loc, label } => {
                        out_line(
                            &mut transcript,
                            now,
                            format!(".. {label} ({})", script.locate(loc)),
                        );
                        out.branches.push((loc, label));
                    }
                    Trace::Say { kind, value, text } => {
                        out_line(
                            &mut transcript,
                            now,
                            format!("-> say {} {value}: {text}", kind.keyword()),
                        );
                    }
                    Trace::Collected { var, value } => {
                        out_line(&mut transcript, now, format!(".. {var} = \"{value}\""));
                    }
                },
            }
        }
        if ended || guard > 100_000 {
            break;
        }
        if !stopped.is_empty() {
            for prompt in std::mem::take(&mut stopped) {
                let ev = MediaEvent::PlaybackDone {
                    prompt,
                    played_samples: 0,
                    barged_in_by: None,
                };
                let _ = engine.handle_input(Input::Media { now, ch, event: ev });
            }
            continue;
        }
        // The caller's next actions.
        let mut hung_up = false;
        while let Some(a) = actions.get(action) {
            match a {
                Action::Press(k) | Action::PressNow(k) => {
                    let ready = matches!(a, Action::PressNow(_)) || engine.is_waiting_for_keys(ch);
                    if !keys.is_empty() || !ready {
                        break;
                    }
                    let mut t = now;
                    for d in k.chars().filter_map(Digit::from_char) {
                        t += cfg.key_gap;
                        keys.push_back((t, d));
                    }
                    action += 1;
                }
                Action::Wait(d) => match wait_until {
                    None => {
                        wait_until = Some(now + *d);
                        break;
                    }
                    Some(t) if t <= now => {
                        wait_until = None;
                        action += 1;
                    }
                    Some(_) => break,
                },
                Action::Hangup => {
                    if !keys.is_empty() {
                        break;
                    }
                    action += 1;
                    out_line(&mut transcript, now, "<- caller hangs up".into());
                    hang_up(engine, now, ch, rec_end.take(), rec_talk, &mut transcript);
                    hung_up = true;
                    break;
                }
            }
        }
        if hung_up {
            continue;
        }
        // Next event time.
        let candidates = [
            deadline,
            play_end,
            hook_replies.iter().map(|h| h.0).min(),
            keys.front().map(|k| k.0),
            rec_end.map(|r| r.0),
            wait_until,
            Some(give_up),
        ];
        let Some(next) = candidates.into_iter().flatten().min() else {
            break;
        };
        now = next.max(now);
        if now >= give_up {
            out_line(
                &mut transcript,
                now,
                "<- caller gives up and hangs up".into(),
            );
            hang_up(engine, now, ch, rec_end.take(), rec_talk, &mut transcript);
            continue;
        }
        if play_end.is_some_and(|t| t <= now) {
            let p = play_q.pop_front();
            play_end = play_q.front().map(|&n| now + len(n));
            if let Some(prompt) = p {
                let ev = MediaEvent::PlaybackDone {
                    prompt,
                    played_samples: 0,
                    barged_in_by: None,
                };
                let _ = engine.handle_input(Input::Media { now, ch, event: ev });
            }
            continue;
        }
        if let Some(pos) = hook_replies.iter().position(|h| h.0 <= now) {
            let (_, id, reply) = hook_replies.remove(pos);
            let desc = match &reply {
                HookReply::Found(f) => format!(
                    "found {}",
                    f.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                HookReply::NotFound => "not found".into(),
                HookReply::Error(e) => format!("error: {e}"),
                HookReply::Timeout => "timeout".into(),
            };
            out_line(&mut transcript, now, format!("<- hook {desc}"));
            let _ = engine.handle_input(Input::HookReply { now, ch, id, reply });
            continue;
        }
        if keys.front().is_some_and(|k| k.0 <= now) {
            if let Some((_, d)) = keys.pop_front() {
                out_line(&mut transcript, now, format!("<- key {d}"));
                let ms = now.as_millis();
                let ev = DigitEvent {
                    digit: d,
                    start: SampleTime::from_millis(ms.saturating_sub(80)),
                    end: SampleTime::from_millis(ms),
                    low_dbm0: -10.0,
                    high_dbm0: -8.0,
                    snr_db: 30.0,
                };
                let _ = engine.handle_input(Input::Media {
                    now,
                    ch,
                    event: MediaEvent::Digit(ev),
                });
            }
            continue;
        }
        if let Some((t, slot, samples)) = rec_end {
            if t <= now {
                rec_end = None;
                out_line(
                    &mut transcript,
                    now,
                    format!(
                        "<- recording done ({}.{}s)",
                        samples / 8000,
                        samples % 8000 / 800
                    ),
                );
                let ev = MediaEvent::RecordingDone {
                    slot,
                    samples,
                    stopped_by: None,
                };
                let _ = engine.handle_input(Input::Media { now, ch, event: ev });
                continue;
            }
        }
        if deadline.is_some_and(|t| t <= now) || wait_until.is_some_and(|t| t <= now) {
            let _ = engine.handle_input(Input::Timeout(now));
        }
    }
    out.transcript = transcript;
    out
}

/// The caller hangs up: the pipeline reports on-hook, then closes a recording in progress
/// with what the caller said into it so far.
fn hang_up(
    engine: &mut Engine,
    now: Instant,
    ch: ChannelId,
    rec: Option<(Instant, tel_types::RecordingId, u32)>,
    (started, talk): (Instant, u32),
    transcript: &mut Vec<String>,
) {
    let ev = MediaEvent::Line {
        at: SampleTime::ZERO,
        event: LineEvent::OnHook,
    };
    let _ = engine.handle_input(Input::Media { now, ch, event: ev });
    if let Some((_, slot, _)) = rec {
        let so_far = (now.saturating_since(started).as_millis() * 8).min(u64::from(talk)) as u32;
        out_line(
            transcript,
            now,
            format!(
                "<- recording done ({}.{}s)",
                so_far / 8000,
                so_far % 8000 / 800
            ),
        );
        let ev = MediaEvent::RecordingDone {
            slot,
            samples: so_far,
            stopped_by: None,
        };
        let _ = engine.handle_input(Input::Media { now, ch, event: ev });
    }
}

fn show(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

fn out_line(t: &mut Vec<String>, now: Instant, s: String) {
    t.push(format!("{now:>9} {s}"));
}
