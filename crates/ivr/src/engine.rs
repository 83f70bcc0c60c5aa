//! The sans-IO engine: one state machine per call, driven by inputs, drained for outputs.

use crate::error::{InputError, Loc};
use crate::program::*;
use crate::say;
use crate::script::Script;
use crate::time::{Duration, Instant};
use std::collections::VecDeque;
use std::sync::Arc;
use tel_types::{
    ChannelId, Digit, DigitSet, Hook, LineEvent, MediaCommand, MediaEvent, ProgressTone, PromptId,
    RecordingId, Tone,
};

/// Most instructions one call may run for one input before it must wait for the caller.
pub const MAX_STEPS_PER_INPUT: u32 = 1000;
/// Deepest sub-flow nesting.
pub const MAX_CALL_DEPTH: usize = 16;
/// Digits kept for type-ahead.
const MAX_TYPE_AHEAD: usize = 32;
/// Prompts queued before `play` waits for the queue to drain.
const MAX_QUEUED: usize = 64;
const BEEP_MS: u64 = 300;
/// How long a call whose caller hung up mid-recording waits for the pipeline to report the
/// recording closed before it takes the recording's length from its own clock.
const RECORD_END_MS: u64 = 2000;

/// Local wall-clock time, given by the daemon since the engine has no clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LocalTime {
    /// Year, e.g. 2026.
    pub year: u16,
    /// Month 1-12.
    pub month: u8,
    /// Day 1-31.
    pub day: u8,
    /// Hour 0-23.
    pub hour: u8,
    /// Minute 0-59.
    pub minute: u8,
}

impl LocalTime {
    /// Day of the week, Monday = 0 … Sunday = 6.
    pub fn weekday(&self) -> u8 {
        // Sakamoto's method gives Sunday = 0.
        const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let m = self.month.clamp(1, 12) as usize;
        let mut y = i32::from(self.year);
        if m < 3 {
            y -= 1;
        }
        let d = i32::from(self.day);
        let sun0 = (y + y / 4 - y / 100 + y / 400 + T[m - 1] + d).rem_euclid(7);
        ((sun0 + 6) % 7) as u8
    }

    fn ymd(&self) -> u32 {
        u32::from(self.year) * 10_000 + u32::from(self.month) * 100 + u32::from(self.day)
    }
}

/// Who decides whether the call centre is open: what the script's `open(hours)` and
/// `holiday(hours)` say.
///
/// An operator's day/night switch: a hotline staffed round the clock (or a soak that
/// runs the peak-hour load for 24 hours) is [`HoursMode::Open`] without editing the
/// script's `hours` tables; [`HoursMode::Closed`] is night service all day (the after-hours
/// branches run, as when the staff are away).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HoursMode {
    /// The script's `hours` tables and the call's local time decide (the default).
    #[default]
    Script,
    /// Open at every hour of every day: `open(..)` is true and `holiday(..)` false.
    Open,
    /// Closed at every hour: `open(..)` is false and `holiday(..)` false.
    Closed,
}

/// What the daemon knows when a call arrives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallInfo {
    /// The caller's number (may be empty when withheld).
    pub caller_id: String,
    /// The number the caller dialled (or the number we dialled, outbound).
    pub dialled: String,
    /// The trunk or span name.
    pub trunk: String,
    /// Local time when the call arrived.
    pub local: LocalTime,
    /// An outbound call the daemon placed and the callee answered (no `answer` needed).
    pub outbound: bool,
    /// The language the call starts in (the trunk's); empty, or one the script does not
    /// declare, means the script's first language. The script's `language` changes it.
    pub language: String,
}

/// A request id, unique per engine, that pairs a [`HookCall`] with its [`HookReply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HookId(pub u32);

/// A call into the shop's order hooks (the daemon adapts it to the order-hooks crate).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookCall {
    /// Look an order up by its number.
    FindOrder {
        /// The order number as keyed in.
        order_no: String,
    },
    /// The most recent orders of a phone number.
    RecentOrders {
        /// Usually the caller ID.
        phone: String,
    },
    /// Open an after-sales (return or exchange) request.
    AfterSales {
        /// The order.
        order_no: String,
        /// The reason the caller chose.
        reason: String,
        /// The recorded message, if any (`rec-<slot>`).
        recording: Option<String>,
    },
    /// Ask an agent to call back, optionally about an order and with a recorded message
    /// (the after-hours voice message).
    RequestCallback {
        /// The number to call.
        phone: String,
        /// Why.
        reason: String,
        /// The order it is about, if the caller keyed one in.
        order_no: Option<String>,
        /// The recorded message, if any (`rec-<slot>`).
        recording: Option<String>,
    },
}

impl HookCall {
    /// The hook's script name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FindOrder { .. } => "find_order",
            Self::RecentOrders { .. } => "recent_orders",
            Self::AfterSales { .. } => "after_sales",
            Self::RequestCallback { .. } => "request_callback",
        }
    }
}

impl core::fmt::Display for HookCall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::FindOrder { order_no } => write!(f, "find_order(\"{order_no}\")"),
            Self::RecentOrders { phone } => write!(f, "recent_orders(\"{phone}\")"),
            Self::AfterSales {
                order_no,
                reason,
                recording,
            } => {
                write!(
                    f,
                    "after_sales(\"{order_no}\", \"{reason}\", \"{}\")",
                    recording.as_deref().unwrap_or("")
                )
            }
            Self::RequestCallback {
                phone,
                reason,
                order_no: None,
                recording: None,
            } => write!(f, "request_callback(\"{phone}\", \"{reason}\")"),
            Self::RequestCallback {
                phone,
                reason,
                order_no,
                recording,
            } => write!(
                f,
                "request_callback(\"{phone}\", \"{reason}\", \"{}\", \"{}\")",
                order_no.as_deref().unwrap_or(""),
                recording.as_deref().unwrap_or("")
            ),
        }
    }
}

/// The answer to a [`HookCall`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookReply {
    /// Found: fields by name (`status`, `amount`, `carrier`, `tracking_no`, `ticket`, …).
    Found(Vec<(String, String)>),
    /// Nothing matched.
    NotFound,
    /// The hook failed (database down, bad data); the text goes to the log.
    Error(String),
    /// The hook gave up waiting (the daemon's own timeout, or its queue was full).
    Timeout,
}

/// Where a transfer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTarget {
    /// Group or extension.
    pub kind: TransferKind,
    /// Its name or number.
    pub target: String,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The caller hung up (on-hook or busy tone).
    CallerHungUp,
    /// The script hung up.
    Hangup,
    /// Handed to an agent group or extension.
    Transferred,
    /// The call hit its maximum length.
    MaxCallTime,
    /// The daemon stopped.
    Shutdown,
}

/// A call-detail record for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// What `result` set last (or a default: `completed`, `abandoned`, `transferred`).
    pub result: String,
    /// How it ended.
    pub reason: EndReason,
    /// The branches taken, e.g. `menu main: key 1`, `find_order: found`.
    pub path: Vec<String>,
    /// When it started and ended.
    pub started: Instant,
    /// When it ended.
    pub ended: Instant,
    /// The script version the call ran (1 = the first loaded).
    pub version: u32,
    /// Runtime errors the call met.
    pub errors: u32,
}

/// A runtime problem in one call, with where in the script it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError {
    /// `file:line:col`.
    pub at: String,
    /// What went wrong.
    pub message: String,
}

/// Something the engine observed, for transcripts, coverage and debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trace {
    /// The flow took a branch.
    Branch {
        /// Where the branch is written.
        loc: Loc,
        /// Which way.
        label: String,
    },
    /// A value was said: kind, value, and the words.
    Say {
        /// What kind of value.
        kind: SayKind,
        /// The value.
        value: String,
        /// The words in the call's language.
        text: String,
    },
    /// Digits were collected into a variable.
    Collected {
        /// Variable.
        var: String,
        /// Digits.
        value: String,
    },
}

