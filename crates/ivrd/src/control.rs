//! Call control, sans-IO: the part of the daemon that turns what the channels report into
//! calls.
//!
//! The [`Controller`] owns the IVR engines (one per script), every channel's call state and
//! the media [`ControlHandle`]s. It answers trunks after caller ID, runs the trunk's script,
//! transfers calls to agent stations (ring with the caller's number, bridge on answer),
//! detects far-end hangup (on-hook, polarity reversal, busy tone), releases the line at once,
//! and produces hook jobs and CDRs for the threads that do I/O.
//!
//! # Contract
//!
//! - **Time** is an argument: [`Controller::step`] takes `now` (an [`ivr::Instant`], ms since
//!   the controller started) and [`Controller::next_deadline`] says when to step next. It
//!   never reads a clock, sleeps or does I/O, so the same code runs under the real-time
//!   runtime ([`runtime`]) and under the virtual-time driver ([`virt`]).
//! - **Hooks** leave as [`HookJob`]s ([`Controller::take_jobs`]); answers come back through
//!   [`Controller::hook_reply`]. **CDRs** leave through [`Controller::take_cdrs`].
//! - **Threads**: one control thread; allocation is allowed (never the audio thread).

pub(crate) mod hooks;
pub(crate) mod live;
pub(crate) mod members;
pub(crate) mod prompts;
pub(crate) mod recorder;
pub(crate) mod reload;
pub(crate) mod runtime;
pub(crate) mod setup;
pub(crate) mod virt;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ivr::{
    AfterId, CallInfo, EndReason, Engine, HookCall, HookId, HookReply, Input, Instant, Output,
};
use ivrd::cdr::{CallResult, Cdr, HangupCause};
use ivrd::metrics::{CallerIdOutcome, ChannelState, LookupOutcome, Metrics};
use media::ControlHandle;
use tel_types::{
    CallerId, CallerIdPresentation, ChannelId, Hook, LineEvent, MediaCommand, MediaEvent,
    ProgressTone, PromptId, RecordingId, Tone,
};

pub(crate) use prompts::{PromptMap, PromptNames};

/// A trunk gives up ringing (the caller hung up before we answered) after this long without
/// a ring (the `cn` cadence rings every 5 s).
const RING_GONE_MS: u64 = 7_000;
/// Ringing longer than this without answering (caller ID never came) answers anyway.
const MAX_RING_WAIT_MS: u64 = 12_000;
/// How long an out-of-service channel stays out before it is tried again.
pub(crate) const OOS_RETRY_MS: u64 = 30_000;
/// One frame: how soon commands waiting for a full ring are tried again.
const FRAME_MS: u64 = 20;

/// How a trunk group answers and runs calls.
#[derive(Debug, Clone)]
pub(crate) struct TrunkPolicy {
    /// Group name (CDRs, the script's `trunk`).
    pub(crate) name: String,
    /// Index into the controller's scripts.
    pub(crate) script: usize,
    /// Answer after this many rings if no caller ID came earlier.
    pub(crate) answer_after_rings: u32,
    /// Caller ID is expected (answer as soon as it arrives, after the first ring).
    pub(crate) caller_id: bool,
    /// A polarity reversal means the far end hung up.
    pub(crate) hangup_on_polarity: bool,
    /// Busy tone means the far end hung up.
    pub(crate) busy_disconnect: bool,
    /// Record whole calls.
    pub(crate) record: bool,
    /// The language its calls start in (the script's first if it has no such language).
    pub(crate) language: String,
}

/// The line settings of a trunk group the controller acts on (the pipeline's own, gains and
/// receivers, go to the audio thread as [`media::LineSettings`]). A channel keeps the ones
/// it has until it is idle, so a reload never changes them under a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinePolicy {
    pub(crate) answer_after_rings: u32,
    pub(crate) caller_id: bool,
    pub(crate) hangup_on_polarity: bool,
    pub(crate) busy_disconnect: bool,
}

impl TrunkPolicy {
    /// Its line settings.
    pub(crate) fn line(&self) -> LinePolicy {
        LinePolicy {
            answer_after_rings: self.answer_after_rings,
            caller_id: self.caller_id,
            hangup_on_polarity: self.hangup_on_polarity,
            busy_disconnect: self.busy_disconnect,
        }
    }
}

/// An agent group.
#[derive(Debug, Clone)]
pub(crate) struct GroupPolicy {
    /// The name scripts transfer to.
    pub(crate) name: String,
    /// Ring one station this long before trying the next.
    pub(crate) ring_timeout_ms: u64,
    /// A caller waits this long in the queue at most.
    pub(crate) max_wait_ms: u64,
}

/// What a channel is.
#[derive(Debug, Clone)]
pub(crate) enum Role {
    /// A trunk of trunk group `n`.
    Trunk(usize),
    /// An agent station in these groups.
    Station(Vec<usize>),
}

/// What the controller runs: trunk groups, agent groups, scripts and the prompt table's
/// names.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Trunk groups.
    pub(crate) trunks: Vec<TrunkPolicy>,
    /// Agent groups.
    pub(crate) groups: Vec<GroupPolicy>,
    /// Scripts, each with its engine.
    pub(crate) scripts: Vec<ScriptSlot>,
    /// The prompt table's names.
    pub(crate) names: Arc<PromptNames>,
    /// The prompt table every pipeline starts with.
    pub(crate) table: &'static media::PromptTable,
}

/// One script and the engine that runs its calls.
#[derive(Debug)]
pub(crate) struct ScriptSlot {
    /// The config name.
    pub(crate) name: String,
    /// The engine.
    pub(crate) engine: Engine,
    /// The prompt mapping of the script version new calls get.
    pub(crate) map: Arc<PromptMap>,
    deadline: Option<Instant>,
}

impl ScriptSlot {
    /// A slot for a loaded script.
    pub(crate) fn new(name: &str, script: ivr::Script, names: &PromptNames) -> Self {
        let map = Arc::new(names.map_for(&script));
        Self {
            name: name.to_string(),
            engine: Engine::new(script),
            map,
            deadline: None,
        }
    }
}

/// A hook call for a worker.
#[derive(Debug, Clone)]
pub(crate) struct HookJob {
    /// The call's channel.
    pub(crate) ch: ChannelId,
    /// The request.
    pub(crate) id: HookId,
    /// What to call.
    pub(crate) call: HookCall,
    /// When it was asked (for latency).
    pub(crate) asked: Instant,
}

#[derive(Debug)]
struct Call {
    cdr: Cdr,
    script: usize,
    map: Arc<PromptMap>,
    cause: Option<HangupCause>,
    caller_id: CallerId,
    transfer_group: Option<usize>,
    /// The group's (ring timeout, longest wait) in ms when the call was handed to it: a
    /// reload does not change them for a call already queued.
    group_times: Option<(u64, u64)>,
    /// Prompts sent to the pipeline, (table id, script id), oldest first: `PlaybackDone`
    /// carries the table id and the engine wants its own.
    playing: VecDeque<(PromptId, PromptId)>,
    queued_at: Instant,
    answered_at: Instant,
    /// The whole call is recorded (a `record = true` trunk): the CDR's `recording` is that
    /// file. Otherwise it names the last message the script recorded, if any.
    whole_call: bool,
    /// The slot of the last message the script started recording.
    rec_slot: Option<RecordingId>,
    /// When the line was released because the caller hung up while the script runs on
    /// (`on hangup`): the channel's listen tap and recording name are no longer this
    /// call's, and the call's end (CDR `end_ms`, handling time) is this moment.
    released: Option<Instant>,
}

