//! From a [`Config`] and a board's channels to pipelines (for the audio thread) and a
//! [`Controller`] (for the control thread). Both drivers (real time and virtual time) build
//! through here, so they run the same wiring.

use std::path::Path;
use std::sync::Arc;

use ivrd::config::{CallerIdStandard, Config};
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
        trunks.push(super::reload::trunk_policy(t, script));
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
    let zone =
        dsp::zones::ToneZone::by_code(cfg.boards.first().map_or("cn", |b| b.tone_zone.as_str()))
            .unwrap_or_else(dsp::zones::ToneZone::default_zone);
    for dev in channels {
        let n = dev.number();
        let trunk = cfg
            .trunks
            .iter()
            .position(|t| t.channels.channels().contains(&n));
        let station: Vec<usize> = cfg
            .stations
            .iter()
            .filter(|s| s.channels.channels().contains(&n))
            .flat_map(|s| s.groups.iter())
            .filter_map(|g| groups.iter().position(|x| &x.name == g))
            .collect();
        let mut mc = media::Config::new(ChannelId(n), table);
        mc.law = dev.law();
        mc.zone = zone;
        mc.listen_tap_frames = 0;
        mc.command_capacity = rings.commands;
        mc.event_capacity = rings.events;
        let role = if let Some(t) = trunk {
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
            Role::Trunk(t)
        } else if !station.is_empty() {
            mc.caller_id_fsk = None;
            mc.progress_detection = false;
            mc.record_tap_frames = 0;
            if let Some(sg) = cfg
                .stations
                .iter()
                .find(|s| s.channels.channels().contains(&n))
            {
                mc.rx_gain = media::Gain::from_db(sg.rx_gain_db);
                mc.tx_gain = media::Gain::from_db(sg.tx_gain_db);
            }
            Role::Station(station)
        } else {
            continue;
        };
        let (pipe, mut handle) = media::channel(mc);
        taps.extend(handle.take_record_tap());
        call_taps.extend(handle.take_listen_tap());
        lines.push(Line { dev, pipe });
        handles.push(handle);
        roles.push(role);
    }
    let metrics_ok = metrics.channels() >= handles.len();
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
