//! From a [`Config`] and a board's channels to pipelines (for the audio thread) and a
//! [`Controller`] (for the control thread). Both drivers (real time and virtual time) build
//! through here, so they run the same wiring.

use std::path::Path;
use std::sync::Arc;

use ivrd::config::{BridgeMode, CallerIdStandard, Config};
use ivrd::metrics::Metrics;
use tel_types::ChannelId;
use tel_types::board::VoiceChannel;

use super::prompts::load_pack;
use super::{Controller, GroupPolicy, Plan, Role, ScriptSlot};
use crate::audio::Line;

/// Loads a script, returning every diagnostic as one text on refusal.
pub(crate) fn load_script(path: &Path) -> Result<ivr::Script, String> {
    ivr::Script::load(&path.to_string_lossy(), |p| std::fs::read_to_string(p)).map_err(|e| {
        e.diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Loads every configured script (name, script), refusing on the first broken one.
pub(crate) fn load_scripts(cfg: &Config) -> Result<Vec<(String, ivr::Script)>, String> {
    cfg.scripts
        .iter()
        .map(|(name, path)| {
            load_script(path)
                .map(|s| (name.clone(), s))
                .map_err(|e| format!("script `{name}` ({}) refused:\n{e}", path.display()))
        })
        .collect()
}

/// What [`build`] makes: the audio thread's lines, the controller, the recording taps.
pub(crate) type Built<C> = (Vec<Line<C>>, Controller, Taps);

/// The recording taps: script recordings, whole calls (listen taps of `record = true`
/// trunks), and the table naming each recorded call.
#[derive(Debug)]
pub(crate) struct Taps {
    /// Script recordings.
    pub(crate) scripts: Vec<media::TapConsumer>,
    /// Whole calls.
    pub(crate) calls: Vec<media::TapConsumer>,
    /// Channel → the call being recorded.
    pub(crate) names: super::recorder::CallNames,
}

/// The per-channel rings between the control and audio threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rings {
    /// Commands the control side can queue before the audio thread takes them (more wait
    /// in the control side's backlog; none is lost).
    pub(crate) commands: usize,
    /// Events the audio thread can queue before the control side takes them.
    pub(crate) events: usize,
}

impl Default for Rings {
    fn default() -> Self {
        // A say-back queues a dozen fragments at once; room for several.
        Self {
            commands: 128,
            events: 128,
        }
    }
}

/// What the config makes of one channel.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A trunk of `cfg.trunks[n]`.
    Trunk(usize),
    /// An agent station in these agent groups (by name).
    Station(Vec<String>),
}

/// One channel's pipeline settings, as the config says: what [`build`] makes at start and
/// a reload makes for a channel it opens.
#[derive(Debug)]
pub(crate) struct ChannelPlan {
    /// Trunk or station.
    pub(crate) kind: Kind,
    /// The pipeline's configuration.
    pub(crate) media: media::Config,
    /// The board may bridge it ([`Line::hw_bridge`]).
    pub(crate) hw_bridge: bool,
}

impl ChannelPlan {
    /// The audio thread's line for `dev` and the control side's handle.
    pub(crate) fn line<C>(self, dev: C) -> (Line<C>, media::ControlHandle) {
        let (pipe, handle) = media::channel(self.media);
        (
            Line {
                dev,
                pipe,
                hw_bridge: self.hw_bridge,
            },
            handle,
        )
    }
}

/// What channel `n` (coded in `law`) is in `cfg`, with its pipeline playing from `table`;
/// `None` if the config names it neither trunk nor station.
pub(crate) fn channel_plan(
    cfg: &Config,
    n: u16,
    law: tel_types::Law,
    table: &'static media::PromptTable,
    rings: Rings,
) -> Option<ChannelPlan> {
    let zone =
        dsp::zones::ToneZone::by_code(cfg.boards.first().map_or("cn", |b| b.tone_zone.as_str()))
            .unwrap_or_else(dsp::zones::ToneZone::default_zone);
    // `bridge = "kernel"` on the channel's board; see `Line::hw_bridge`. There is one
    // board (the config check refuses a second), and a reload keeps the running board's
    // settings even if it renamed it, so a name the boards do not have means that board.
    let kernel_bridge = |board: &str| {
        let b = cfg
            .boards
            .iter()
            .find(|b| b.name == board)
            .or(cfg.boards.first());
        b.is_some_and(|b| b.bridge == BridgeMode::Kernel)
    };
    let mut mc = media::Config::new(ChannelId(n), table);
    mc.law = law;
    mc.zone = zone;
    mc.listen_tap_frames = 0;
    mc.command_capacity = rings.commands;
    mc.event_capacity = rings.events;
    if let Some(t) = cfg
        .trunks
        .iter()
        .position(|t| t.channels.channels().contains(&n))
    {
        let tc = &cfg.trunks[t];
        mc.caller_id_fsk = match tc.caller_id.standard {
            CallerIdStandard::FskBell202 => Some(dsp::fsk::FskModem::Bell202),
            CallerIdStandard::FskV23 => Some(dsp::fsk::FskModem::V23),
            _ => None,
        };
        mc.progress_detection = tc.busy_tone.disconnect;
        // Every trunk has the whole-call tap, so a reload can turn `record` on; it
        // carries audio only while a recorded call is up.
        mc.listen_tap_frames = 50;
        mc.rx_gain = media::Gain::from_db(tc.rx_gain_db);
        mc.tx_gain = media::Gain::from_db(tc.tx_gain_db);
        // A recorded call still stays in user space (the recording tap would not hear
        // the agent in a kernel bridge): the audio loop decides that per bridge, as a
        // reload can turn `record` on.
        return Some(ChannelPlan {
            kind: Kind::Trunk(t),
            media: mc,
            hw_bridge: kernel_bridge(&tc.board),
        });
    }
    let stations: Vec<_> = cfg
        .stations
        .iter()
        .filter(|s| s.channels.channels().contains(&n))
        .collect();
    let first = stations.first()?;
    mc.caller_id_fsk = None;
    mc.progress_detection = false;
    mc.record_tap_frames = 0;
    mc.rx_gain = media::Gain::from_db(first.rx_gain_db);
    mc.tx_gain = media::Gain::from_db(first.tx_gain_db);
    Some(ChannelPlan {
        kind: Kind::Station(
            stations
                .iter()
                .flat_map(|s| s.groups.iter().cloned())
                .collect(),
        ),
        media: mc,
        hw_bridge: kernel_bridge(&first.board),
    })
}

/// Pipelines for `channels` and the controller over their handles. Channels the config does
/// not name (neither trunk nor station) are left out.
pub(crate) fn build<C: VoiceChannel>(
    cfg: &Config,
    channels: Vec<C>,
    metrics: &Arc<Metrics>,
    epoch_ms: i64,
) -> Result<Built<C>, String> {
    build_with(cfg, channels, metrics, epoch_ms, Rings::default())
}

/// [`build`] with other ring sizes (tests force full rings with small ones).
pub(crate) fn build_with<C: VoiceChannel>(
    cfg: &Config,
    channels: Vec<C>,
    metrics: &Arc<Metrics>,
    epoch_ms: i64,
    rings: Rings,
) -> Result<Built<C>, String> {
    let (table, prompt_names) = load_pack(&cfg.prompts.dir);
    log::info!(
        "prompts: {} loaded from {}",
        prompt_names.len(),
        cfg.prompts.dir.display()
    );
    let loaded = load_scripts(cfg)?;
    let mut scripts = Vec::new();
    for (name, script) in loaded {
        let missing = prompt_names.missing(&script);
        if !missing.is_empty() {
            log::warn!(
                "script `{name}`: {} prompt(s) have no WAV file and play as silence: {}",
                missing.len(),
                missing.join(", ")
            );
        }
        scripts.push(ScriptSlot::new(&name, script, &prompt_names));
    }
    let script_index = |n: &str| scripts.iter().position(|s| s.name == n);
    let mut trunks = Vec::new();
    for t in &cfg.trunks {
        let Some(script) = script_index(&t.script) else {
            return Err(format!(
                "trunk group `{}`: no script `{}`",
                t.name, t.script
            ));
        };
        trunks.push(super::reload::trunk_policy(
            t,
            script,
            &cfg.prompts.default_language,
        ));
    }
    let groups: Vec<GroupPolicy> = cfg
        .agent_groups
        .iter()
        .map(|g| GroupPolicy {
            name: g.name.clone(),
            ring_timeout_ms: u64::from(g.ring_timeout_s) * 1000,
            max_wait_ms: u64::from(g.max_wait_s) * 1000,
        })
        .collect();
    let mut lines = Vec::new();
    let mut handles = Vec::new();
    let mut roles = Vec::new();
    let mut taps = Vec::new();
    let mut call_taps = Vec::new();
    for dev in channels {
        let Some(plan) = channel_plan(cfg, dev.number(), dev.law(), table, rings) else {
            continue;
        };
        let role = match &plan.kind {
            Kind::Trunk(t) => Role::Trunk(*t),
            Kind::Station(names) => {
                let station: Vec<usize> = names
                    .iter()
                    .filter_map(|g| groups.iter().position(|x| &x.name == g))
                    .collect();
                if station.is_empty() {
                    continue;
                }
                Role::Station(station)
            }
        };
        let (line, mut handle) = plan.line(dev);
        taps.extend(handle.take_record_tap());
        call_taps.extend(handle.take_listen_tap());
        lines.push(line);
        handles.push(handle);
        roles.push(role);
    }
    let metrics_ok = metrics.capacity() >= handles.len();
    if !metrics_ok {
        log::warn!("metrics sized for fewer channels than configured");
    }
    let names = super::recorder::CallNames::default();
    let mut ctl = Controller::new(
        handles,
        roles,
        Plan {
            trunks,
            groups,
            scripts,
            names: Arc::new(prompt_names),
            table,
        },
        Arc::clone(metrics),
        epoch_ms,
    );
    ctl.set_recording(Arc::clone(&names), &cfg.recordings.dir);
    ctl.set_max_channels(cfg.daemon.max_channels as usize);
    ctl.set_hours_mode(cfg.daemon.hours.mode());
    Ok((
        lines,
        ctl,
        Taps {
            scripts: taps,
            calls: call_taps,
            names,
        },
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use ivrd::config::Config;
    use ivrd::metrics::Metrics;
    use tel_types::board::VoiceChannel;

    /// Which channels `build` lets the board bridge, for a board with `bridge`.
    fn kernel_allowed(bridge: &str) -> Vec<(u16, bool)> {
        let r = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = format!(
            r#"
[[boards]]
name = "card0"
kind = "dahdi"
{bridge}

[[trunks]]
name = "recorded"
board = "card0"
channels = "1-2"
script = "main"
record = true

[[trunks]]
name = "plain"
board = "card0"
channels = "3-4"
script = "main"

[[stations]]
board = "card0"
channels = "9-10"
groups = ["sales"]

[[agent_groups]]
name = "sales"

[scripts]
main = "{r}/ivr-scripts/shop-hotline.ivr"

[prompts]
dir = "{r}/ivr-scripts/prompts"

[order_hooks]
backend = "sqlite"
path = "/nonexistent/shop.sqlite"

[recordings]
dir = "/nonexistent/recordings"

[cdr]
path = "/nonexistent/cdr.sqlite"
"#,
            r = r.display()
        );
        let cfg = Config::parse(&text, &r.join("test.toml")).unwrap_or_else(|e| panic!("{e}"));
        let profile =
            simboard::Profile::load(r.join("firmware-stubs/analog-8fxo-8fxs.toml")).unwrap();
        let channels: Vec<_> =
            simboard::SimBoard::with_options(profile, simboard::BoardOptions::default())
                .take_all_channels()
                .into_iter()
                .filter(|c| [1, 2, 3, 4, 9, 10].contains(&c.number()))
                .collect();
        let metrics = Arc::new(Metrics::new(channels.len()));
        let (lines, _ctl, _taps) = super::build(&cfg, channels, &metrics, 0).unwrap();
        lines
            .iter()
            .map(|l| (l.dev.number(), l.hw_bridge))
            .collect()
    }

    #[test]
    fn kernel_bridging_is_offered_on_kernel_boards_only() {
        // Recorded trunks too: whether a call records is decided per bridge by the
        // audio loop (a reload can turn `record` on).
        assert_eq!(
            kernel_allowed("bridge = \"kernel\""),
            [
                (1, true),
                (2, true),
                (3, true),
                (4, true),
                (9, true),
                (10, true)
            ]
        );
        assert!(kernel_allowed("").iter().all(|&(_, hw)| !hw));
        assert!(
            kernel_allowed("bridge = \"user\"")
                .iter()
                .all(|&(_, hw)| !hw)
        );
    }
}
