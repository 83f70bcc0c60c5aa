//! The virtual-time driver: the simulated card, the audio loop and the controller stepped
//! in lockstep, 20 ms at a time, on one thread, with hook calls answered against the shop
//! (optionally after a simulated latency). Tests and the soak run through it: the same
//! pipelines, audio loop and controller as the daemon, only the clock is virtual.

use std::sync::Arc;

use ivr::{HookReply, Instant};
use ivrd::cdr::Cdr;
use ivrd::config::{Config, SimLoad};
use ivrd::metrics::Metrics;
use order_hooks::Shop;
use simboard::{
    DtmfManner, HoldTime, LoadGenerator, LoadProfile, Persona, SimBoard, SimChannel, Speech, Step,
};

use super::live::{Live, SimSpares};
use super::{Controller, HookJob};
use crate::audio::{AudioLoop, AudioStats, Capacity};

/// Hears a prompt, or a run of prompts, to its end: some audio, then 1.2 s of silence.
fn hear() -> Step {
    Step::WaitForSilence {
        silence_ms: 1_200,
        timeout_ms: 30_000,
    }
}

/// Hears a say-back to its end (the menu after it included): longer pauses are allowed
/// between its fragments.
fn hear_long() -> Step {
    Step::WaitForSilence {
        silence_ms: 1_500,
        timeout_ms: 90_000,
    }
}

/// A caller's reaction time before pressing a key (median 2 s).
fn think() -> Step {
    Step::WaitLogNormal {
        median_ms: 2_000,
        sigma: 0.5,
    }
}

/// How the hotline's callers press keys: a mobile or desk phone, typing a 15-digit order
/// number read off the order's text message (a key every 0.3-1 s).
fn reading_keys() -> DtmfManner {
    DtmfManner {
        duration_ms: (60, 160),
        gap_ms: (250, 900),
        ..DtmfManner::default()
    }
}

/// A hotline caller with `steps`, pressing keys as [`reading_keys`].
fn caller(name: &str, steps: Vec<Step>) -> Persona {
    let mut p = Persona::new(name, steps);
    p.dtmf = reading_keys();
    p
}

/// Stays on the line until the IVR or the agent ends the call (the simulated card hangs the
/// caller up a second after we release the line); hangs up after an hour at the latest.
fn stay() -> [Step; 2] {
    [Step::Wait(3_600_000), Step::HangUp]
}

/// The steps on the bundled shop hotline (`ivr-scripts/shop-hotline.ivr`) from the answer
/// to the order-status menu: hear the greeting and the menu (in opening hours the main
/// menu, after hours the closed menu: key 1 is order status in both), press 1.
fn to_order_menu() -> Vec<Step> {
    vec![hear(), think(), Step::press("1"), hear(), think()]
}

/// In the order-status menu: 1 (by number), type `order` and `#`, hear the status and the
/// menu after it.
fn by_number(order: &str) -> Vec<Step> {
    let mut keys = String::from(order);
    keys.push('#');
    vec![
        Step::press("1"),
        hear(),
        think(),
        Step::press(&keys),
        Step::Wait(2_000),
        hear_long(),
        think(),
    ]
}

/// An order number the sample shop does not have (its orders are dated 2020s).
const NO_SUCH_ORDER: &str = "209912310000001";

/// A caller who hears the full status of an order, then presses 9 (done) and hears the
/// goodbye.
pub(crate) fn order_by_number(order: &str) -> Arc<Persona> {
    let mut steps = to_order_menu();
    steps.extend(by_number(order));
    steps.push(Step::press("9"));
    steps.extend(stay());
    Arc::new(caller("order-status", steps))
}

/// A caller who checks two orders: the first, then 1 (another) and the second.
fn two_orders(a: &str, b: &str) -> Arc<Persona> {
    let mut steps = to_order_menu();
    steps.extend(by_number(a));
    steps.extend([Step::press("1"), hear(), think()]);
    steps.extend(by_number(b));
    steps.push(Step::press("9"));
    steps.extend(stay());
    Arc::new(caller("two-orders", steps))
}

/// A caller who mistypes: too few digits first (asked again), then a number the shop does
/// not have (not found), then 1 (try again) and the right number.
fn mistypes(order: &str) -> Arc<Persona> {
    let mut steps = to_order_menu();
    steps.extend([
        Step::press("1"),
        hear(),
        think(),
        Step::press("12345#"),
        hear(),
        think(),
        Step::press(&format!("{NO_SUCH_ORDER}#")),
        Step::Wait(2_000),
        hear_long(),
        think(),
        Step::press("1"),
        hear(),
        think(),
    ]);
    steps.extend(by_number(order));
    steps.push(Step::press("9"));
    steps.extend(stay());
    Arc::new(caller("mistypes", steps))
}

