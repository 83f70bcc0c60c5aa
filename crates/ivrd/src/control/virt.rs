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
use simboard::{HoldTime, LoadGenerator, LoadProfile, Persona, SimBoard, SimChannel, Step};

use super::{Controller, HookJob};
use crate::audio::{AudioLoop, AudioStats};

/// The steps of a caller on the bundled shop hotline who asks for an order's status: 1
/// (order status), 1 (by number), the order number and `#`, then listens to the status.
fn hear_order_status(order: &str) -> Vec<Step> {
    let wait = || Step::WaitForSilence {
        silence_ms: 700,
        timeout_ms: 15_000,
    };
    let mut keys = String::from(order);
    keys.push('#');
    vec![
        wait(),
        Step::press("1"),
        wait(),
        Step::press("1"),
        wait(),
        Step::press(&keys),
        Step::Wait(2_000),
        Step::WaitForSilence {
            silence_ms: 1_500,
            timeout_ms: 40_000,
        },
    ]
}

/// A caller who hears the status of an order, then presses 9 (done) and hangs up after the
/// goodbye.
pub(crate) fn order_by_number(order: &str) -> Arc<Persona> {
    let mut steps = hear_order_status(order);
    steps.extend([Step::press("9"), Step::Wait(6_000), Step::HangUp]);
    Arc::new(Persona::new("order-status", steps))
}

/// A caller who hears the status of an order and then asks for an agent (0 in the menu
/// after the status) and talks until the hold time ends the call.
pub(crate) fn order_then_agent(order: &str) -> Arc<Persona> {
    let mut steps = hear_order_status(order);
    steps.extend([Step::press("0"), Step::Wait(3_600_000)]);
    Arc::new(Persona::new("order-then-agent", steps))
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

/// The persona mix of a `[boards.load]` table: names from the simulated card's library, the
/// order-status callers typing order numbers that exist in the shop.
pub(crate) fn personas(load: &SimLoad, orders: &[String]) -> Vec<(Arc<Persona>, f64)> {
    let mut mix = Vec::new();
    let order = |k: usize| {
        orders
            .get(k % orders.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    for (name, &w) in &load.personas {
        match name.as_str() {
            "order-status" => {
                // Several callers with different real orders share the weight.
                let n = orders.len().clamp(1, 8);
                for k in 0..n {
                    mix.push((order_by_number(&order(k * 7 + 1)), w / n as f64));
                }
            }
            "order-then-agent" => {
                mix.push((order_then_agent(&order(11)), w / 2.0));
                mix.push((order_then_agent(&order(23)), w / 2.0));
            }
            "wants-agent" => mix.push((simboard::personas::wants_agent(None), w)),
            "hangs-up" => mix.push((hangs_up_mid_prompt(), w)),
            "impatient" => mix.push((simboard::personas::impatient(), w)),
            "sloppy-keys" => mix.push((simboard::personas::sloppy_keys(&order(3), None), w)),
            other => log::warn!("unknown persona `{other}` in the load mix; ignored"),
        }
    }
    mix
}

/// Attaches the load generator of `load` and an agent on every station of `cfg`.
pub(crate) fn populate(board: &mut SimBoard, cfg: &Config, load: &SimLoad, orders: &[String]) {
    board.set_load(LoadGenerator::new(LoadProfile {
        calls_per_hour: load.calls_per_hour,
        hold: HoldTime::Exponential {
            mean_s: load.hold_mean_s,
        },
        mix: personas(load, orders),
        patience: None,
        seed: load.seed,
    }));
    for s in &cfg.stations {
        for n in s.channels.channels() {
            // Agents answer after 4–7 s (after the caller ID, which follows the first ring burst)
            // and talk until the caller hangs up (or 10 minutes).
            let k = u32::from(n);
            board.set_agent(
                n,
                simboard::personas::agent(
                    4_000 + (k * 397) % 3_000,
                    40_000 + (k * 7_919) % 40_000,
                    None,
                ),
            );
        }
    }
}

/// The virtual-time rig.
pub(crate) struct Virt {
    /// The simulated card.
    pub(crate) board: SimBoard,
    /// The audio loop over the card's channels.
    pub(crate) audio: AudioLoop<SimChannel>,
    /// The controller.
    pub(crate) ctl: Controller,
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
    /// A rig over `board` (its channels not yet taken) configured by `cfg`.
    pub(crate) fn new(
        board: SimBoard,
        cfg: &Config,
        shop: Arc<dyn Shop>,
        metrics: &Arc<Metrics>,
    ) -> Result<Self, String> {
        Self::with_rings(board, cfg, shop, metrics, super::setup::Rings::default())
    }

    /// [`Virt::new`] with other ring sizes between the controller and the pipelines.
    pub(crate) fn with_rings(
        mut board: SimBoard,
        cfg: &Config,
        shop: Arc<dyn Shop>,
        metrics: &Arc<Metrics>,
        rings: super::setup::Rings,
    ) -> Result<Self, String> {
        let channels = board.take_all_channels();
        // Recordings are not written in virtual time (the taps are dropped; a full tap only
        // counts).
        let (lines, ctl, _taps) =
            super::setup::build_with(cfg, channels, metrics, 1_794_967_200_000, rings)?;
        let poll = mio::Poll::new().map_err(|e| e.to_string())?;
        let waker =
            Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).map_err(|e| e.to_string())?);
        let audio = AudioLoop::new(lines, waker, Arc::new(AudioStats::default()));
        Ok(Self {
            board,
            audio,
            ctl,
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
        self.audio.service_all();
        let now = Instant::from_millis(self.now_ms);
        self.ctl.step(now);
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

    /// Runs `ms` of virtual time.
    pub(crate) fn run_ms(&mut self, ms: u64) {
        for _ in 0..ms / 20 {
            self.frame();
        }
    }
}