/// A call whose caller hung up in a `record` with `on hangup`: the channel is idle (it may
/// have the next call) while the script finishes here, off the line and off the audio
/// thread. Its CDR is written when the engine ends it.
#[derive(Debug)]
struct AfterCall {
    /// The script slot whose engine runs it.
    script: usize,
    /// The engine's id for it.
    id: AfterId,
    /// The channel slot it was on.
    chan: usize,
    call: Box<Call>,
    /// The hook it waits for, if any.
    hook: Option<HookId>,
}

#[derive(Debug)]
enum State {
    Idle,
    Ringing {
        rings: u32,
        cid: Option<CallerId>,
        first: Instant,
        last_ring: Instant,
    },
    InIvr(Box<Call>),
    Queued(Box<Call>),
    AgentRinging {
        call: Box<Call>,
        station: usize,
        since: Instant,
    },
    Bridged {
        call: Box<Call>,
        station: usize,
    },
    /// Station: being rung for trunk `n`.
    StRinging(usize),
    /// Station: talking to trunk `n`.
    StTalking(usize),
    /// Station: the caller left; waiting for the agent to hang up.
    StReleasing,
    OutOfService {
        retry_at: Instant,
    },
    /// No longer configured: handed to the audio thread to be taken out and closed.
    Closing,
    /// A slot whose channel was closed (the next channel opened may take it).
    Vacant,
}

#[derive(Debug)]
struct Chan {
    id: ChannelId,
    role: Role,
    state: State,
    early_cid: Option<CallerId>,
    last_idle: Instant,
    /// The pipeline's lost-digit count already acted on.
    digits_lost_seen: u64,
    /// The line settings in force here if a reload froze them (`None`: the group's).
    line: Option<LinePolicy>,
    /// What a reload changes on this channel once it is idle.
    pending: Option<reload::Pending>,
    /// The generation of the prompt table this channel's pipeline plays from.
    table_gen: u32,
    /// A reload took it out of the config (or changed its role): it closes when idle.
    leaving: bool,
}

/// Counters for the demo's status line and summary (the Prometheus metrics carry the rest).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Incoming calls seen ringing.
    pub(crate) offered: u64,
    /// Calls answered.
    pub(crate) answered: u64,
    /// Calls that rang and stopped before we answered.
    pub(crate) unanswered: u64,
    /// Of those, the ones that rang while we were answering (not stopping): lost calls.
    pub(crate) unanswered_running: u64,
    /// Calls that ended, by result: self-served, transferred, abandoned, unanswered, failed.
    pub(crate) by_result: [u64; 5],
    /// Order lookups asked.
    pub(crate) lookups: u64,
    /// Lookups that found the order.
    pub(crate) lookups_found: u64,
    /// Digits heard.
    pub(crate) digits: u64,
    /// Calls handed to an agent who answered.
    pub(crate) agent_answered: u64,
    /// Sum of answered calls' handling time, ms.
    pub(crate) handling_ms: u64,
    /// Answered calls that ended.
    pub(crate) handled: u64,
    /// Busy-tone hangups.
    pub(crate) busy_hangups: u64,
    /// Calls hung up because the daemon (or the demo) was stopping.
    pub(crate) shutdown_hangups: u64,
    /// Calls with caller ID.
    pub(crate) caller_ids: u64,
    /// Commands that found a channel's ring full and waited (none is lost).
    pub(crate) ring_full: u64,
    /// Channels taken out of service.
    pub(crate) out_of_service: u64,
    /// CDRs produced.
    pub(crate) cdrs: u64,
}

/// Live channel occupancy.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Occupancy {
    /// Trunks in a call (ringing excluded).
    pub(crate) active: usize,
    /// Calls in the IVR.
    pub(crate) in_ivr: usize,
    /// Calls waiting for or ringing an agent.
    pub(crate) queued: usize,
    /// Calls talking to an agent.
    pub(crate) with_agent: usize,
    /// Channels not idle (any role, any state).
    pub(crate) busy_channels: usize,
    /// Channels out of service.
    pub(crate) out_of_service: usize,
}

/// The call controller (see the module docs).
#[derive(Debug)]
pub(crate) struct Controller {
    chans: Vec<Chan>,
    index_of: HashMap<ChannelId, usize>,
    handles: Vec<ControlHandle>,
    trunks: Vec<TrunkPolicy>,
    groups: Vec<GroupPolicy>,
    scripts: Vec<ScriptSlot>,
    names: Arc<PromptNames>,
    jobs: Vec<HookJob>,
    cdrs: Vec<Cdr>,
    queue: VecDeque<usize>,
    rr: Vec<usize>,
    metrics: Arc<Metrics>,
    counts: Counts,
    stopping: bool,
    epoch_ms: i64,
    utc_offset_min: i32,
    out: Vec<Output>,
    recording: Option<(recorder::CallNames, std::path::PathBuf)>,
    /// The time of the last [`Controller::step`].
    last_step: Instant,
    /// The prompt table new calls play from, and its generation (one per reloaded pack).
    table: &'static media::PromptTable,
    table_gen: u32,
    /// Channels the config names that are not open yet.
    wanted: Vec<members::Wanted>,
    /// Channels to take out of the audio loop.
    closes: Vec<ChannelId>,
    /// Slots (open channels) at most: `daemon.max_channels`.
    max_channels: usize,
    /// Who decides whether the call centre is open (every script's engine follows it).
    hours_mode: ivr::HoursMode,
    /// Calls that run on after their caller hung up (see [`AfterCall`]).
    after: Vec<AfterCall>,
}

impl Controller {
    /// Who decides whether the call centre is open, for every script (reloaded ones too):
    /// the scripts' `hours` tables ([`ivr::HoursMode::Script`], the default), open round
    /// the clock, or closed (night service). Calls in progress follow it from their next
    /// `open(..)`.
    pub(crate) fn set_hours_mode(&mut self, mode: ivr::HoursMode) {
        self.hours_mode = mode;
        for s in &mut self.scripts {
            s.engine.set_hours_mode(mode);
        }
    }

    /// Whole-call recordings of `record = true` trunks go through `names` into `dir`.
    pub(crate) fn set_recording(&mut self, names: recorder::CallNames, dir: &std::path::Path) {
        self.recording = Some((names, dir.to_path_buf()));
    }