/// A caller who returns an item: 3 (returns), the order number, the reason key, a spoken
/// message of `message_ms` (the recording ends on 4 s of silence), then hears the reference
/// twice and the goodbye.
fn returns(order: &str, reason: &str, message_ms: u32, speech: Option<&Speech>) -> Arc<Persona> {
    let mut keys = String::from(order);
    keys.push('#');
    let mut steps = vec![
        hear(),
        think(),
        Step::press("3"),
        hear(),
        think(),
        Step::press(&keys),
        Step::Wait(2_000),
        hear(),
        think(),
        Step::press(reason),
        hear(),
        Step::Wait(300),
        Step::Say(message_ms),
    ];
    steps.extend(stay());
    let mut p = caller("returns", steps);
    p.speech = speech.cloned();
    Arc::new(p)
}

/// A caller who hears the status of an order and then asks for an agent (0 in the menu
/// after the status): in opening hours an agent of `orders` takes the call; after hours the
/// script books a callback.
pub(crate) fn order_then_agent(order: &str) -> Arc<Persona> {
    let mut steps = to_order_menu();
    steps.extend(by_number(order));
    steps.push(Step::press("0"));
    steps.extend(stay());
    Arc::new(caller("order-then-agent", steps))
}

/// A caller who presses `key` in the main menu (0 agent, 2 new order, 4 complaint) after
/// hearing part of it, and then talks with the agent until the agent hangs up.
fn menu_to_agent(name: &str, key: &str) -> Arc<Persona> {
    let mut steps = vec![
        Step::WaitForAudio { timeout_ms: 10_000 },
        Step::WaitLogNormal {
            median_ms: 6_000,
            sigma: 0.5,
        },
        Step::press(key),
    ];
    steps.extend(stay());
    Arc::new(caller(name, steps))
}

/// After hours: a caller who hears the closed message and menu and presses 2 (call me
/// back); the script books the callback and says goodbye.
fn callback() -> Arc<Persona> {
    let mut steps = vec![hear(), think(), Step::press("2")];
    steps.extend(stay());
    Arc::new(caller("callback", steps))
}

/// How a caller leaving an after-hours voice message behaves (a variant of the
/// `voice-message` persona).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Message<'a> {
    /// The order the message is about (keyed in with `#`), or none (`*`).
    pub(crate) order: Option<&'a str>,
    /// Median length of what the caller says, ms (lognormal, sigma 0.6, at most 115 s: the
    /// script cuts at two minutes).
    pub(crate) median_ms: u32,
    /// Ends with `#` (as the prompt asks) rather than by falling silent (the recording
    /// then ends after 5 s of silence).
    pub(crate) hash: bool,
    /// Hangs up as soon as the message is spoken, neither pressing `#` nor waiting for the
    /// confirmation (the script's `on hangup` files the message after the line is released).
    pub(crate) hangs_up: bool,
}

/// After hours: a caller who leaves a voice message (closed menu key 3): keys in the order
/// number and `#` or presses `*` for none, hears the record prompt and the beep, speaks,
/// and hears the confirmation and the goodbye.
pub(crate) fn voice_message(m: Message<'_>, speech: Option<&Speech>) -> Arc<Persona> {
    let mut steps = vec![hear(), think(), Step::press("3"), hear(), think()];
    match m.order {
        Some(order) => {
            let mut keys = String::from(order);
            keys.push('#');
            // The lookup and its hold prompt, then the record prompt and the beep.
            steps.extend([Step::press(&keys), Step::Wait(2_000)]);
        }
        None => steps.push(Step::press("*")),
    }
    steps.extend([
        hear(),
        Step::Wait(300),
        Step::SayLogNormal {
            median_ms: m.median_ms,
            sigma: 0.6,
            max_ms: 115_000,
        },
    ]);
    if m.hangs_up {
        steps.extend([Step::Wait(1_000), Step::HangUp]);
    } else {
        if m.hash {
            steps.extend([Step::Wait(600), Step::press("#")]);
        }
        steps.extend(stay());
    }
    let mut p = caller("voice-message", steps);
    p.speech = speech.cloned();
    Arc::new(p)
}