/// An input to the engine. Every input carries `now`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Input {
    /// A call arrived (or an outbound call was answered) on a channel.
    CallArrived {
        /// Now.
        now: Instant,
        /// The channel.
        ch: ChannelId,
        /// Caller ID, dialled number, trunk, local time.
        call: CallInfo,
    },
    /// An event from the channel's media pipeline.
    Media {
        /// Now.
        now: Instant,
        /// The channel.
        ch: ChannelId,
        /// The event.
        event: MediaEvent,
    },
    /// A hook answered.
    HookReply {
        /// Now.
        now: Instant,
        /// The channel.
        ch: ChannelId,
        /// Which request.
        id: HookId,
        /// The answer.
        reply: HookReply,
    },
    /// Time passed: fire every timer due at `now`.
    Timeout(Instant),
    /// The daemon is stopping: hang up every call (result `shutdown`) now.
    Shutdown(Instant),
}

/// An output of the engine; drain with [`Engine::poll_output`] until `Timeout`.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum Output {
    /// A command for the channel's media pipeline.
    Media(ChannelId, MediaCommand),
    /// Call an order hook; answer with [`Input::HookReply`].
    Hook(ChannelId, HookId, HookCall),
    /// Hand the call to an agent group or extension; the engine has forgotten the call.
    Transfer(ChannelId, TransferTarget),
    /// The call is over (after hang-up or transfer): its record.
    CallEnded(ChannelId, CallRecord),
    /// A runtime error in one call, with its script location (the call took the error path).
    Error(ChannelId, RuntimeError),
    /// What happened, for transcripts and coverage (only when tracing is on).
    Trace(ChannelId, Trace),
    /// Nothing more now; call again with `Input::Timeout` at this time (`None`: no timer).
    Timeout(Option<Instant>),
    /// The caller hung up during a statement with an `on hangup` branch: the line has been
    /// put on-hook (the `Media` outputs before this one) and the channel is free for the
    /// next call at once, while the script runs on without the caller. Everything that
    /// call does from now on comes as [`Output::AfterHangup`] with this id, ending with its
    /// `CallEnded`; hook replies for it are given as usual (by channel and [`HookId`]).
    CallerGone(ChannelId, AfterId),
    /// An output of a call whose caller has gone (see [`Output::CallerGone`]): a `Hook`,
    /// `Error`, `Trace` or, last, its `CallEnded`. The inner output names the channel the
    /// call was on, which may have a new call by now.
    AfterHangup(AfterId, Box<Self>),
}

/// The engine's name for a call that runs on after its caller hung up (unique per engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfterId(pub u32);

/// A runtime error inside the interpreter: where exactly (if known) and what.
#[derive(Debug)]
struct RtErr(Option<Loc>, String);

impl From<String> for RtErr {
    fn from(s: String) -> Self {
        Self(None, s)
    }
}