    /// A controller over `handles` (in the same order as `roles`); `epoch_ms` is the wall
    /// time (ms since 1970) of `Instant::ZERO`, for CDRs and the scripts' local time.
    pub(crate) fn new(
        handles: Vec<ControlHandle>,
        roles: Vec<Role>,
        plan: Plan,
        metrics: Arc<Metrics>,
        epoch_ms: i64,
    ) -> Self {
        let Plan {
            trunks,
            groups,
            scripts,
            names,
            table,
        } = plan;
        assert_eq!(handles.len(), roles.len());
        let chans: Vec<Chan> = handles
            .iter()
            .zip(roles)
            .map(|(h, role)| Chan::new(h.id(), role))
            .collect();
        for i in 0..chans.len() {
            metrics.set_channel_state(i, ChannelState::Idle);
        }
        let max_channels = chans.len().max(metrics.capacity());
        let index_of = chans.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let rr = vec![0; groups.len()];
        Self {
            chans,
            index_of,
            handles,
            trunks,
            groups,
            scripts,
            names,
            jobs: Vec::new(),
            cdrs: Vec::new(),
            queue: VecDeque::new(),
            rr,
            metrics,
            counts: Counts::default(),
            stopping: false,
            epoch_ms,
            utc_offset_min: 8 * 60,
            out: Vec::new(),
            recording: None,
            last_step: Instant::ZERO,
            table,
            table_gen: 0,
            wanted: Vec::new(),
            closes: Vec::new(),
            max_channels,
            hours_mode: ivr::HoursMode::Script,
            after: Vec::new(),
        }
    }

    /// Opens at most `n` channels (slots) at once: `daemon.max_channels`.
    pub(crate) fn set_max_channels(&mut self, n: usize) {
        self.max_channels = n.max(self.chans.len());
    }

    /// The counters so far.
    pub(crate) fn counts(&self) -> Counts {
        self.counts
    }

    /// What the channels are doing now.
    pub(crate) fn occupancy(&self) -> Occupancy {
        let mut o = Occupancy::default();
        for c in &self.chans {
            match &c.state {
                State::Idle | State::Closing | State::Vacant => {}
                State::OutOfService { .. } => o.out_of_service += 1,
                State::InIvr(_) => o.in_ivr += 1,
                State::Queued(_) | State::AgentRinging { .. } => o.queued += 1,
                State::Bridged { .. } => o.with_agent += 1,
                _ => {}
            }
            if !matches!(
                c.state,
                State::Idle | State::OutOfService { .. } | State::Closing | State::Vacant
            ) {
                o.busy_channels += 1;
            }
        }
        o.active = o.in_ivr + o.queued + o.with_agent;
        o
    }

    /// Each busy channel's state, for diagnostics.
    pub(crate) fn debug_states(&self) -> Vec<String> {
        self.chans
            .iter()
            .filter(|c| !matches!(c.state, State::Idle | State::Vacant))
            .map(|c| {
                let s = format!("{:?}", c.state);
                format!("{}: {}", c.id, &s[..s.len().min(40)])
            })
            .collect()
    }

    /// Calls whose caller hung up and whose script still runs (filing a message) off the
    /// line; their CDRs come when they end.
    #[cfg(test)]
    pub(crate) fn after_hangup_calls(&self) -> usize {
        self.after.len()
    }

    /// Every channel is idle (or out of service) and no call is left anywhere.
    pub(crate) fn all_idle(&self) -> bool {
        self.chans.iter().all(|c| {
            matches!(
                c.state,
                State::Idle | State::OutOfService { .. } | State::Closing | State::Vacant
            )
        }) && self.scripts.iter().all(|s| s.engine.calls() == 0)
    }

    /// Hook calls to run (the caller answers each with [`Controller::hook_reply`]).
    pub(crate) fn take_jobs(&mut self) -> Vec<HookJob> {
        std::mem::take(&mut self.jobs)
    }

    /// Finished calls' records.
    pub(crate) fn take_cdrs(&mut self) -> Vec<Cdr> {
        std::mem::take(&mut self.cdrs)
    }