/// The variants of the `voice-message` persona and their shares: most key in the order
/// number first (those with a parcel or a return to talk about), most end with `#`; one
/// in ten hangs up straight after speaking.
fn voice_messages(orders: &[String], speech: Option<&Speech>) -> Vec<(Arc<Persona>, f64)> {
    let order = |k: usize| orders.get(k % orders.len().max(1)).map(String::as_str);
    let m = |order, median_ms, hash, hangs_up| Message {
        order,
        median_ms,
        hash,
        hangs_up,
    };
    [
        (m(order(13), MESSAGE_MEDIAN_MS, true, false), 0.30),
        (m(order(41), MESSAGE_MEDIAN_MS, false, false), 0.15),
        (m(order(57), MESSAGE_MEDIAN_MS, true, false), 0.15),
        (m(None, MESSAGE_MEDIAN_MS, true, false), 0.20),
        (m(None, MESSAGE_MEDIAN_MS, false, false), 0.10),
        (m(order(29), MESSAGE_MEDIAN_MS, true, true), 0.05),
        (m(None, MESSAGE_MEDIAN_MS, false, true), 0.05),
    ]
    .into_iter()
    .map(|(msg, w)| (voice_message(msg, speech), w))
    .collect()
}

/// Median length of an after-hours voice message, ms (lognormal, sigma 0.6: a mean of
/// about 1.2 times the median).
const MESSAGE_MEDIAN_MS: u32 = 60_000;

/// An order-status caller on a bad phone: quiet keys with strong twist, short tones and
/// gaps, a little off frequency (the simulated card's `sloppy-keys` manner).
fn sloppy_keys(order: &str) -> Arc<Persona> {
    let mut steps = to_order_menu();
    steps.extend(by_number(order));
    steps.push(Step::press("9"));
    steps.extend(stay());
    let mut p = Persona::new("sloppy-keys", steps);
    p.dtmf = simboard::personas::sloppy_keys(order, None).dtmf;
    Arc::new(p)
}

/// A caller who hangs up in the middle of the greeting.
pub(crate) fn hangs_up_mid_prompt() -> Arc<Persona> {
    Arc::new(Persona::new(
        "hangs-up",
        vec![
            Step::WaitForAudio { timeout_ms: 10_000 },
            Step::Wait(1_500),
            Step::HangUp,
        ],
    ))
}

/// Personas who want an agent from the main menu; after hours (the closed menu has no
/// agent keys) some ask for a callback, the others leave a voice message.
const AGENT_SEEKERS: &[&str] = &["wants-agent", "new-order", "complaint"];

/// The share of [`AGENT_SEEKERS`] who leave a voice message after hours rather than ask
/// for a callback.
const AGENT_SEEKERS_MESSAGE: f64 = 0.6;

