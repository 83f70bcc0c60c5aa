//! `ivr`: the IVR script language and the sans-IO engine that runs one state machine per
//! call.
//!
//! Designers write call flows as script files (see `docs/ivr-designer-guide.md`).
//! [`Script::load`] reads a script and its includes, links and checks it, and refuses it with
//! every error at `file:line:col` (and a hint) if anything is wrong. An [`Engine`] runs calls
//! on a script; [`Engine::load`] swaps the script for new calls only, so each call keeps the
//! version it started with.
//!
//! # Contract
//!
//! - **Sans-IO, no clock.** Inputs go in through [`Engine::handle_input`] (every input carries
//!   `now`, an [`Instant`] in ms); the caller then drains [`Engine::poll_output`] until it
//!   returns [`Output::Timeout`] with the next deadline. Tests jump to that deadline.
//! - **Threading.** An `Engine` is a plain value for one control thread; scripts are shared
//!   with `Arc` and immutable.
//! - **Allocation.** The engine allocates (strings, queues); it runs on the control thread,
//!   never the audio thread.
//! - **Nothing a script does can panic the engine**: runtime errors (a variable without a
//!   value, comparing text by size, a value that cannot be said, a loop that never waits) are
//!   reported as [`Output::Error`] with the script location, and the call goes to the script's
//!   `flow on_error` or its fallback agent group. Every input runs at most
//!   [`engine::MAX_STEPS_PER_INPUT`] statements per call.
//!
//! # Wiring (what the daemon does with the outputs)
//!
//! | output | the daemon |
//! |---|---|
//! | [`Output::Media`] | sends the command to the channel's media pipeline (`Play` carries a [`tel_types::PromptId`] from [`Script::prompts`], `<pack>/<language>/<name>.wav`) |
//! | [`Output::Hook`] | runs the order hook on a worker and answers with [`Input::HookReply`] (its own timeout or a full queue: [`HookReply::Timeout`]) |
//! | [`Output::Transfer`] | bridges the channel to an agent of the group or the extension; the engine has forgotten the call |
//! | [`Output::CallEnded`] | writes the CDR ([`CallRecord`]: result, path, version) |
//! | [`Output::Error`] | logs the runtime error with its `file:line:col` |
//! | [`Output::Trace`] | only with [`Engine::set_tracing`]: transcripts and coverage |
//! | [`Output::CallerGone`] | the caller hung up in a `record` with `on hangup`: the channel is idle and may take the next call; the call runs on without it |
//! | [`Output::AfterHangup`] | an output (hook, error, trace, last its `CallEnded`) of such a call, by its [`AfterId`]: hooks run and are answered as usual, the CDR is written at its `CallEnded` |
//!
//! Inputs: [`Input::CallArrived`] with the caller ID, dialled number, trunk and local time;
//! every [`tel_types::MediaEvent`] of the channel (`OnHook` or busy tone end the call, or,
//! in a `record` with `on hangup`, release the line and let the script run on: its
//! `RecordingDone` and hook replies are still given by channel; every `PlaybackDone`, also
//! of stopped prompts); [`Input::Timeout`] at the deadline;
//! [`Input::Shutdown`] when stopping.
//!
//! ```
//! use ivr::{CallInfo, Engine, Input, Instant, Output, Script};
//! use tel_types::{ChannelId, MediaCommand, MediaEvent};
//! let script = Script::from_text("hello.ivr", r#"
//! flow main
//!   answer
//!   play "welcome"
//!   hangup
//! end
//! "#).unwrap();
//! let welcome = script.prompts().iter().find(|p| p.name == "welcome").unwrap().id;
//! let mut engine = Engine::new(script);
//! let ch = ChannelId(1);
//! engine.handle_input(Input::CallArrived { now: Instant::ZERO, ch, call: CallInfo::default() }).unwrap();
//! let mut out = Vec::new();
//! loop {
//!     match engine.poll_output() {
//!         Output::Timeout(_) => break,
//!         o => out.push(o),
//!     }
//! }
//! assert!(out.contains(&Output::Media(ch, MediaCommand::Play { prompt: welcome, barge_in: Default::default() })));
//! // The script waits for the prompt to finish before hanging up.
//! let done = MediaEvent::PlaybackDone { prompt: welcome, played_samples: 8000, barged_in_by: None };
//! engine.handle_input(Input::Media { now: Instant::from_secs(1), ch, event: done }).unwrap();
//! assert!(matches!(engine.poll_output(), Output::Media(_, MediaCommand::SetHook(_))));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod check;
pub mod engine;
mod error;
mod graph;
mod lex;
mod parse;
mod pattern;
mod program;
pub mod say;
mod script;
pub mod sim;
mod time;

pub use engine::{
    AfterId, CallInfo, CallRecord, EndReason, Engine, HookCall, HookId, HookReply, HoursMode,
    Input, LocalTime, Output, RuntimeError, Trace, TransferTarget,
};
pub use error::{Diagnostic, InputError, LoadError, Loc, ParseError, Severity};
pub use pattern::Pattern;
pub use program::{HookKind, SayKind, TransferKind};
pub use script::{BUILTIN_VARS, BranchPoint, PromptEntry, Script, check_with};
pub use time::{Duration, Instant};