impl From<&str> for RtErr {
    fn from(s: &str) -> Self {
        Self(None, s.to_string())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Value {
    fn as_string(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::Int(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Self::Str(s) => !s.is_empty(),
            Self::Int(n) => *n != 0,
            Self::Bool(b) => *b,
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            Self::Str(s) if !s.is_empty() && s.len() < 19 => s.parse().ok(),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Frame {
    flow: usize,
    pc: usize,
    vars: Vec<(String, Value)>,
    ret_into: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Ready to run the next instruction.
    Run,
    /// Waiting for queued prompts to finish, then re-run the current instruction.
    Drain,
    /// `pause`: the input timer.
    Pause,
    Menu,
    Collect,
    Hook(HookId),
    /// Beep before a recording.
    Beep,
    Record(RecordingId),
}

/// The prompts sent to the media pipeline and not yet reported done, in order. The pipeline
/// reports one `PlaybackDone` per `Play`, also for prompts a stop or a barge-in cut short;
/// those are kept as `stale` until their report arrives, and do not count as playing.
#[derive(Debug, Default)]
struct Playback {
    q: VecDeque<(PromptId, bool)>,
}

impl Playback {
    fn push(&mut self, id: PromptId) {
        // A pipeline that never reports stopped prompts must not make this grow forever.
        while self.q.len() >= 256 && self.q.front().is_some_and(|e| e.1) {
            self.q.pop_front();
        }
        self.q.push_back((id, false));
    }

    fn len(&self) -> usize {
        self.q.iter().filter(|e| !e.1).count()
    }

    /// Nothing audible is queued.
    fn is_idle(&self) -> bool {
        self.q.iter().all(|e| e.1)
    }

    /// Marks everything as stopped; returns whether anything was audible.
    fn stop(&mut self) -> bool {
        let audible = !self.is_idle();
        for e in &mut self.q {
            e.1 = true;
        }
        audible
    }

    /// A `PlaybackDone`: returns true if it ended the last audible prompt.
    fn done(&mut self, id: PromptId) -> bool {
        let Some(pos) = self.q.iter().position(|e| e.0 == id) else {
            return false;
        };
        let was_audible = self.q.iter().take(pos + 1).any(|e| !e.1);
        self.q.drain(..=pos);
        was_audible && self.is_idle()
    }
}

const T_INPUT: usize = 0;
const T_HOOK: usize = 1;
const T_MAX: usize = 2;

#[derive(Debug)]
struct Call {
    ch: ChannelId,
    script: Arc<Script>,
    version: u32,
    info: CallInfo,
    lang: usize,
    frames: Vec<Frame>,
    wait: Wait,
    timers: [Option<Instant>; 3],
    playing: Playback,
    digits: VecDeque<Digit>,
    started: Instant,
    result: Option<String>,
    path: Vec<String>,
    errors: u32,
    last_error: String,
    in_error_flow: bool,
    // Menu / collect state.
    attempt: u32,
    invalid: u32,
    timeouts: u32,
    buf: String,
    hold: Option<PromptId>,
    drained: bool,
    ended: bool,
    /// The caller hung up and the call runs on without them (`on hangup`): its outputs go
    /// out as [`Output::AfterHangup`] with this id, and its channel is free.
    gone: Option<AfterId>,
    /// When the current recording started.
    rec_started: Instant,
}

/// Runs every call on the board; sans-IO, virtual time.
///
/// ```
/// use ivr::{CallInfo, Engine, Input, Instant, Output, Script};
/// use tel_types::{ChannelId, Hook, MediaCommand};
/// let script = Script::from_text("demo.ivr", "flow main\n  answer\n  hangup\nend\n").unwrap();
/// let mut engine = Engine::new(script);
/// let ch = ChannelId(1);
/// engine.handle_input(Input::CallArrived { now: Instant::ZERO, ch, call: CallInfo::default() }).unwrap();
/// assert_eq!(engine.poll_output(), Output::Media(ch, MediaCommand::SetHook(Hook::OffHook)));
/// assert_eq!(engine.poll_output(), Output::Media(ch, MediaCommand::SetHook(Hook::OnHook)));
/// assert!(matches!(engine.poll_output(), Output::CallEnded(..)));
/// assert_eq!(engine.poll_output(), Output::Timeout(None));
/// ```
#[derive(Debug)]
pub struct Engine {
    script: Arc<Script>,
    version: u32,
    calls: Vec<Call>,
    out: VecDeque<Output>,
    next_hook: u32,
    next_rec: u32,
    trace: bool,
    max_calls: usize,
    /// Some timer changed since `deadline` was computed.
    timers_dirty: bool,
    deadline: Option<Instant>,
    /// A call ended during the current input (remove it before the next).
    ended_any: bool,
    /// Call index by channel number (`u32::MAX`: no call).
    by_ch: Vec<u32>,
    /// Who decides `open(..)` and `holiday(..)`.
    hours: HoursMode,
    next_after: u32,
}

enum Step {
    Continue,
    Wait,
    End,
}

impl Engine {
    /// An engine running `script` for new calls.
    pub fn new(script: Script) -> Self {
        Self::new_shared(Arc::new(script))
    }

    /// An engine running a script shared with other engines or tools.
    pub fn new_shared(script: Arc<Script>) -> Self {
        Self {
            script,
            version: 1,
            calls: Vec::new(),
            out: VecDeque::new(),
            next_hook: 1,
            next_rec: 1,
            trace: false,
            max_calls: 1024,
            timers_dirty: false,
            deadline: None,
            ended_any: false,
            by_ch: Vec::new(),
            hours: HoursMode::Script,
            next_after: 1,
        }
    }

    /// Replaces the script for calls that arrive from now on; running calls keep theirs.
    /// Returns the new version number. (A script that failed its check never becomes a
    /// [`Script`], so the old one keeps running.)
    pub fn load(&mut self, script: Script) -> u32 {
        self.script = Arc::new(script);
        self.version += 1;
        self.version
    }

    /// The script new calls get.
    pub fn script(&self) -> &Arc<Script> {
        &self.script
    }

    /// Sets who decides whether the call centre is open (the script's `hours` tables by
    /// default). Takes effect at the next `open(..)` or `holiday(..)` any call evaluates,
    /// calls in progress included.
    pub fn set_hours_mode(&mut self, mode: HoursMode) {
        self.hours = mode;
    }

    /// Who decides whether the call centre is open.
    pub fn hours_mode(&self) -> HoursMode {
        self.hours
    }

    /// Turns [`Output::Trace`] on or off (off by default).
    pub fn set_tracing(&mut self, on: bool) {
        self.trace = on;
    }

    /// Number of calls in progress.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Whether the call on `ch` waits for keys with nothing left to play (simulators press
    /// keys then).
    pub fn is_waiting_for_keys(&self, ch: ChannelId) -> bool {
        self.find(ch).is_ok_and(|i| {
            matches!(self.calls[i].wait, Wait::Menu | Wait::Collect)
                && self.calls[i].playing.is_idle()
        })
    }

    /// The script and language of the call on `ch`, for transcripts.
    pub fn call_script(&self, ch: ChannelId) -> Option<&Arc<Script>> {
        self.find(ch).ok().map(|i| &self.calls[i].script)
    }

    /// The next output; call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        if let Some(o) = self.out.pop_front() {
            return o;
        }
        if self.timers_dirty {
            self.timers_dirty = false;
            self.deadline = self
                .calls
                .iter()
                .flat_map(|c| c.timers.iter().flatten())
                .min()
                .copied();
        }
        Output::Timeout(self.deadline)
    }

    /// Feeds one input.
    ///
    /// # Errors
    /// [`InputError`] for an input the engine cannot take: an event for a channel with no call
    /// (also the normal race of a late hook reply or `PlaybackDone` after the call ended —
    /// the daemon may ignore [`InputError::NoCall`]), or a second call on a busy channel.
    /// Nothing a script does makes this fail.
    pub fn handle_input(&mut self, input: Input) -> Result<(), InputError> {
        let r = self.dispatch(input);
        if self.ended_any {
            self.ended_any = false;
            self.calls.retain(|c| !c.ended);
            self.reindex();
        }
        r
    }

    fn dispatch(&mut self, input: Input) -> Result<(), InputError> {
        match input {
            Input::CallArrived { now, ch, call } => self.arrive(now, ch, call),
            Input::Media { now, ch, event } => {
                if let MediaEvent::RecordingDone { slot, samples, .. } = event {
                    if let Some(i) = self.gone_waiting(ch, Wait::Record(slot)) {
                        self.record_done(i, now, slot, samples);
                        return Ok(());
                    }
                }
                let i = self.find(ch)?;
                self.media(i, now, event);
                Ok(())
            }
            Input::HookReply { now, ch, id, reply } => {
                if let Some(i) = self.gone_waiting(ch, Wait::Hook(id)) {
                    self.hook_reply(i, now, reply);
                    return Ok(());
                }
                let i = self.find(ch)?;
                if self.calls[i].wait == Wait::Hook(id) {
                    self.hook_reply(i, now, reply);
                }
                Ok(())
            }
            Input::Shutdown(now) => {
                for i in 0..self.calls.len() {
                    if !self.calls[i].ended {
                        if self.calls[i].result.is_none() {
                            self.calls[i].result = Some("shutdown".into());
                        }
                        self.end(i, now, EndReason::Shutdown, true);
                    }
                }
                Ok(())
            }
            Input::Timeout(now) => {
                for i in 0..self.calls.len() {
                    if !self.calls[i].ended {
                        self.timers(i, now);
                    }
                }
                Ok(())
            }
        }
    }

    /// The call on `ch` whose caller has gone and that waits for `wait`.
    fn gone_waiting(&self, ch: ChannelId, wait: Wait) -> Option<usize> {
        self.calls
            .iter()
            .position(|c| c.ch == ch && c.gone.is_some() && !c.ended && c.wait == wait)
    }

    fn find(&self, ch: ChannelId) -> Result<usize, InputError> {
        match self.by_ch.get(usize::from(ch.0)) {
            Some(&i)
                if i != u32::MAX
                    && !self.calls[i as usize].ended
                    && self.calls[i as usize].gone.is_none() =>
            {
                Ok(i as usize)
            }
            _ => Err(InputError::NoCall(ch)),
        }
    }

    fn reindex(&mut self) {
        for v in &mut self.by_ch {
            *v = u32::MAX;
        }
        for (i, c) in self.calls.iter().enumerate() {
            if c.gone.is_some() {
                continue;
            }
            let n = usize::from(c.ch.0);
            if self.by_ch.len() <= n {
                self.by_ch.resize(n + 1, u32::MAX);
            }
            self.by_ch[n] = i as u32;
        }
        self.timers_dirty = true;
    }

    fn arrive(&mut self, now: Instant, ch: ChannelId, info: CallInfo) -> Result<(), InputError> {
        if self.find(ch).is_ok() {
            return Err(InputError::ChannelBusy(ch));
        }
        if self.calls.len() >= self.max_calls {
            return Err(InputError::TooManyCalls(self.max_calls));
        }
        let script = self.script.clone();
        let lang = script
            .languages
            .iter()
            .position(|l| *l == info.language)
            .unwrap_or(0);
        let mut timers = [None; 3];
        timers[T_MAX] = Some(now + Duration::from_millis(script.max_call_ms));
        self.calls.push(Call {
            ch,
            version: self.version,
            info,
            lang,
            frames: vec![Frame {
                flow: script.main,
                pc: 0,
                vars: Vec::new(),
                ret_into: None,
            }],
            script,
            wait: Wait::Run,
            timers,
            playing: Playback::default(),
            digits: VecDeque::new(),
            started: now,
            result: None,
            path: Vec::new(),
            errors: 0,
            last_error: String::new(),
            in_error_flow: false,
            attempt: 0,
            invalid: 0,
            timeouts: 0,
            buf: String::new(),
            hold: None,
            drained: false,
            ended: false,
            gone: None,
            rec_started: now,
        });
        let i = self.calls.len() - 1;
        let n = usize::from(ch.0);
        if self.by_ch.len() <= n {
            self.by_ch.resize(n + 1, u32::MAX);
        }
        self.by_ch[n] = i as u32;
        self.timers_dirty = true;
        self.run(i, now);
        Ok(())
    }

    fn media(&mut self, i: usize, now: Instant, event: MediaEvent) {
        match event {
            MediaEvent::Line {
                event: LineEvent::OnHook,
                ..
            }
            | MediaEvent::Progress {
                tone: ProgressTone::Busy,
                ..
            } => self.caller_hung_up(i, now),
            MediaEvent::Line {
                event: LineEvent::DtmfUp(d) | LineEvent::PulseDigit(d),
                ..
            } => self.digit(i, now, d),
            MediaEvent::Digit(e) => self.digit(i, now, e.digit),
            // Caller ID decoded after the call was presented fills a missing `caller_id`.
            MediaEvent::CallerId { caller_id, .. } if self.calls[i].info.caller_id.is_empty() => {
                self.calls[i].info.caller_id = caller_id.number.as_str().to_string();
            }
            MediaEvent::PlaybackDone { prompt, .. } => {
                let c = &mut self.calls[i];
                if c.playing.done(prompt) {
                    self.queue_drained(i, now);
                }
            }
            MediaEvent::RecordingDone { slot, samples, .. }
                if self.calls[i].wait == Wait::Record(slot) =>
            {
                self.record_done(i, now, slot, samples);
            }
            // The daemon sends this only when keys were among the events lost.
            MediaEvent::EventsLost { .. } => self.input_lost(i, now),
            _ => {}
        }
    }

    /// The caller hung up (on-hook or busy tone). During a `record` with an `on hangup`
    /// branch the call lets go of the line and runs that branch once the recording is
    /// closed; anywhere else it ends now.
    fn caller_hung_up(&mut self, i: usize, now: Instant) {
        let wait = self.calls[i].wait;
        let in_record = matches!(wait, Wait::Drain | Wait::Beep | Wait::Record(_))
            && self
                .instr(i)
                .is_some_and(|(ins, _)| matches!(&ins.op, Op::Record(r) if r.on_hangup.is_some()));
        if !in_record {
            self.end(i, now, EndReason::CallerHungUp, true);
            return;
        }
        let id = AfterId(self.next_after);
        self.next_after = self.next_after.wrapping_add(1).max(1);
        if self.calls[i].playing.stop() {
            self.emit_media(i, MediaCommand::StopPlayback);
        }
        if let Wait::Record(_) = wait {
            self.emit_media(i, MediaCommand::StopRecording);
        }
        self.emit_media(i, MediaCommand::SetHook(Hook::OnHook));
        let c = &mut self.calls[i];
        let ch = c.ch;
        c.digits.clear();
        c.drained = false;
        c.gone = Some(id);
        if let Some(v) = self.by_ch.get_mut(usize::from(ch.0)) {
            *v = u32::MAX;
        }
        self.out.push_back(Output::CallerGone(ch, id));
        match wait {
            // The pipeline closes the recording and reports its length; a safety net in
            // case that report never comes.
            Wait::Record(_) => {
                self.calls[i].timers[T_INPUT] = Some(now + Duration::from_millis(RECORD_END_MS));
                self.timers_dirty = true;
            }
            // Still in the prompt or the beep: nothing was recorded.
            _ => {
                let Some((script, flow, pc)) = self.cur_op(i) else {
                    return;
                };
                if let Op::Record(r) = &script.flows[flow].code[pc].op {
                    self.after_record(i, now, r, Loc::default(), None);
                }
            }
        }
    }

    /// Keys the caller pressed were lost on the way (a full event ring): what was typed so
    /// far cannot be trusted. Type-ahead and a half-collected entry are dropped; a menu or
    /// collect waiting for input takes its invalid-input path (the invalid prompt and a
    /// re-prompt, or its limit branch), exactly as for a wrong key.
    fn input_lost(&mut self, i: usize, now: Instant) {
        let c = &mut self.calls[i];
        c.digits.clear();
        c.buf.clear();
        let wait = c.wait;
        let Some((script, flow, pc)) = self.cur_op(i) else {
            return;
        };
        let ins = &script.flows[flow].code[pc];
        match (&ins.op, wait) {
            (Op::Menu(m), Wait::Menu) => {
                self.stop_playback(i);
                self.calls[i].timers[T_INPUT] = None;
                self.timers_dirty = true;
                self.calls[i].invalid += 1;
                self.branch(i, ins.loc, ("menu", &m.name), "input lost");
                if self.calls[i].invalid >= m.invalid_limit {
                    self.menu_limit(i, now, m, ins.loc, true);
                } else {
                    self.menu_reprompt(i, now, m, ins.loc, true);
                }
            }
            (Op::Collect(col), Wait::Collect) => {
                self.stop_playback(i);
                self.branch(i, ins.loc, ("collect", &col.var), "input lost");
                self.collect_retry(i, now, col, ins.loc, true);
            }
            _ => {}
        }
    }

    // ---------- output helpers ----------

    /// Queues an output of call `i`, wrapped if its caller has gone.
    fn push_out(&mut self, i: usize, o: Output) {
        let o = match self.calls[i].gone {
            Some(id) => Output::AfterHangup(id, Box::new(o)),
            None => o,
        };
        self.out.push_back(o);
    }

    fn emit_media(&mut self, i: usize, cmd: MediaCommand) {
        let ch = self.calls[i].ch;
        self.push_out(i, Output::Media(ch, cmd));
    }

    fn trace(&mut self, i: usize, t: impl FnOnce() -> Trace) {
        if self.trace {
            let ch = self.calls[i].ch;
            let t = t();
            self.push_out(i, Output::Trace(ch, t));
        }
    }

    fn branch(&mut self, i: usize, loc: Loc, (kind, name): (&str, &str), label: &str) {
        let entry = if kind.is_empty() {
            format!("{name}: {label}")
        } else {
            format!("{kind} {name}: {label}")
        };
        self.calls[i].path.push(entry);
        self.trace(i, || Trace::Branch {
            loc,
            label: label.to_string(),
        });
    }

    fn play_list(&mut self, i: usize, list: &[u16], barge: DigitSet) {
        for &n in list {
            let c = &self.calls[i];
            if let Some(id) = c.script.prompt_id(c.lang, n) {
                self.calls[i].playing.push(id);
                self.emit_media(
                    i,
                    MediaCommand::Play {
                        prompt: id,
                        barge_in: barge,
                    },
                );
            }
        }
    }

    fn stop_playback(&mut self, i: usize) {
        if self.calls[i].playing.stop() {
            self.emit_media(i, MediaCommand::StopPlayback);
        }
    }

    // ---------- the interpreter ----------

    fn instr(&self, i: usize) -> Option<(&Instr, Arc<Script>)> {
        let c = &self.calls[i];
        let f = c.frames.last()?;
        c.script.flows[f.flow]
            .code
            .get(f.pc)
            .map(|ins| (ins, c.script.clone()))
    }

    fn run(&mut self, i: usize, now: Instant) {
        let mut steps = 0;
        let script = self.calls[i].script.clone();
        loop {
            if self.calls[i].ended || self.calls[i].wait != Wait::Run {
                return;
            }
            steps += 1;
            if steps > MAX_STEPS_PER_INPUT {
                let loc = self.cur_loc(i);
                self.runtime_error(i, now, loc, format!("ran {MAX_STEPS_PER_INPUT} statements without waiting for the caller (a loop?)"));
                if self.calls[i].ended {
                    return;
                }
                steps = 0;
                continue;
            }
            let (flow, pc) = match self.calls[i].frames.last() {
                Some(f) => (f.flow, f.pc),
                None => return,
            };
            let Some(ins) = script.flows[flow].code.get(pc) else {
                self.flow_end(i, now, None);
                continue;
            };
            // Without the caller the script runs until it needs them; there the call ends.
            if self.calls[i].gone.is_some()
                && (crate::check::needs_caller(&ins.op).is_some()
                    || matches!(ins.op, Op::Hangup | Op::HangupEnd))
            {
                self.end(i, now, EndReason::CallerHungUp, false);
                return;
            }
            match self.exec(i, now, ins, &script) {
                Ok(Step::Continue) => {}
                Ok(Step::Wait) | Ok(Step::End) => return,
                Err(RtErr(loc, msg)) => {
                    self.runtime_error(i, now, loc.unwrap_or(ins.loc), msg);
                }
            }
        }
    }

    fn cur_loc(&self, i: usize) -> Loc {
        self.instr(i).map(|(ins, _)| ins.loc).unwrap_or_default()
    }

    fn set_pc(&mut self, i: usize, pc: usize) {
        if let Some(f) = self.calls[i].frames.last_mut() {
            f.pc = pc;
        }
    }

    fn advance(&mut self, i: usize) {
        if let Some(f) = self.calls[i].frames.last_mut() {
            f.pc += 1;
        }
    }

    /// For statements that must not start while prompts are still playing.
    fn need_drain(&mut self, i: usize) -> bool {
        let c = &mut self.calls[i];
        if c.playing.is_idle() {
            false
        } else {
            c.wait = Wait::Drain;
            true
        }
    }

    fn exec(
        &mut self,
        i: usize,
        now: Instant,
        ins: &Instr,
        script: &Script,
    ) -> Result<Step, RtErr> {
        match &ins.op {
            Op::Answer => {
                if !self.calls[i].info.outbound {
                    self.emit_media(i, MediaCommand::SetHook(Hook::OffHook));
                }
                self.advance(i);
            }
            Op::Hangup => {
                if self.need_drain(i) {
                    return Ok(Step::Wait);
                }
                self.end(i, now, EndReason::Hangup, true);
                return Ok(Step::End);
            }
            Op::Play(list) => {
                if self.calls[i].playing.len() > MAX_QUEUED && self.need_drain(i) {
                    return Ok(Step::Wait);
                }
                self.play_list(i, list, DigitSet::EMPTY);
                self.advance(i);
            }
            Op::Say(kind, e) => {
                if self.calls[i].playing.len() > MAX_QUEUED && self.need_drain(i) {
                    return Ok(Step::Wait);
                }
                let v = self.eval(i, now, e, script)?.as_string();
                let lang = script.languages[self.calls[i].lang].as_str();
                let frags = say::say(lang, *kind, &v).map_err(|e| e.to_string())?;
                let kind = *kind;
                self.trace(i, || Trace::Say {
                    kind,
                    text: say::text(lang, &frags),
                    value: v.clone(),
                });
                for f in frags {
                    let c = &self.calls[i];
                    if let Some(id) = script.fragment_id(c.lang, f) {
                        self.calls[i].playing.push(id);
                        self.emit_media(
                            i,
                            MediaCommand::Play {
                                prompt: id,
                                barge_in: DigitSet::EMPTY,
                            },
                        );
                    }
                }
                self.advance(i);
            }
            Op::Set(name, e) => {
                let v = self.eval(i, now, e, script)?;
                self.set_var(i, name, v);
                self.advance(i);
            }
            Op::Result(e) => {
                let v = self.eval(i, now, e, script)?.as_string();
                self.calls[i].result = Some(v);
                self.advance(i);
            }
            Op::Language(l) => {
                if let Some(li) = script.languages.iter().position(|x| x == l) {
                    self.calls[i].lang = li;
                }
                self.advance(i);
            }
            Op::Pause(ms) => {
                if self.need_drain(i) {
                    return Ok(Step::Wait);
                }
                let c = &mut self.calls[i];
                c.timers[T_INPUT] = Some(now + Duration::from_millis(*ms));
                self.timers_dirty = true;
                c.wait = Wait::Pause;
                return Ok(Step::Wait);
            }
            Op::Jump(t) | Op::GotoPc(t) => self.set_pc(i, *t),
            Op::JumpUnless(e, t) => {
                let v = self.eval(i, now, e, script)?.truthy();
                self.trace(i, || Trace::Branch {
                    loc: ins.loc,
                    label: if v { "if true" } else { "if false" }.into(),
                });
                if v {
                    self.advance(i);
                } else {
                    self.set_pc(i, *t);
                }
            }
            Op::Menu(m) => {
                let c = &mut self.calls[i];
                c.attempt = 0;
                c.invalid = 0;
                c.timeouts = 0;
                c.wait = Wait::Menu;
                let barge = if m.barge_in {
                    DigitSet::ALL
                } else {
                    DigitSet::EMPTY
                };
                self.play_list(i, &m.greeting[0], barge);
                self.menu_poll(i, now, m, ins.loc);
                return Ok(Step::Wait);
            }
            Op::Collect(col) => {
                let c = &mut self.calls[i];
                c.attempt = 0;
                c.buf.clear();
                c.wait = Wait::Collect;
                let barge = if col.barge_in {
                    DigitSet::ALL
                } else {
                    DigitSet::EMPTY
                };
                self.play_list(i, &col.prompt[0], barge);
                self.collect_poll(i, now, col, ins.loc);
                return Ok(Step::Wait);
            }
            Op::Hook(h) => {
                let mut args = Vec::with_capacity(h.args.len());
                for a in &h.args {
                    args.push(self.eval(i, now, a, script)?.as_string());
                }
                let mut it = args.into_iter();
                let mut next = || it.next().unwrap_or_default();
                let call = match h.kind {
                    HookKind::FindOrder => HookCall::FindOrder { order_no: next() },
                    HookKind::RecentOrders => HookCall::RecentOrders { phone: next() },
                    HookKind::AfterSales => {
                        let order_no = next();
                        let reason = next();
                        let rec = next();
                        HookCall::AfterSales {
                            order_no,
                            reason,
                            recording: (!rec.is_empty()).then_some(rec),
                        }
                    }
                    HookKind::RequestCallback => {
                        let phone = next();
                        let reason = next();
                        let (order_no, rec) = (next(), next());
                        HookCall::RequestCallback {
                            phone,
                            reason,
                            order_no: (!order_no.is_empty()).then_some(order_no),
                            recording: (!rec.is_empty()).then_some(rec),
                        }
                    }
                };
                let id = HookId(self.next_hook);
                self.next_hook = self.next_hook.wrapping_add(1).max(1);
                let ch = self.calls[i].ch;
                self.push_out(i, Output::Hook(ch, id, call));
                let c = &mut self.calls[i];
                c.timers[T_HOOK] = Some(now + Duration::from_millis(h.timeout_ms));
                self.timers_dirty = true;
                c.wait = Wait::Hook(id);
                c.hold = h
                    .hold
                    .filter(|_| c.gone.is_none())
                    .and_then(|n| c.script.prompt_id(c.lang, n));
                if let Some(hold) = c.hold {
                    if c.playing.is_idle() {
                        c.playing.push(hold);
                        self.emit_media(
                            i,
                            MediaCommand::Play {
                                prompt: hold,
                                barge_in: DigitSet::EMPTY,
                            },
                        );
                    }
                }
                return Ok(Step::Wait);
            }
            Op::Record(r) => {
                if !self.calls[i].drained {
                    if let Some(p) = &r.prompt {
                        self.play_list(i, p, DigitSet::EMPTY);
                    }
                    self.calls[i].drained = true;
                }
                if self.need_drain(i) {
                    return Ok(Step::Wait);
                }
                self.calls[i].drained = false;
                if r.beep {
                    self.emit_media(
                        i,
                        MediaCommand::PlayTone {
                            tone: Tone::Beep,
                            duration_ms: BEEP_MS as u32 - 50,
                        },
                    );
                    let c = &mut self.calls[i];
                    c.timers[T_INPUT] = Some(now + Duration::from_millis(BEEP_MS));
                    self.timers_dirty = true;
                    c.wait = Wait::Beep;
                } else {
                    self.start_recording(i, now, r);
                }
                return Ok(Step::Wait);
            }
            Op::Transfer(kind, e) => {
                if self.need_drain(i) {
                    return Ok(Step::Wait);
                }
                let target = self.eval(i, now, e, script)?.as_string();
                if target.is_empty() {
                    return Err("transfer to an empty group or extension".into());
                }
                self.transfer(i, now, *kind, target);
                return Ok(Step::End);
            }
            Op::Call(fi, args, into) => {
                if self.calls[i].frames.len() >= MAX_CALL_DEPTH {
                    return Err(format!("sub-flows nested deeper than {MAX_CALL_DEPTH}").into());
                }
                let flow = &script.flows[*fi];
                let mut vars = Vec::with_capacity(flow.params.len());
                for (p, a) in flow.params.iter().zip(args) {
                    vars.push((p.clone(), self.eval(i, now, a, script)?));
                }
                self.advance(i);
                let name = flow.name.clone();
                self.calls[i].path.push(format!("call {name}"));
                self.calls[i].frames.push(Frame {
                    flow: *fi,
                    pc: 0,
                    vars,
                    ret_into: into.clone(),
                });
            }
            Op::Return(e) => {
                let v = match e {
                    Some(e) => Some(self.eval(i, now, e, script)?),
                    None => None,
                };
                self.flow_end(i, now, v);
            }
            Op::End => self.flow_end(i, now, None),
            Op::HangupEnd => {
                self.end(i, now, EndReason::Hangup, true);
                return Ok(Step::End);
            }
            Op::Goto(_) | Op::CallName(..) => return Err("unlinked statement".into()),
        }
        Ok(Step::Continue)
    }

    fn flow_end(&mut self, i: usize, now: Instant, v: Option<Value>) {
        let c = &mut self.calls[i];
        if c.frames.len() <= 1 {
            if self.need_drain(i) {
                return;
            }
            if self.calls[i].result.is_none() {
                self.calls[i].result = Some("completed".into());
            }
            self.end(i, now, EndReason::Hangup, true);
            return;
        }
        let f = c.frames.pop();
        if let Some(Frame {
            ret_into: Some(name),
            ..
        }) = f
        {
            self.set_var(i, &name, v.unwrap_or(Value::Str(String::new())));
        }
    }

    fn set_var(&mut self, i: usize, name: &str, v: Value) {
        let Some(f) = self.calls[i].frames.last_mut() else {
            return;
        };
        if let Some(slot) = f.vars.iter_mut().find(|(n, _)| n == name) {
            slot.1 = v;
        } else {
            f.vars.push((name.to_string(), v));
        }
    }

    fn clear_fields(&mut self, i: usize, base: &str) {
        if let Some(f) = self.calls[i].frames.last_mut() {
            f.vars.retain(|(n, _)| {
                !(n.len() > base.len() && n.starts_with(base) && n.as_bytes()[base.len()] == b'.')
            });
        }
    }

    fn local(&self, i: usize, now: Instant) -> (u32, u8, u32) {
        let c = &self.calls[i];
        let l = c.info.local;
        let mins = u32::from(l.hour) * 60
            + u32::from(l.minute)
            + (now.saturating_since(c.started).as_millis() / 60_000) as u32;
        (l.ymd(), l.weekday(), mins.min(24 * 60 - 1))
    }

    fn eval(&self, i: usize, now: Instant, e: &Expr, script: &Script) -> Result<Value, RtErr> {
        Ok(match e {
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Int(n) => Value::Int(*n),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Var(name, vloc) => {
                let c = &self.calls[i];
                if let Some((_, v)) = c
                    .frames
                    .last()
                    .and_then(|f| f.vars.iter().find(|(n, _)| n == name))
                {
                    return Ok(v.clone());
                }
                let local = || self.local(i, now);
                match name.as_str() {
                    "caller_id" => Value::Str(c.info.caller_id.clone()),
                    "dialled" => Value::Str(c.info.dialled.clone()),
                    "trunk" => Value::Str(c.info.trunk.clone()),
                    "channel" => Value::Int(c.ch.0.into()),
                    "date" => {
                        let date = local().0;
                        Value::Str(format!(
                            "{:04}-{:02}-{:02}",
                            date / 10_000,
                            date / 100 % 100,
                            date % 100
                        ))
                    }
                    "time" => {
                        let mins = local().2;
                        Value::Str(format!("{:02}:{:02}", mins / 60, mins % 60))
                    }
                    "weekday" => {
                        let wd = local().1;
                        Value::Str(
                            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][wd as usize % 7]
                                .into(),
                        )
                    }
                    "language" => Value::Str(script.languages[c.lang].clone()),
                    "direction" => Value::Str(
                        if c.info.outbound {
                            "outbound"
                        } else {
                            "inbound"
                        }
                        .into(),
                    ),
                    "error" => Value::Str(c.last_error.clone()),
                    _ if name.contains('.') => Value::Str(String::new()),
                    _ => {
                        let msg = format!("variable `{name}` has no value here");
                        return Err(RtErr(Some(*vloc), msg));
                    }
                }
            }
            Expr::Not(a) => Value::Bool(!self.eval(i, now, a, script)?.truthy()),
            Expr::And(a, b) => Value::Bool(
                self.eval(i, now, a, script)?.truthy() && self.eval(i, now, b, script)?.truthy(),
            ),
            Expr::Or(a, b) => Value::Bool(
                self.eval(i, now, a, script)?.truthy() || self.eval(i, now, b, script)?.truthy(),
            ),
            Expr::Add(a, b) => {
                let (x, y) = (self.eval(i, now, a, script)?, self.eval(i, now, b, script)?);
                match (x.as_int(), y.as_int()) {
                    (Some(p), Some(q))
                        if !matches!(x, Value::Str(_)) || !matches!(y, Value::Str(_)) =>
                    {
                        Value::Int(p.checked_add(q).ok_or("number too large")?)
                    }
                    _ => Value::Str(x.as_string() + &y.as_string()),
                }
            }
            Expr::Len(a) => {
                Value::Int(self.eval(i, now, a, script)?.as_string().chars().count() as i64)
            }
            Expr::Cmp(op, a, b, _) => {
                let (x, y) = (self.eval(i, now, a, script)?, self.eval(i, now, b, script)?);
                let ord = match (x.as_int(), y.as_int()) {
                    (Some(p), Some(q)) => p.cmp(&q),
                    _ => match op {
                        CmpOp::Eq | CmpOp::Ne => x.as_string().cmp(&y.as_string()),
                        _ => {
                            return Err(format!(
                                "cannot compare \"{}\" and \"{}\" by size: they are not both numbers",
                                x.as_string(),
                                y.as_string()
                            )
                            .into());
                        }
                    },
                };
                use core::cmp::Ordering::*;
                Value::Bool(match op {
                    CmpOp::Eq => ord == Equal,
                    CmpOp::Ne => ord != Equal,
                    CmpOp::Lt => ord == Less,
                    CmpOp::Le => ord != Greater,
                    CmpOp::Gt => ord == Greater,
                    CmpOp::Ge => ord != Less,
                })
            }
            Expr::Open(h, _) => Value::Bool(match self.hours {
                HoursMode::Script => {
                    let (date, wd, mins) = self.local(i, now);
                    script.hours[*h].is_open(date, wd, mins)
                }
                HoursMode::Open => true,
                HoursMode::Closed => false,
            }),
            Expr::Holiday(h, _) => Value::Bool(
                self.hours == HoursMode::Script
                    && script.hours[*h].is_holiday(self.local(i, now).0),
            ),
            Expr::HoursRef(..) => return Err("unlinked hours".into()),
        })
    }

    // ---------- waiting states ----------

    fn cur_op(&self, i: usize) -> Option<(Arc<Script>, usize, usize)> {
        let c = &self.calls[i];
        c.frames.last().map(|f| (c.script.clone(), f.flow, f.pc))
    }

    fn digit(&mut self, i: usize, now: Instant, d: Digit) {
        let c = &mut self.calls[i];
        if c.digits.len() < MAX_TYPE_AHEAD {
            c.digits.push_back(d);
        }
        match c.wait {
            Wait::Menu | Wait::Collect => self.poll_wait(i, now),
            _ => {}
        }
    }

    fn queue_drained(&mut self, i: usize, now: Instant) {
        match self.calls[i].wait {
            Wait::Drain => {
                self.calls[i].wait = Wait::Run;
                self.run(i, now);
            }
            Wait::Menu | Wait::Collect => self.poll_wait(i, now),
            Wait::Hook(_) => {
                let c = &mut self.calls[i];
                if let Some(h) = c.hold {
                    c.playing.push(h);
                    self.emit_media(
                        i,
                        MediaCommand::Play {
                            prompt: h,
                            barge_in: DigitSet::EMPTY,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    fn poll_wait(&mut self, i: usize, now: Instant) {
        let Some((script, flow, pc)) = self.cur_op(i) else {
            return;
        };
        let ins = &script.flows[flow].code[pc];
        match &ins.op {
            Op::Menu(m) => self.menu_poll(i, now, m, ins.loc),
            Op::Collect(c) => self.collect_poll(i, now, c, ins.loc),
            _ => {}
        }
    }

    fn go_branch(&mut self, i: usize, now: Instant, pc: usize) {
        let c = &mut self.calls[i];
        c.wait = Wait::Run;
        c.timers[T_INPUT] = None;
        self.timers_dirty = true;
        self.set_pc(i, pc);
        self.run(i, now);
    }

    /// Menu: consume type-ahead keys, or arm the no-input timer once prompts are done.
    fn menu_poll(&mut self, i: usize, now: Instant, m: &Menu, loc: Loc) {
        let c = &self.calls[i];
        if c.digits.is_empty() || (!m.barge_in && !c.playing.is_idle()) {
            if c.playing.is_idle() && c.digits.is_empty() && c.timers[T_INPUT].is_none() {
                self.calls[i].timers[T_INPUT] = Some(now + Duration::from_millis(m.timeout_ms));
                self.timers_dirty = true;
            }
            return;
        }
        let Some(d) = self.calls[i].digits.pop_front() else {
            return;
        };
        self.stop_playback(i);
        self.calls[i].timers[T_INPUT] = None;
        self.timers_dirty = true;
        if let Some(&(_, pc, kl)) = m.keys.iter().find(|(k, _, _)| *k == d) {
            self.calls[i].digits.clear();
            self.branch(i, kl, ("menu", &m.name), &format!("key {d}"));
            self.go_branch(i, now, pc);
            return;
        }
        self.calls[i].invalid += 1;
        self.branch(i, loc, ("menu", &m.name), "invalid key");
        if self.calls[i].invalid >= m.invalid_limit {
            self.menu_limit(i, now, m, loc, true);
        } else {
            self.menu_reprompt(i, now, m, loc, true);
        }
    }

    fn menu_timeout(&mut self, i: usize, now: Instant, m: &Menu, loc: Loc) {
        self.calls[i].timeouts += 1;
        self.branch(i, loc, ("menu", &m.name), "timeout");
        if self.calls[i].timeouts >= m.timeout_limit {
            self.menu_limit(i, now, m, loc, false);
        } else {
            self.menu_reprompt(i, now, m, loc, false);
        }
    }

    fn menu_reprompt(&mut self, i: usize, now: Instant, m: &Menu, loc: Loc, invalid: bool) {
        let c = &mut self.calls[i];
        c.attempt += 1;
        let n = if invalid { c.invalid } else { c.timeouts } as usize;
        let list = if invalid { &m.invalid } else { &m.no_input };
        let att = c.attempt as usize;
        if !list.is_empty() {
            self.play_list(i, &list[(n - 1).min(list.len() - 1)], DigitSet::EMPTY);
        }
        let barge = if m.barge_in {
            DigitSet::ALL
        } else {
            DigitSet::EMPTY
        };
        self.play_list(i, &m.greeting[att.min(m.greeting.len() - 1)], barge);
        self.menu_poll(i, now, m, loc);
    }

    fn menu_limit(&mut self, i: usize, now: Instant, m: &Menu, loc: Loc, invalid: bool) {
        let (b, label) = if invalid {
            (m.on_invalid_limit, "invalid-limit")
        } else {
            (m.on_timeout_limit, "timeout-limit")
        };
        self.branch(i, b.map_or(loc, |b| b.1), ("menu", &m.name), label);
        match b {
            Some((pc, _)) => self.go_branch(i, now, pc),
            None => self.fallback(i, now),
        }
    }

    fn collect_poll(&mut self, i: usize, now: Instant, col: &Collect, loc: Loc) {
        loop {
            let c = &self.calls[i];
            if c.digits.is_empty() || (!col.barge_in && !c.playing.is_idle()) {
                if c.playing.is_idle() && c.timers[T_INPUT].is_none() {
                    let ms = if c.buf.is_empty() {
                        col.first_timeout_ms
                    } else {
                        col.digit_timeout_ms
                    };
                    self.calls[i].timers[T_INPUT] = Some(now + Duration::from_millis(ms));
                    self.timers_dirty = true;
                }
                return;
            }
            let Some(d) = self.calls[i].digits.pop_front() else {
                return;
            };
            self.stop_playback(i);
            self.calls[i].timers[T_INPUT] = None;
            self.timers_dirty = true;
            if col.stop_keys.contains(d) {
                self.calls[i].digits.clear();
                self.set_var(i, &col.var, Value::Str(String::new()));
                self.branch(
                    i,
                    col.on_stop.map_or(loc, |b| b.1),
                    ("collect", &col.var),
                    "stop",
                );
                self.go_branch(i, now, col.on_stop.map_or(col.end, |b| b.0));
                return;
            }
            if col.end_keys.contains(d) {
                self.collect_finish(i, now, col, loc);
                return;
            }
            self.calls[i].buf.push(d.as_char());
            if self.calls[i].buf.len() >= col.max as usize {
                self.collect_finish(i, now, col, loc);
                return;
            }
        }
    }

    fn collect_finish(&mut self, i: usize, now: Instant, col: &Collect, loc: Loc) {
        let buf = std::mem::take(&mut self.calls[i].buf);
        let ok = !buf.is_empty()
            && buf.len() >= col.min as usize
            && col.pattern.as_ref().is_none_or(|p| p.matches(&buf));
        if ok {
            self.trace(i, || Trace::Collected {
                var: col.var.clone(),
                value: buf.clone(),
            });
            self.set_var(i, &col.var, Value::Str(buf));
            self.branch(
                i,
                col.on_ok.map_or(loc, |b| b.1),
                ("collect", &col.var),
                "ok",
            );
            self.go_branch(i, now, col.on_ok.map_or(col.end, |b| b.0));
        } else {
            self.collect_retry(i, now, col, loc, !buf.is_empty());
        }
    }

    fn collect_retry(&mut self, i: usize, now: Instant, col: &Collect, loc: Loc, invalid: bool) {
        let c = &mut self.calls[i];
        c.attempt += 1;
        c.timers[T_INPUT] = None;
        self.timers_dirty = true;
        if c.attempt >= col.attempts {
            self.set_var(i, &col.var, Value::Str(String::new()));
            self.branch(
                i,
                col.on_fail.map_or(loc, |b| b.1),
                ("collect", &col.var),
                "fail",
            );
            match col.on_fail {
                Some((pc, _)) => self.go_branch(i, now, pc),
                None => self.fallback(i, now),
            }
            return;
        }
        self.branch(i, loc, ("collect", &col.var), "retry");
        let att = self.calls[i].attempt as usize;
        let list = if invalid { &col.invalid } else { &col.no_input };
        if !list.is_empty() {
            self.play_list(i, &list[(att - 1).min(list.len() - 1)], DigitSet::EMPTY);
        }
        let barge = if col.barge_in {
            DigitSet::ALL
        } else {
            DigitSet::EMPTY
        };
        self.play_list(i, &col.prompt[att.min(col.prompt.len() - 1)], barge);
        self.collect_poll(i, now, col, loc);
    }

    fn hook_reply(&mut self, i: usize, now: Instant, reply: HookReply) {
        let Some((script, flow, pc)) = self.cur_op(i) else {
            return;
        };
        let ins = &script.flows[flow].code[pc];
        let Op::Hook(h) = &ins.op else { return };
        self.calls[i].timers[T_HOOK] = None;
        self.timers_dirty = true;
        // Keys pressed while the shop was being asked are impatience, not menu choices.
        self.calls[i].digits.clear();
        if self.calls[i].hold.take().is_some() {
            self.stop_playback(i);
        }
        let what = h.kind.name();
        let (b, label) = match reply {
            HookReply::Found(fields) => {
                if let Some(into) = &h.into {
                    self.clear_fields(i, into);
                    self.set_var(i, into, Value::Str("found".into()));
                    for (k, v) in fields.into_iter().take(64) {
                        if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty()
                        {
                            self.set_var(i, &format!("{into}.{k}"), Value::Str(v));
                        }
                    }
                }
                (Some(h.on_found.map_or(h.end, |b| b.0)), "found")
            }
            HookReply::NotFound => {
                if let Some(into) = &h.into {
                    self.clear_fields(i, into);
                    self.set_var(i, into, Value::Str(String::new()));
                }
                (Some(h.on_not_found.map_or(h.end, |b| b.0)), "not-found")
            }
            HookReply::Error(msg) => {
                let ch = self.calls[i].ch;
                self.push_out(
                    i,
                    Output::Error(
                        ch,
                        RuntimeError {
                            at: script.locate(ins.loc),
                            message: format!("hook {what} failed: {msg}"),
                        },
                    ),
                );
                (h.on_error.map(|b| b.0), "error")
            }
            HookReply::Timeout => (h.on_timeout.map(|b| b.0), "timeout"),
        };
        if let Some(into) = &h.into {
            if b.is_none() || label == "error" || label == "timeout" {
                self.set_var(i, into, Value::Str(String::new()));
            }
        }
        let bl = match label {
            "found" => h.on_found,
            "not-found" => h.on_not_found,
            "error" => h.on_error,
            _ => h.on_timeout,
        };
        self.branch(i, bl.map_or(ins.loc, |b| b.1), ("", what), label);
        match b {
            Some(pc) => self.go_branch(i, now, pc),
            None => self.fallback(i, now),
        }
    }

    fn start_recording(&mut self, i: usize, now: Instant, r: &RecordOp) {
        let slot = RecordingId(self.next_rec);
        self.next_rec = self.next_rec.wrapping_add(1).max(1);
        self.emit_media(
            i,
            MediaCommand::StartRecording {
                slot,
                max_ms: r.max_ms as u32,
                end_on_silence_ms: r.silence_ms as u32,
                stop_keys: r.stop_keys,
            },
        );
        let c = &mut self.calls[i];
        c.digits.clear();
        c.wait = Wait::Record(slot);
        c.rec_started = now;
        // A safety net in case the pipeline never reports the end.
        c.timers[T_INPUT] = Some(now + Duration::from_millis(r.max_ms + 5000));
        self.timers_dirty = true;
    }

    fn record_done(&mut self, i: usize, now: Instant, slot: RecordingId, samples: u32) {
        let Some((script, flow, pc)) = self.cur_op(i) else {
            return;
        };
        let ins = &script.flows[flow].code[pc];
        let Op::Record(r) = &ins.op else { return };
        self.after_record(i, now, r, ins.loc, Some((slot, samples)));
    }

    /// Sets the recording's variables and takes the branch: `on hangup` if the caller has
    /// gone, else `on done` or `on empty`. `rec` is the slot and its length in samples
    /// (`None`: nothing was recorded).
    fn after_record(
        &mut self,
        i: usize,
        now: Instant,
        r: &RecordOp,
        loc: Loc,
        rec: Option<(RecordingId, u32)>,
    ) {
        self.calls[i].timers[T_INPUT] = None;
        self.timers_dirty = true;
        let samples = rec.map_or(0, |r| r.1);
        let secs = samples / tel_types::SAMPLE_RATE_HZ;
        let empty = samples < tel_types::SAMPLE_RATE_HZ / 2;
        self.set_var(
            i,
            &r.var,
            Value::Str(match rec {
                Some((slot, _)) if !empty => format!("rec-{}", slot.0),
                _ => String::new(),
            }),
        );
        self.set_var(i, &format!("{}.seconds", r.var), Value::Int(secs.into()));
        let (b, label) = match r.on_hangup {
            Some((pc, l, _)) if self.calls[i].gone.is_some() => (Some((pc, l)), "hangup"),
            _ if empty => (r.on_empty, "empty"),
            _ => (r.on_done, "done"),
        };
        self.branch(i, b.map_or(loc, |b| b.1), ("record", &r.var), label);
        self.go_branch(i, now, b.map_or(r.end, |b| b.0));
    }

    fn timers(&mut self, i: usize, now: Instant) {
        let c = &self.calls[i];
        if c.timers[T_MAX].is_some_and(|t| t <= now) {
            let loc = self.cur_loc(i);
            let ch = c.ch;
            let at = c.script.locate(loc);
            self.push_out(
                i,
                Output::Error(
                    ch,
                    RuntimeError {
                        at,
                        message: "the call reached its maximum length".into(),
                    },
                ),
            );
            if self.calls[i].result.is_none() {
                self.calls[i].result = Some("max-call-time".into());
            }
            self.end(i, now, EndReason::MaxCallTime, true);
            return;
        }
        if self.calls[i].timers[T_HOOK].is_some_and(|t| t <= now) {
            self.calls[i].timers[T_HOOK] = None;
            self.timers_dirty = true;
            if let Wait::Hook(_) = self.calls[i].wait {
                self.hook_reply(i, now, HookReply::Timeout);
            }
        }
        if self.calls[i].ended {
            return;
        }
        if self.calls[i].timers[T_INPUT].is_some_and(|t| t <= now) {
            self.calls[i].timers[T_INPUT] = None;
            self.timers_dirty = true;
            let Some((script, flow, pc)) = self.cur_op(i) else {
                return;
            };
            let ins = &script.flows[flow].code[pc];
            match (&ins.op, self.calls[i].wait) {
                (Op::Pause(_), Wait::Pause) => {
                    self.calls[i].wait = Wait::Run;
                    self.advance(i);
                    self.run(i, now);
                }
                (Op::Menu(m), Wait::Menu) => self.menu_timeout(i, now, m, ins.loc),
                (Op::Collect(c), Wait::Collect) => {
                    if self.calls[i].buf.is_empty() {
                        self.collect_retry(i, now, c, ins.loc, false);
                    } else {
                        self.collect_finish(i, now, c, ins.loc);
                    }
                }
                (Op::Record(r), Wait::Beep) => self.start_recording(i, now, r),
                (Op::Record(r), Wait::Record(slot)) if self.calls[i].gone.is_some() => {
                    // The pipeline never said how long the recording is: our own clock.
                    let ms = now
                        .saturating_since(self.calls[i].rec_started)
                        .as_millis()
                        .saturating_sub(RECORD_END_MS)
                        .min(r.max_ms);
                    let samples = (ms * u64::from(tel_types::SAMPLE_RATE_HZ) / 1000) as u32;
                    self.record_done(i, now, slot, samples);
                }
                (Op::Record(_), Wait::Record(slot)) => {
                    self.emit_media(i, MediaCommand::StopRecording);
                    self.record_done(i, now, slot, 0);
                }
                _ => {}
            }
        }
    }

    /// A runtime error: log it with the location, then the designer's `flow on_error` if
    /// there is one, else the fallback agent group.
    fn runtime_error(&mut self, i: usize, now: Instant, loc: Loc, message: String) {
        let c = &mut self.calls[i];
        c.errors += 1;
        c.last_error = message.clone();
        let at = c.script.locate(loc);
        let ch = c.ch;
        self.push_out(i, Output::Error(ch, RuntimeError { at, message }));
        let c = &mut self.calls[i];
        if !c.in_error_flow {
            if let Some(fi) = c.script.flow_index("on_error") {
                c.in_error_flow = true;
                c.frames.clear();
                c.frames.push(Frame {
                    flow: fi,
                    pc: 0,
                    vars: Vec::new(),
                    ret_into: None,
                });
                c.wait = Wait::Run;
                c.timers[T_INPUT] = None;
                self.timers_dirty = true;
                c.timers[T_HOOK] = None;
                self.timers_dirty = true;
                c.path.push("error: on_error".into());
                return;
            }
        }
        c.path.push("error: fallback".into());
        if c.result.is_none() {
            c.result = Some("error".into());
        }
        self.fallback(i, now);
    }

    fn fallback(&mut self, i: usize, now: Instant) {
        if self.calls[i].gone.is_some() {
            // Nobody to hand to an agent: the call is over.
            self.end(i, now, EndReason::CallerHungUp, false);
            return;
        }
        let (kind, target) = self.calls[i].script.fallback.clone();
        self.stop_playback(i);
        self.transfer(i, now, kind, target);
    }

    fn transfer(&mut self, i: usize, now: Instant, kind: TransferKind, target: String) {
        let c = &mut self.calls[i];
        if c.result.is_none() {
            c.result = Some("transferred".into());
        }
        let ch = c.ch;
        self.push_out(i, Output::Transfer(ch, TransferTarget { kind, target }));
        self.end(i, now, EndReason::Transferred, false);
    }

    fn end(&mut self, i: usize, now: Instant, reason: EndReason, hang_up: bool) {
        let c = &mut self.calls[i];
        if c.ended {
            return;
        }
        c.ended = true;
        self.ended_any = true;
        let gone = c.gone.is_some();
        // After the caller hung up the line is already on-hook: nothing more to send, and
        // however the rest of the call ends, the caller ended it.
        let (reason, hang_up) = match reason {
            EndReason::Hangup | EndReason::Transferred if gone => (EndReason::CallerHungUp, false),
            r => (r, hang_up && !gone),
        };
        c.timers = [None; 3];
        self.timers_dirty = true;
        let ch = c.ch;
        let playing = !c.playing.is_idle();
        let recording = matches!(c.wait, Wait::Record(_));
        let result = c.result.take().unwrap_or_else(|| {
            if reason == EndReason::CallerHungUp {
                "abandoned".into()
            } else {
                "completed".into()
            }
        });
        let record = CallRecord {
            result,
            reason,
            path: std::mem::take(&mut c.path),
            started: c.started,
            ended: now,
            version: c.version,
            errors: c.errors,
        };
        if hang_up {
            if reason == EndReason::CallerHungUp && playing {
                self.out
                    .push_back(Output::Media(ch, MediaCommand::StopPlayback));
            }
            if recording {
                self.out
                    .push_back(Output::Media(ch, MediaCommand::StopRecording));
            }
            self.out
                .push_back(Output::Media(ch, MediaCommand::SetHook(Hook::OnHook)));
        }
        self.push_out(i, Output::CallEnded(ch, record));
    }
}