/// The persona mix of a `[boards.load]` table (names in [`ivrd::config::PERSONAS`]): the
/// callers of the bundled hotline typing order numbers that exist in the shop. With `open`
/// false (the script's opening hours are closed) the callers who want an agent from the
/// main menu ask for a callback or leave a voice message, and those with a return to make
/// leave a voice message about it (the closed menu has no returns); `voice-message`
/// callers who ring in opening hours leave their message in the returns menu.
pub(crate) fn personas(load: &SimLoad, orders: &[String], open: bool) -> Vec<(Arc<Persona>, f64)> {
    let mut mix = Vec::new();
    let order = |k: usize| {
        orders
            .get(k % orders.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    let speech = Speech::recorded_english().ok();
    // Several callers with different real orders (and reasons, message lengths) share a
    // persona's weight.
    let spread = |mix: &mut Vec<_>, w: f64, v: Vec<Arc<Persona>>| {
        let n = v.len() as f64;
        mix.extend(v.into_iter().map(|p| (p, w / n)));
    };
    let mut night_callbacks = 0.0;
    let mut night_messages = 0.0;
    for (name, &w) in &load.personas {
        if !open && AGENT_SEEKERS.contains(&name.as_str()) {
            night_callbacks += w * (1.0 - AGENT_SEEKERS_MESSAGE);
            night_messages += w * AGENT_SEEKERS_MESSAGE;
            continue;
        }
        match name.as_str() {
            "order-status" => spread(
                &mut mix,
                w,
                (0..8).map(|k| order_by_number(&order(k * 7 + 1))).collect(),
            ),
            "two-orders" => spread(
                &mut mix,
                w,
                (0..4)
                    .map(|k| two_orders(&order(k * 5 + 2), &order(k * 5 + 30)))
                    .collect(),
            ),
            "mistypes" => spread(
                &mut mix,
                w,
                (0..4).map(|k| mistypes(&order(k * 9 + 4))).collect(),
            ),
            // In opening hours `voice-message` callers leave their message in the returns
            // menu (key 3 there).
            "returns" | "voice-message" if open && w > 0.0 => spread(
                &mut mix,
                w,
                (0..6)
                    .map(|k| {
                        let reason = ["1", "2", "3", "4", "5", "2"][k];
                        let message_ms = [18_000, 25_000, 32_000, 40_000, 48_000, 58_000][k];
                        returns(&order(k * 11 + 6), reason, message_ms, speech.as_ref())
                    })
                    .collect(),
            ),
            "returns" | "voice-message" => night_messages += w,
            "order-then-agent" => spread(
                &mut mix,
                w,
                vec![order_then_agent(&order(11)), order_then_agent(&order(23))],
            ),
            "wants-agent" => mix.push((menu_to_agent("wants-agent", "0"), w)),
            "new-order" => mix.push((menu_to_agent("new-order", "2"), w)),
            "complaint" => mix.push((menu_to_agent("complaint", "4"), w)),
            "callback" => night_callbacks += w,
            "hangs-up" => mix.push((hangs_up_mid_prompt(), w)),
            "impatient" => mix.push((simboard::personas::impatient(), w)),
            "sloppy-keys" => mix.push((sloppy_keys(&order(3)), w)),
            // The config check refuses other names (see ivrd::config::PERSONAS).
            other => log::warn!("unknown persona `{other}` in the load mix; ignored"),
        }
    }
    if night_callbacks > 0.0 {
        mix.push((callback(), night_callbacks));
    }
    if night_messages > 0.0 {
        mix.extend(
            voice_messages(orders, speech.as_ref())
                .into_iter()
                .map(|(p, share)| (p, night_messages * share)),
        );
    }
    mix
}

/// Shape of the agents' talk-time distribution (lognormal): a typical call centre.
const TALK_SIGMA: f64 = 0.5;

/// Attaches the load generator of `load` (the opening-hours mix) and an agent on every
/// station of `cfg`. Callers stay as long as their script takes; the agents talk for a
/// lognormal time with mean `load.hold_mean_s` and hang up.
pub(crate) fn populate(board: &mut SimBoard, cfg: &Config, load: &SimLoad, orders: &[String]) {
    board.set_load(LoadGenerator::new(LoadProfile {
        calls_per_hour: load.calls_per_hour,
        // A safety net only: the script's max-call (20 min) ends calls before this.
        hold: HoldTime::Fixed { s: 1_800.0 },
        mix: personas(load, orders, true),
        patience: None,
        seed: load.seed,
    }));
    let median_ms = load.hold_mean_s * 1000.0 / (TALK_SIGMA * TALK_SIGMA / 2.0).exp();
    for s in &cfg.stations {
        for n in s.channels.channels() {
            // Agents answer after 3–6 s (after the caller ID, which follows the first ring
            // burst), greet, talk and hang up.
            let k = u32::from(n);
            let mut agent = Persona::new(
                "agent",
                vec![
                    Step::Say(2_000),
                    Step::WaitLogNormal {
                        median_ms: median_ms as u32,
                        sigma: TALK_SIGMA as f32,
                    },
                    Step::HangUp,
                ],
            );
            agent.answer_after_ms = Some(3_000 + (k * 397) % 3_000);
            board.set_agent(n, Arc::new(agent));
        }
    }
}

/// Where virtual time starts: 2026-11-18 02:00 UTC, 10:00 on a Wednesday in China (the
/// scripts' service hours are open).
pub(crate) const EPOCH_MS: i64 = 1_794_967_200_000;

/// The virtual-time rig.
pub(crate) struct Virt {
    /// The simulated card.
    pub(crate) board: SimBoard,
    /// The audio loop over the card's channels.
    pub(crate) audio: AudioLoop<SimChannel>,
    /// The controller.
    pub(crate) ctl: Controller,
    /// Channels opened and closed by reloads ([`Virt::reload`]).
    pub(crate) live: Live<SimChannel, SimSpares>,
    /// The configuration in force.
    pub(crate) cfg: Config,
    shop: Arc<dyn Shop>,
    /// Simulated shop latency, ms (answers come back this much later).
    pub(crate) hook_latency_ms: u64,
    /// A hook that never answers (a dead shop): the engine's timeout branch runs.
    pub(crate) shop_dead: bool,
    pending: Vec<(u64, HookJob, HookReply)>,
    now_ms: u64,
    /// Every CDR produced, in order.
    pub(crate) cdrs: Vec<Cdr>,
    _poll: mio::Poll,
}

impl std::fmt::Debug for Virt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Virt")
            .field("now_ms", &self.now_ms)
            .finish_non_exhaustive()
    }
}