    /// The earliest time [`Controller::step`] has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let mut d = self.scripts.iter().filter_map(|s| s.deadline).min();
        let mut take = |t: Instant| d = Some(d.map_or(t, |x: Instant| x.min(t)));
        for c in &self.chans {
            match &c.state {
                State::Ringing {
                    first, last_ring, ..
                } => {
                    take(*last_ring + ivr::Duration::from_millis(RING_GONE_MS));
                    take(*first + ivr::Duration::from_millis(MAX_RING_WAIT_MS));
                }
                State::AgentRinging { call, since, .. } => {
                    let (ring_ms, _) = self.group_times(call);
                    take(*since + ivr::Duration::from_millis(ring_ms));
                }
                State::Queued(call) => {
                    let (_, wait_ms) = self.group_times(call);
                    take(call.queued_at + ivr::Duration::from_millis(wait_ms));
                }
                State::OutOfService { retry_at } => take(*retry_at),
                _ => {}
            }
        }
        // Commands waiting for room in a full ring go out on the next frame.
        // (A closed channel's leftovers have nowhere to go.)
        if self
            .handles
            .iter()
            .zip(&self.chans)
            .any(|(h, c)| h.backlog() > 0 && !matches!(c.state, State::Vacant))
        {
            take(self.last_step + ivr::Duration::from_millis(FRAME_MS));
        }
        if let Some(t) = self.next_open() {
            take(t);
        }
        d
    }

    /// Stop answering new calls (calls in progress go on).
    pub(crate) fn stop_answering(&mut self) {
        self.stopping = true;
    }

    /// Hang up every call now (the shutdown deadline passed).
    pub(crate) fn hang_up_all(&mut self, now: Instant) {
        for s in 0..self.scripts.len() {
            let _ = self.scripts[s].engine.handle_input(Input::Shutdown(now));
            self.drain(s, now);
        }
        for i in 0..self.chans.len() {
            match std::mem::replace(&mut self.chans[i].state, State::Idle) {
                State::Queued(call) | State::InIvr(call) => {
                    self.finish(i, now, call, CallResult::Abandoned, HangupCause::Shutdown)
                }
                State::AgentRinging { call, station, .. } => {
                    self.release_station(station, now);
                    self.finish(i, now, call, CallResult::Abandoned, HangupCause::Shutdown);
                }
                State::Bridged { call, station } => {
                    self.release_station(station, now);
                    self.finish(i, now, call, CallResult::Transferred, HangupCause::Shutdown);
                }
                State::Ringing { first, cid, .. } => {
                    self.unanswered(i, now, first, cid);
                }
                other => self.chans[i].state = other,
            }
        }
    }

    /// Takes every channel's events and runs every timer due at `now`.
    pub(crate) fn step(&mut self, now: Instant) {
        self.last_step = now;
        // Commands that found a ring full go first, in order, before anything new.
        for (h, c) in self.handles.iter_mut().zip(&self.chans) {
            if !matches!(c.state, State::Vacant) {
                h.pump();
            }
        }
        for i in 0..self.chans.len() {
            while let Some(ev) = self.handles[i].poll_event() {
                self.on_event(i, now, ev);
            }
        }
        for s in 0..self.scripts.len() {
            if self.scripts[s].deadline.is_some_and(|d| d <= now) {
                let _ = self.scripts[s].engine.handle_input(Input::Timeout(now));
                self.drain(s, now);
            }
        }
        self.timers(now);
        self.apply_pending(now);
        self.close_leaving();
        self.dispatch(now);
    }

    /// A hook job's answer (`latency_s` for the metrics).
    pub(crate) fn hook_reply(
        &mut self,
        now: Instant,
        ch: ChannelId,
        id: HookId,
        reply: HookReply,
        latency_s: f64,
    ) {
        let outcome = match &reply {
            HookReply::Found(_) => LookupOutcome::Found,
            HookReply::NotFound => LookupOutcome::NotFound,
            HookReply::Timeout => LookupOutcome::Timeout,
            _ => LookupOutcome::Error,
        };
        self.metrics.lookup(outcome, latency_s);
        if outcome == LookupOutcome::Found {
            self.counts.lookups_found += 1;
        }
        let Some(&i) = self.index_of.get(&ch) else {
            return;
        };
        // A call whose caller hung up waits for it off the line (the channel may have a new
        // call by now, with hooks of its own).
        if let Some(a) = self
            .after
            .iter_mut()
            .find(|a| a.chan == i && a.hook == Some(id))
        {
            a.hook = None;
            let s = a.script;
            let _ = self.scripts[s]
                .engine
                .handle_input(Input::HookReply { now, ch, id, reply });
            self.drain(s, now);
            return;
        }
        if let State::InIvr(call) = &self.chans[i].state {
            let s = call.script;
            let _ = self.scripts[s]
                .engine
                .handle_input(Input::HookReply { now, ch, id, reply });
            self.drain(s, now);
        }
    }

    // ---------- events ----------

    fn on_event(&mut self, i: usize, now: Instant, ev: MediaEvent) {
        if matches!(self.chans[i].state, State::Closing | State::Vacant) {
            return;
        }
        match ev {
            MediaEvent::Digit(d) => {
                self.counts.digits += 1;
                let ms = d.end.0.saturating_sub(d.start.0) as f32 / 8.0;
                self.metrics.dtmf_digit(d.digit, d.twist_db(), d.snr_db, ms);
            }
            MediaEvent::EventsLost { count } => return self.events_lost(i, now, count),
            _ => {}
        }
        if let MediaEvent::Line {
            event: LineEvent::Removed | LineEvent::Alarm,
            ..
        } = ev
        {
            return self.out_of_service(i, now);
        }
        match self.chans[i].role {
            Role::Trunk(t) => self.trunk_event(i, t, now, ev),
            Role::Station(_) => self.station_event(i, now, ev),
        }
    }

    /// The channel's event ring was full and `count` events were lost. Hook changes,
    /// faults, hang-up signals and playback/recording completions are never among them
    /// (the pipeline keeps those and they arrive as usual); what can be lost is keys,
    /// caller ID, voice/silence and other line events. Lost keys make the caller's input
    /// unreliable: a call in the IVR takes its script's invalid-input path (the engine
    /// drops what was typed and asks again), so a wrong order number is never looked up.
    fn events_lost(&mut self, i: usize, now: Instant, count: u32) {
        self.metrics.ring_overruns.add(u64::from(count));
        let digits_lost = self.handles[i].stats().digits_lost;
        let keys = digits_lost.saturating_sub(self.chans[i].digits_lost_seen);
        self.chans[i].digits_lost_seen = digits_lost;
        let ch = self.chans[i].id;
        let State::InIvr(call) = &self.chans[i].state else {
            log::warn!(
                "channel {ch}: {count} event(s) lost on a full event ring ({keys} key(s)); no call in the IVR, nothing to repair"
            );
            return;
        };
        if keys == 0 {
            log::warn!(
                "channel {ch}: {count} event(s) lost on a full event ring, no keys among them; the call goes on"
            );
            return;
        }
        log::warn!(
            "channel {ch}: {count} event(s) lost on a full event ring, {keys} key(s) among them: the caller's input is taken as invalid and asked again"
        );
        self.metrics.calls_input_lost.inc();
        let s = call.script;
        let _ = self.scripts[s].engine.handle_input(Input::Media {
            now,
            ch,
            event: MediaEvent::EventsLost {
                count: u32::try_from(keys).unwrap_or(u32::MAX),
            },
        });
        self.drain(s, now);
    }

    fn trunk_event(&mut self, i: usize, t: usize, now: Instant, ev: MediaEvent) {
        // The pipeline closed the message of a call whose caller hung up: its script files
        // it now (the channel itself is idle or has the next call).
        if let MediaEvent::RecordingDone { slot, .. } = ev {
            if let Some(a) = self
                .after
                .iter_mut()
                .find(|a| a.chan == i && a.call.rec_slot == Some(slot))
            {
                a.call.rec_slot = None;
                let (s, ch) = (a.script, self.chans[i].id);
                let _ = self.scripts[s]
                    .engine
                    .handle_input(Input::Media { now, ch, event: ev });
                self.drain(s, now);
                return;
            }
        }
        let policy = self.chans[i].line.unwrap_or_else(|| self.trunks[t].line());
        let hangup = match ev {
            MediaEvent::Line {
                event: LineEvent::OnHook,
                ..
            } => Some(HangupCause::CallerOnHook),
            MediaEvent::Line {
                event: LineEvent::PolarityReversal,
                ..
            } if policy.hangup_on_polarity => Some(HangupCause::Polarity),
            MediaEvent::Progress {
                tone: ProgressTone::Busy,
                ..
            } if policy.busy_disconnect => Some(HangupCause::BusyTone),
            _ => None,
        };
        let ring = matches!(
            ev,
            MediaEvent::Line {
                event: LineEvent::RingOffHook,
                ..
            }
        );
        let (answer_after, want_cid) = (policy.answer_after_rings.max(1), policy.caller_id);
        match &mut self.chans[i].state {
            State::Idle => {
                if let MediaEvent::CallerId { caller_id, .. } = ev {
                    self.chans[i].early_cid = Some(caller_id);
                } else if ring {
                    self.counts.offered += 1;
                    self.metrics.calls_offered.inc();
                    let cid = self.chans[i].early_cid.take();
                    self.chans[i].state = State::Ringing {
                        rings: 1,
                        cid,
                        first: now,
                        last_ring: now,
                    };
                    self.set_metric_state(i, ChannelState::Ringing);
                    self.maybe_answer(i, t, now, answer_after, want_cid);
                }
            }
            State::Ringing {
                rings,
                cid,
                last_ring,
                ..
            } => {
                match ev {
                    MediaEvent::CallerId { caller_id, .. } => *cid = Some(caller_id),
                    _ if ring => {
                        *rings += 1;
                        *last_ring = now;
                    }
                    _ => return,
                }
                self.maybe_answer(i, t, now, answer_after, want_cid);
            }
            State::InIvr(call) => {
                let s = call.script;
                let mut ev = ev;
                if let MediaEvent::PlaybackDone {
                    prompt,
                    played_samples,
                    barged_in_by,
                } = ev
                {
                    let Some(k) = call.playing.iter().position(|p| p.0 == prompt) else {
                        return;
                    };
                    let script_id = call.playing[k].1;
                    call.playing.drain(..=k);
                    ev = MediaEvent::PlaybackDone {
                        prompt: script_id,
                        played_samples,
                        barged_in_by,
                    };
                }
                if let Some(cause) = hangup {
                    call.cause = Some(cause);
                    // The engine ends the call on on-hook or busy; a reversal reads as on-hook.
                    ev = MediaEvent::Line {
                        at: tel_types::SampleTime::ZERO,
                        event: LineEvent::OnHook,
                    };
                }
                let ch = self.chans[i].id;
                let _ = self.scripts[s]
                    .engine
                    .handle_input(Input::Media { now, ch, event: ev });
                self.drain(s, now);
            }
            State::Queued(_) | State::AgentRinging { .. } | State::Bridged { .. } => {
                let Some(cause) = hangup else { return };
                let state = std::mem::replace(&mut self.chans[i].state, State::Idle);
                let (call, result) = match state {
                    State::Queued(call) => {
                        self.queue.retain(|&q| q != i);
                        (call, CallResult::Abandoned)
                    }
                    State::AgentRinging { call, station, .. } => {
                        self.send(station, MediaCommand::SetHook(Hook::RingOff));
                        self.chans[station].state = State::Idle;
                        self.station_idle(station, now);
                        (call, CallResult::Abandoned)
                    }
                    State::Bridged { call, station } => {
                        self.release_station(station, now);
                        (call, CallResult::Transferred)
                    }
                    _ => unreachable!(),
                };
                self.send(i, MediaCommand::StopTone);
                self.send(i, MediaCommand::Unbridge);
                self.send(i, MediaCommand::SetHook(Hook::OnHook));
                self.finish(i, now, call, result, cause);
            }
            _ => {}
        }
    }

    fn maybe_answer(&mut self, i: usize, t: usize, now: Instant, after: u32, want_cid: bool) {
        let State::Ringing {
            rings, cid, first, ..
        } = &self.chans[i].state
        else {
            return;
        };
        let ready = *rings >= after || (want_cid && cid.is_some());
        if !ready || self.stopping {
            return;
        }
        let (cid, first) = (*cid, *first);
        let _ = rings;
        self.answer(i, t, now, first, cid);
    }

    fn answer(&mut self, i: usize, t: usize, now: Instant, first: Instant, cid: Option<CallerId>) {
        let policy = self.trunks[t].clone();
        let ch = self.chans[i].id;
        self.send(i, MediaCommand::SetHook(Hook::OffHook));
        self.counts.answered += 1;
        self.metrics.calls_answered.inc();
        let number = cid
            .filter(|c| c.presentation == CallerIdPresentation::Available)
            .map(|c| c.number.as_str().to_string())
            .filter(|n| !n.is_empty());
        if policy.caller_id {
            self.metrics.caller_id(if cid.is_some() {
                CallerIdOutcome::Decoded
            } else {
                CallerIdOutcome::Missing
            });
        }
        if number.is_some() {
            self.counts.caller_ids += 1;
        }
        let mut cdr = Cdr::new(self.wall_ms(first), ch.0);
        cdr.answer_ms = Some(self.wall_ms(now));
        cdr.caller_id = number.clone();
        cdr.script = self.scripts[policy.script].name.clone();
        // A channel still on an older prompt pack gets the current one before the call's
        // first prompt (the ring keeps the order); the call's map is for the current one.
        self.ensure_table(i);
        let mut recorded = false;
        if let (true, Some((names, dir))) = (policy.record, &self.recording) {
            let (y, m, d) = civil_from_days(cdr.start_ms.div_euclid(86_400_000));
            let path = dir
                .join(format!("{y:04}-{m:02}-{d:02}"))
                .join(format!("{}.wav", cdr.call_id));
            cdr.recording = Some(path.display().to_string());
            names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(ch.0, (cdr.call_id.clone(), cdr.start_ms));
            recorded = true;
        } else if let Some((names, _)) = &self.recording {
            // Messages the script records are named after the call (the recorder reads the
            // name here), so the CDR and the hooks can name the file.
            names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(ch.0, (cdr.call_id.clone(), cdr.start_ms));
        }
        if recorded {
            self.send_listen(i, true);
        }
        let call = Box::new(Call {
            cdr,
            script: policy.script,
            map: Arc::clone(&self.scripts[policy.script].map),
            cause: None,
            caller_id: cid.unwrap_or_default(),
            transfer_group: None,
            group_times: None,
            playing: VecDeque::new(),
            queued_at: now,
            answered_at: now,
            whole_call: recorded,
            rec_slot: None,
            released: None,
        });
        self.chans[i].state = State::InIvr(call);
        self.set_metric_state(i, ChannelState::InIvr);
        let info = CallInfo {
            caller_id: number.unwrap_or_default(),
            dialled: String::new(),
            trunk: policy.name.clone(),
            local: self.local_time(now),
            outbound: false,
            language: policy.language.clone(),
        };
        let s = policy.script;
        // A script added by a reload follows the controller's hours mode too.
        self.scripts[s].engine.set_hours_mode(self.hours_mode);
        if let Err(e) = self.scripts[s].engine.handle_input(Input::CallArrived {
            now,
            ch,
            call: info,
        }) {
            log::error!("channel {ch}: the engine refused the call: {e}");
        }
        self.drain(s, now);
    }

    fn station_event(&mut self, i: usize, now: Instant, ev: MediaEvent) {
        let MediaEvent::Line { event, .. } = ev else {
            return;
        };
        match (&self.chans[i].state, event) {
            (State::StRinging(trunk), LineEvent::RingOffHook) => {
                let trunk = *trunk;
                // Ring trip: DAHDI goes on with the ring cadence on an FXS port after the
                // phone answers until it is told off-hook (as Asterisk does on answer).
                self.send(i, MediaCommand::SetHook(Hook::OffHook));
                self.chans[i].state = State::StTalking(trunk);
                self.set_metric_state(i, ChannelState::Transferred);
                let st_id = self.chans[i].id;
                if let State::AgentRinging { call, .. } =
                    std::mem::replace(&mut self.chans[trunk].state, State::Idle)
                {
                    let mut call = call;
                    call.cdr.agent_answer_ms = Some(self.wall_ms(now));
                    self.counts.agent_answered += 1;
                    self.send(trunk, MediaCommand::StopTone);
                    self.send(trunk, MediaCommand::Bridge(st_id));
                    self.chans[trunk].state = State::Bridged { call, station: i };
                    self.set_metric_state(trunk, ChannelState::Transferred);
                }
            }
            (State::StTalking(trunk), LineEvent::OnHook) => {
                let trunk = *trunk;
                self.send(i, MediaCommand::Unbridge);
                self.send(i, MediaCommand::SetHook(Hook::OnHook));
                self.chans[i].state = State::Idle;
                self.station_idle(i, now);
                if let State::Bridged { call, .. } =
                    std::mem::replace(&mut self.chans[trunk].state, State::Idle)
                {
                    self.send(trunk, MediaCommand::Unbridge);
                    self.send(trunk, MediaCommand::SetHook(Hook::OnHook));
                    self.finish(
                        trunk,
                        now,
                        call,
                        CallResult::Transferred,
                        HangupCause::AgentHangup,
                    );
                }
            }
            (State::StReleasing, LineEvent::OnHook) => {
                self.send(i, MediaCommand::StopTone);
                self.chans[i].state = State::Idle;
                self.station_idle(i, now);
            }
            (State::OutOfService { .. }, LineEvent::NoAlarm) => {
                self.chans[i].state = State::Idle;
                self.station_idle(i, now);
            }
            _ => {}
        }
    }

    // ---------- engine ----------

    fn drain(&mut self, s: usize, now: Instant) {
        let mut out = std::mem::take(&mut self.out);
        loop {
            match self.scripts[s].engine.poll_output() {
                Output::Timeout(d) => {
                    self.scripts[s].deadline = d;
                    break;
                }
                o => out.push(o),
            }
        }
        for o in out.drain(..) {
            self.route(s, now, o);
        }
        self.out = out;
    }

    fn route(&mut self, s: usize, now: Instant, o: Output) {
        #[cfg(test)]
        if std::env::var_os("IVRD_TRACE").is_some() {
            eprintln!("{now}: {o:?}");
        }
        match o {
            Output::Media(ch, cmd) => {
                let Some(&i) = self.index_of.get(&ch) else {
                    return;
                };
                let cmd = match cmd {
                    MediaCommand::Play { prompt, barge_in } => {
                        let Some(p) = self.call_map(i).and_then(|m| m.to_table(prompt)) else {
                            return;
                        };
                        if let State::InIvr(c) = &mut self.chans[i].state {
                            c.playing.push_back((p, prompt));
                        }
                        MediaCommand::Play {
                            prompt: p,
                            barge_in,
                        }
                    }
                    // Answering happened before the script started; a hang-up is done by
                    // the release that follows `CallEnded`.
                    MediaCommand::SetHook(Hook::OffHook) => return,
                    MediaCommand::StartRecording { slot, .. } => {
                        if let State::InIvr(c) = &mut self.chans[i].state {
                            c.rec_slot = Some(slot);
                            if let (false, Some((_, dir))) = (c.whole_call, &self.recording) {
                                let file = message_file(&c.cdr, slot.0);
                                c.cdr.recording = Some(dir.join(file).display().to_string());
                            }
                        }
                        cmd
                    }
                    c => c,
                };
                self.send(i, cmd);
            }
            Output::Hook(ch, id, mut call) => {
                if let Some(&i) = self.index_of.get(&ch) {
                    if let State::InIvr(c) = &mut self.chans[i].state {
                        prepare_hook(c, &mut call);
                    }
                }
                self.counts.lookups += 1;
                self.jobs.push(HookJob {
                    ch,
                    id,
                    call,
                    asked: now,
                });
            }
            Output::CallerGone(ch, id) => self.caller_gone(s, now, ch, id),
            Output::AfterHangup(id, o) => self.after_hangup(s, now, id, *o),
            Output::Transfer(ch, target) => {
                let Some(&i) = self.index_of.get(&ch) else {
                    return;
                };
                let g = self
                    .groups
                    .iter()
                    .position(|g| g.name == target.target)
                    .or_else(|| self.groups.iter().position(|g| g.name == "service"))
                    .unwrap_or(0);
                if let State::InIvr(call) = &mut self.chans[i].state {
                    call.transfer_group = Some(g);
                    call.group_times =
                        Some((self.groups[g].ring_timeout_ms, self.groups[g].max_wait_ms));
                    call.cdr.transfer_target = Some(target.target.clone());
                    call.cdr.transfer_ms = Some(self.epoch_ms + now.as_millis() as i64);
                }
            }
            Output::CallEnded(ch, rec) => {
                let Some(&i) = self.index_of.get(&ch) else {
                    return;
                };
                let State::InIvr(mut call) =
                    std::mem::replace(&mut self.chans[i].state, State::Idle)
                else {
                    return;
                };
                call.cdr.path = rec.path.clone();
                call.cdr.script_version = format!("{}", rec.version);
                let staffed = call.transfer_group.is_some_and(|g| {
                    self.chans.iter().any(|c| {
                        !c.leaving
                            && !matches!(c.state, State::Closing | State::Vacant)
                            && matches!(&c.role, Role::Station(gs) if gs.contains(&g))
                    })
                });
                if rec.reason == EndReason::Transferred && staffed {
                    call.queued_at = now;
                    self.send(
                        i,
                        MediaCommand::PlayTone {
                            tone: Tone::Ringback,
                            duration_ms: 0,
                        },
                    );
                    self.chans[i].state = State::Queued(call);
                    self.queue.push_back(i);
                    self.set_metric_state(i, ChannelState::Transferred);
                    return;
                }
                let (result, cause) = match rec.reason {
                    EndReason::CallerHungUp | EndReason::Shutdown => hung_up_result(&call, &rec),
                    EndReason::Transferred => {
                        log::warn!(
                            "channel {ch}: transfer to `{}`, a group with no station; released",
                            call.cdr.transfer_target.as_deref().unwrap_or("")
                        );
                        (CallResult::Failed, HangupCause::IvrHangup)
                    }
                    _ => (
                        if rec.errors > 0 && rec.result == "error" {
                            CallResult::Failed
                        } else {
                            CallResult::SelfServed
                        },
                        HangupCause::IvrHangup,
                    ),
                };
                self.send(i, MediaCommand::SetHook(Hook::OnHook));
                self.finish(i, now, call, result, cause);
            }
            Output::Error(ch, e) => {
                log::warn!("channel {ch}: script error at {}: {}", e.at, e.message)
            }
            _ => {}
        }
    }

    /// The caller hung up in a `record` with `on hangup`: the line is released now (the
    /// engine has sent it on-hook) and the channel may take the next call, while the script
    /// files the message off the line.
    fn caller_gone(&mut self, s: usize, now: Instant, ch: ChannelId, id: AfterId) {
        let Some(&i) = self.index_of.get(&ch) else {
            return;
        };
        let State::InIvr(mut call) = std::mem::replace(&mut self.chans[i].state, State::Idle)
        else {
            return;
        };
        if call.whole_call {
            self.send_listen(i, false);
        }
        if let Some((names, _)) = &self.recording {
            names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&ch.0);
        }
        call.released = Some(now);
        call.playing.clear();
        self.set_metric_state(i, ChannelState::Idle);
        log::debug!(
            "channel {ch}: caller hung up while recording; the script runs on, the line is free"
        );
        self.after.push(AfterCall {
            script: s,
            id,
            chan: i,
            call,
            hook: None,
        });
        self.metrics.calls_after_hangup.set(self.after.len() as i64);
    }

    /// An output of a call whose caller has gone.
    fn after_hangup(&mut self, s: usize, now: Instant, id: AfterId, o: Output) {
        let Some(k) = self.after.iter().position(|a| a.script == s && a.id == id) else {
            return;
        };
        match o {
            Output::Hook(ch, hid, mut call) => {
                prepare_hook(&mut self.after[k].call, &mut call);
                self.after[k].hook = Some(hid);
                self.counts.lookups += 1;
                self.jobs.push(HookJob {
                    ch,
                    id: hid,
                    call,
                    asked: now,
                });
            }
            Output::CallEnded(_, rec) => {
                let a = self.after.swap_remove(k);
                self.metrics.calls_after_hangup.set(self.after.len() as i64);
                let mut call = a.call;
                call.cdr.path = rec.path.clone();
                call.cdr.script_version = format!("{}", rec.version);
                let (result, cause) = hung_up_result(&call, &rec);
                self.finish_keep(a.chan, now, call, result, cause);
            }
            Output::Error(ch, e) => {
                log::warn!(
                    "channel {ch} (after hang-up): script error at {}: {}",
                    e.at,
                    e.message
                )
            }
            _ => {}
        }
    }

    fn call_map(&self, i: usize) -> Option<&PromptMap> {
        match &self.chans[i].state {
            State::InIvr(c) => Some(&c.map),
            _ => None,
        }
    }

    // ---------- agents ----------

    fn dispatch(&mut self, now: Instant) {
        let mut k = 0;
        while k < self.queue.len() {
            let i = self.queue[k];
            let g = match &self.chans[i].state {
                State::Queued(c) => c.transfer_group.unwrap_or(0),
                _ => {
                    self.queue.remove(k);
                    continue;
                }
            };
            let Some(st) = self.free_station(g) else {
                k += 1;
                continue;
            };
            self.queue.remove(k);
            let State::Queued(call) = std::mem::replace(&mut self.chans[i].state, State::Idle)
            else {
                unreachable!()
            };
            let trunk_idx = i;
            self.send(st, MediaCommand::SendCallerId(call.caller_id));
            self.send(st, MediaCommand::SetHook(Hook::Ring));
            self.chans[st].state = State::StRinging(trunk_idx);
            self.set_metric_state(st, ChannelState::Ringing);
            self.chans[i].state = State::AgentRinging {
                call,
                station: st,
                since: now,
            };
        }
    }

    fn free_station(&mut self, g: usize) -> Option<usize> {
        let n = self.chans.len();
        let start = self.rr[g] % n.max(1);
        for k in 0..n {
            let i = (start + k) % n;
            let c = &self.chans[i];
            if let Role::Station(groups) = &c.role {
                if groups.contains(&g) && matches!(c.state, State::Idle) && !c.leaving {
                    self.rr[g] = i + 1;
                    return Some(i);
                }
            }
        }
        None
    }

    fn release_station(&mut self, st: usize, now: Instant) {
        match self.chans[st].state {
            State::StRinging(_) => {
                self.send(st, MediaCommand::SetHook(Hook::RingOff));
                self.chans[st].state = State::Idle;
                self.station_idle(st, now);
            }
            State::StTalking(_) => {
                self.send(st, MediaCommand::Unbridge);
                self.send(st, MediaCommand::SetHook(Hook::OnHook));
                self.send(
                    st,
                    MediaCommand::PlayTone {
                        tone: Tone::Busy,
                        duration_ms: 0,
                    },
                );
                self.chans[st].state = State::StReleasing;
            }
            _ => {}
        }
    }

    fn station_idle(&mut self, st: usize, now: Instant) {
        self.chans[st].last_idle = now;
        self.set_metric_state(st, ChannelState::Idle);
    }

    // ---------- timers ----------

    fn timers(&mut self, now: Instant) {
        for i in 0..self.chans.len() {
            match &self.chans[i].state {
                State::Ringing {
                    first,
                    last_ring,
                    cid,
                    ..
                } => {
                    let (first, cid) = (*first, *cid);
                    if now >= *last_ring + ivr::Duration::from_millis(RING_GONE_MS) {
                        self.chans[i].state = State::Idle;
                        self.unanswered(i, now, first, cid);
                    } else if now >= first + ivr::Duration::from_millis(MAX_RING_WAIT_MS)
                        && !self.stopping
                    {
                        if let Role::Trunk(t) = self.chans[i].role {
                            self.answer(i, t, now, first, cid);
                        }
                    }
                }
                State::AgentRinging {
                    call,
                    since,
                    station,
                } => {
                    let (ring_ms, _) = self.group_times(call);
                    if now >= *since + ivr::Duration::from_millis(ring_ms) {
                        let st = *station;
                        self.send(st, MediaCommand::SetHook(Hook::RingOff));
                        self.chans[st].state = State::Idle;
                        self.station_idle(st, now);
                        if let State::AgentRinging { call, .. } =
                            std::mem::replace(&mut self.chans[i].state, State::Idle)
                        {
                            self.chans[i].state = State::Queued(call);
                            self.queue.push_front(i);
                        }
                    }
                }
                State::Queued(call) => {
                    let (_, wait_ms) = self.group_times(call);
                    if now >= call.queued_at + ivr::Duration::from_millis(wait_ms) {
                        // Nobody free for too long: the caller hears congestion and the line
                        // is released (the script's no-agent branch is not in the engine).
                        self.queue.retain(|&q| q != i);
                        if let State::Queued(call) =
                            std::mem::replace(&mut self.chans[i].state, State::Idle)
                        {
                            self.send(i, MediaCommand::StopTone);
                            self.send(i, MediaCommand::SetHook(Hook::OnHook));
                            self.finish(i, now, call, CallResult::Failed, HangupCause::IvrHangup);
                        }
                    }
                }
                State::OutOfService { retry_at } if now >= *retry_at => {
                    // Try it again: a channel that fails again goes straight back out.
                    self.chans[i].state = State::Idle;
                    self.set_metric_state(i, ChannelState::Idle);
                }
                _ => {}
            }
        }
    }

    fn out_of_service(&mut self, i: usize, now: Instant) {
        self.counts.out_of_service += 1;
        let state = std::mem::replace(
            &mut self.chans[i].state,
            State::OutOfService {
                retry_at: now + ivr::Duration::from_millis(OOS_RETRY_MS),
            },
        );
        self.set_metric_state(i, ChannelState::OutOfService);
        log::warn!("channel {}: out of service", self.chans[i].id);
        match state {
            State::InIvr(call) => {
                let s = call.script;
                self.chans[i].state = State::InIvr(call);
                let ch = self.chans[i].id;
                if let State::InIvr(c) = &mut self.chans[i].state {
                    c.cause = Some(HangupCause::ChannelFailure);
                }
                let _ = self.scripts[s].engine.handle_input(Input::Media {
                    now,
                    ch,
                    event: MediaEvent::Line {
                        at: tel_types::SampleTime::ZERO,
                        event: LineEvent::OnHook,
                    },
                });
                self.drain(s, now);
                if let State::Idle = self.chans[i].state {
                    self.chans[i].state = State::OutOfService {
                        retry_at: now + ivr::Duration::from_millis(OOS_RETRY_MS),
                    };
                    self.set_metric_state(i, ChannelState::OutOfService);
                }
                // The call's record says CallerHungUp/abandoned; mark the real cause.
                if let Some(c) = self.cdrs.last_mut() {
                    if c.trunk == self.chans[i].id.0 {
                        c.hangup_cause = HangupCause::ChannelFailure;
                        c.result = CallResult::Failed;
                    }
                }
            }
            State::Queued(call) => {
                self.queue.retain(|&q| q != i);
                self.finish_keep(
                    i,
                    now,
                    call,
                    CallResult::Failed,
                    HangupCause::ChannelFailure,
                );
            }
            State::AgentRinging { call, station, .. } => {
                self.release_station(station, now);
                self.finish_keep(
                    i,
                    now,
                    call,
                    CallResult::Failed,
                    HangupCause::ChannelFailure,
                );
            }
            State::Bridged { call, station } => {
                self.release_station(station, now);
                self.finish_keep(
                    i,
                    now,
                    call,
                    CallResult::Failed,
                    HangupCause::ChannelFailure,
                );
            }
            State::Ringing { first, cid, .. } => {
                self.record_unanswered(i, now, first, cid);
            }
            State::StRinging(trunk) | State::StTalking(trunk) => {
                // The agent's phone failed: the caller goes back to the queue.
                let t = std::mem::replace(&mut self.chans[trunk].state, State::Idle);
                match t {
                    State::AgentRinging { call, .. } | State::Bridged { call, .. } => {
                        self.send(trunk, MediaCommand::Unbridge);
                        self.chans[trunk].state = State::Queued(call);
                        self.queue.push_front(trunk);
                    }
                    other => self.chans[trunk].state = other,
                }
            }
            _ => {}
        }
    }

    // ---------- records ----------

    fn finish(
        &mut self,
        i: usize,
        now: Instant,
        call: Box<Call>,
        result: CallResult,
        cause: HangupCause,
    ) {
        self.finish_keep(i, now, call, result, cause);
        self.chans[i].state = State::Idle;
        self.set_metric_state(i, ChannelState::Idle);
    }

    fn finish_keep(
        &mut self,
        i: usize,
        now: Instant,
        call: Box<Call>,
        result: CallResult,
        cause: HangupCause,
    ) {
        let mut cdr = call.cdr;
        let released = call.released.is_some();
        // The call ended for the line when it was released, even if its script ran on.
        let now = call.released.unwrap_or(now);
        if call.whole_call && !released {
            self.send_listen(i, false);
        }
        // A released line's name went when it was released; the channel may have a new call.
        if let (Some((names, _)), false) = (&self.recording, released) {
            names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&self.chans[i].id.0);
        }
        cdr.end_ms = self.wall_ms(now);
        cdr.result = result;
        cdr.hangup_cause = cause;
        if cause == HangupCause::BusyTone {
            self.counts.busy_hangups += 1;
        }
        if cause == HangupCause::Shutdown {
            self.counts.shutdown_hangups += 1;
        }
        self.counts.by_result[result as usize] += 1;
        self.counts.handled += 1;
        self.counts.handling_ms += now.as_millis().saturating_sub(call.answered_at.as_millis());
        self.metrics.call_ended(result, cause);
        self.push_cdr(cdr);
    }

    fn unanswered(&mut self, i: usize, now: Instant, first: Instant, cid: Option<CallerId>) {
        self.record_unanswered(i, now, first, cid);
        self.set_metric_state(i, ChannelState::Idle);
    }

    fn record_unanswered(&mut self, i: usize, now: Instant, first: Instant, cid: Option<CallerId>) {
        self.counts.unanswered += 1;
        if !self.stopping {
            self.counts.unanswered_running += 1;
        }
        let mut cdr = Cdr::new(self.wall_ms(first), self.chans[i].id.0);
        cdr.end_ms = self.wall_ms(now);
        cdr.caller_id = cid
            .map(|c| c.number.as_str().to_string())
            .filter(|n| !n.is_empty());
        cdr.result = CallResult::Unanswered;
        cdr.hangup_cause = HangupCause::CallerOnHook;
        self.counts.by_result[CallResult::Unanswered as usize] += 1;
        self.metrics
            .call_ended(CallResult::Unanswered, HangupCause::CallerOnHook);
        self.push_cdr(cdr);
    }

    fn push_cdr(&mut self, cdr: Cdr) {
        self.counts.cdrs += 1;
        self.cdrs.push(cdr);
    }

    // ---------- helpers ----------

    /// Sends a command to channel `i`'s pipeline. It is never lost: a full ring defers it
    /// (counted), and [`Controller::step`] sends it on, in order.
    fn send(&mut self, i: usize, cmd: MediaCommand) {
        let sent = self.handles[i].send(cmd);
        self.count_sent(i, sent);
    }

    fn send_listen(&mut self, i: usize, on: bool) {
        let sent = self.handles[i].send_listen(on);
        self.count_sent(i, sent);
    }

    /// Counts a deferred command; the first of a burst (the backlog was empty) is logged.
    fn count_sent(&mut self, i: usize, sent: media::Sent) {
        if sent == media::Sent::Deferred {
            self.counts.ring_full += 1;
            self.metrics.commands_deferred.inc();
            if self.handles[i].backlog() == 1 {
                log::warn!(
                    "channel {}: command ring full (the audio thread is behind); commands wait and go out in order",
                    self.chans[i].id
                );
            }
        }
    }

    /// A queued call's (ring timeout, longest wait) in ms: those of its group when it was
    /// handed over.
    fn group_times(&self, call: &Call) -> (u64, u64) {
        call.group_times.unwrap_or_else(|| {
            let g = &self.groups[call.transfer_group.unwrap_or(0)];
            (g.ring_timeout_ms, g.max_wait_ms)
        })
    }

    fn set_metric_state(&self, i: usize, s: ChannelState) {
        self.metrics.set_channel_state(i, s);
    }

    fn wall_ms(&self, now: Instant) -> i64 {
        self.epoch_ms + now.as_millis() as i64
    }

    /// Whether the opening hours `hours` of the first script are open at `now` (`None` if
    /// there is no script or no such hours), as the script's `open(hours)` would say (in
    /// the controller's hours mode).
    pub(crate) fn hours_open(&self, hours: &str, now: Instant) -> Option<bool> {
        let slot = self.scripts.first()?;
        let open = slot.engine.script().is_open(hours, &self.local_time(now))?;
        Some(match self.hours_mode {
            ivr::HoursMode::Script => open,
            ivr::HoursMode::Open => true,
            ivr::HoursMode::Closed => false,
        })
    }

    fn local_time(&self, now: Instant) -> ivr::LocalTime {
        let ms = self.wall_ms(now) + i64::from(self.utc_offset_min) * 60_000;
        let secs = ms.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        ivr::LocalTime {
            year: y as u16,
            month: m as u8,
            day: d as u8,
            hour: (rem / 3600) as u8,
            minute: ((rem % 3600) / 60) as u8,
        }
    }
}

/// What a call that the caller ended (or the daemon, stopping) counts as in the CDR.
fn hung_up_result(call: &Call, rec: &ivr::CallRecord) -> (CallResult, HangupCause) {
    if rec.reason == EndReason::Shutdown {
        return (CallResult::Abandoned, HangupCause::Shutdown);
    }
    let cause = call.cause.unwrap_or(HangupCause::CallerOnHook);
    let result = if rec.result == "abandoned" {
        CallResult::Abandoned
    } else {
        CallResult::SelfServed
    };
    (result, cause)
}

/// Notes a hook call in its call's CDR (the orders asked about), and names a recorded
/// message by its file (relative to the recordings folder), not the script's `rec-<slot>`.
fn prepare_hook(c: &mut Call, call: &mut HookCall) {
    if let HookCall::FindOrder { order_no } = &*call {
        c.cdr.orders.push(order_no.clone());
    }
    if let HookCall::RequestCallback {
        recording: Some(r), ..
    }
    | HookCall::AfterSales {
        recording: Some(r), ..
    } = call
    {
        if let Some(slot) = r.strip_prefix("rec-").and_then(|n| n.parse::<u32>().ok()) {
            *r = message_file(&c.cdr, slot);
        }
    }
}

/// The file (relative to the recordings folder) of the message a script records in slot
/// `slot` during the call of `cdr`: `YYYY-MM-DD/<call_id>-rec<slot>.wav`, the day the call
/// started (UTC), as the recorder names it.
pub(crate) fn message_file(cdr: &Cdr, slot: u32) -> String {
    let (y, m, d) = civil_from_days(cdr.start_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}/{}-rec{slot}.wav", cdr.call_id)
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A prompt id in the script's numbering (`PromptId` is shared by scripts and the table).
#[allow(dead_code)]
pub(crate) type ScriptPromptId = PromptId;