impl Virt {
    /// A rig over `board` (its channels not yet taken) configured by `cfg`, starting at
    /// [`EPOCH_MS`].
    #[cfg(test)]
    pub(crate) fn new(
        board: SimBoard,
        cfg: &Config,
        shop: Arc<dyn Shop>,
        metrics: &Arc<Metrics>,
    ) -> Result<Self, String> {
        Self::new_at(board, cfg, shop, metrics, EPOCH_MS)
    }

    /// [`Virt::new`] with other ring sizes between the controller and the pipelines.
    #[cfg(test)]
    pub(crate) fn with_rings(
        board: SimBoard,
        cfg: &Config,
        shop: Arc<dyn Shop>,
        metrics: &Arc<Metrics>,
        rings: super::setup::Rings,
    ) -> Result<Self, String> {
        Self::rig(board, cfg, shop, metrics, EPOCH_MS, rings)
    }

    /// A rig whose virtual time 0 is the wall time `epoch_ms` (ms since 1970).
    pub(crate) fn new_at(
        board: SimBoard,
        cfg: &Config,
        shop: Arc<dyn Shop>,
        metrics: &Arc<Metrics>,
        epoch_ms: i64,
    ) -> Result<Self, String> {
        Self::rig(
            board,
            cfg,
            shop,
            metrics,
            epoch_ms,
            super::setup::Rings::default(),
        )
    }

    fn rig(
        mut board: SimBoard,
        cfg: &Config,
        shop: Arc<dyn Shop>,
        metrics: &Arc<Metrics>,
        epoch_ms: i64,
        rings: super::setup::Rings,
    ) -> Result<Self, String> {
        // The channels the config does not name wait as spares for a reload to open.
        let (channels, spares) = SimSpares::split(cfg, board.take_all_channels());
        // Recordings are not written in virtual time (the taps are dropped; a full tap only
        // counts).
        let (lines, ctl, _taps) =
            super::setup::build_with(cfg, channels, metrics, epoch_ms, rings)?;
        let poll = mio::Poll::new().map_err(|e| e.to_string())?;
        let waker =
            Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).map_err(|e| e.to_string())?);
        let (control_side, audio_side) = crate::audio::membership(16);
        let audio = AudioLoop::with_capacity(
            lines,
            waker,
            Arc::new(AudioStats::default()),
            Capacity::new(cfg.daemon.max_channels as usize),
            Some(audio_side),
        );
        let live = Live::new(spares, control_side, rings, Box::new(|_, _| {}));
        Ok(Self {
            board,
            audio,
            ctl,
            live,
            cfg: cfg.clone(),
            shop,
            hook_latency_ms: 50,
            shop_dead: false,
            pending: Vec::new(),
            now_ms: 0,
            cdrs: Vec::new(),
            _poll: poll,
        })
    }

    /// Virtual ms since start.
    pub(crate) fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// One 20 ms frame: the card, every channel's pipeline, then the controller.
    pub(crate) fn frame(&mut self) {
        self.board.advance_ms(20);
        self.now_ms += 20;
        self.audio.apply_membership(&mut |_, _, _| true);
        self.audio.service_all();
        let now = Instant::from_millis(self.now_ms);
        self.ctl.step(now);
        self.live.step(&mut self.ctl, &self.cfg, now);
        for job in self.ctl.take_jobs() {
            if self.shop_dead {
                continue;
            }
            let reply = super::hooks::answer(
                self.shop.as_ref(),
                &job.call,
                std::time::Duration::from_millis(1500),
            );
            self.pending
                .push((self.now_ms + self.hook_latency_ms, job, reply));
        }
        let mut k = 0;
        while k < self.pending.len() {
            if self.pending[k].0 <= self.now_ms {
                let (at, job, reply) = self.pending.swap_remove(k);
                let lat = (at - job.asked.as_millis()) as f64 / 1000.0;
                self.ctl.hook_reply(now, job.ch, job.id, reply, lat);
            } else {
                k += 1;
            }
        }
        self.cdrs.extend(self.ctl.take_cdrs());
    }

    /// Reloads `cfg` (its scripts loaded from disk) as `SIGHUP` does: the controller's
    /// part, and channels opened and closed from the next frame on.
    ///
    /// # Errors
    /// As [`Controller::reload`].
    #[cfg(test)]
    pub(crate) fn reload(&mut self, cfg: &Config) -> Result<Vec<String>, String> {
        let scripts = super::setup::load_scripts(cfg)?;
        let log = self.ctl.reload(cfg, scripts, None)?;
        self.cfg = cfg.clone();
        Ok(log)
    }

    /// Runs `ms` of virtual time.
    pub(crate) fn run_ms(&mut self, ms: u64) {
        for _ in 0..ms / 20 {
            self.frame();
        }
    }
}
