//! `SIGHUP` inside the controller: a new configuration's scripts, trunk groups, agent
//! groups and line settings, applied without dropping a call.
//!
//! - **New calls** get the new scripts (each a new engine version; calls in progress keep
//!   theirs), the trunk → script mapping, the record flag and the agent groups.
//! - **Idle channels** get the new line settings: rings before answering, caller ID,
//!   polarity and busy-tone hang-up (the controller's), gains, busy-tone detection and the
//!   FSK modem (the pipeline's, sent as one [`media::LineSettings`] command). A channel in a
//!   call keeps the settings it had until the call ends.
//! - **Channels** the new configuration adds are opened, those it drops are closed when
//!   idle, and those that change between trunk and station are closed when idle and
//!   opened again in their new role (see [`super::members`]).
//! - Everything is checked before anything changes: a reload that cannot be applied whole
//!   is refused whole and the running configuration stays.

use std::sync::Arc;

use ivrd::config::{CallerIdStandard, Config, TrunkGroup};

use super::prompts::PromptNames;
use super::{Controller, GroupPolicy, LinePolicy, Role, ScriptSlot, State, TrunkPolicy};

/// What a reload changes on a channel once it is idle.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    role: Role,
    line: Option<LinePolicy>,
    settings: media::LineSettings,
}

/// The pipeline settings of trunk group `t`.
fn trunk_settings(t: &TrunkGroup) -> media::LineSettings {
    media::LineSettings::new(
        media::Gain::from_db(t.rx_gain_db),
        media::Gain::from_db(t.tx_gain_db),
        t.busy_tone.disconnect,
        match t.caller_id.standard {
            CallerIdStandard::FskBell202 => Some(dsp::fsk::FskModem::Bell202),
            CallerIdStandard::FskV23 => Some(dsp::fsk::FskModem::V23),
            _ => None,
        },
    )
}

/// The controller's policy of trunk group `t`, running script slot `script`; its calls
/// start in the group's language, or `default_language` (`prompts.default_language`).
pub(crate) fn trunk_policy(t: &TrunkGroup, script: usize, default_language: &str) -> TrunkPolicy {
    TrunkPolicy {
        name: t.name.clone(),
        script,
        language: t
            .language
            .clone()
            .unwrap_or_else(|| default_language.to_owned()),
        answer_after_rings: t.answer_after_rings,
        caller_id: t.caller_id.standard != CallerIdStandard::None,
        hangup_on_polarity: t.hangup_on_polarity,
        busy_disconnect: t.busy_tone.disconnect,
        record: t.record,
    }
}

impl Controller {
    /// Applies `cfg` with its freshly loaded `scripts` (every script of `cfg`, by name).
    /// Returns one line per change for the log, or why nothing was changed.
    ///
    /// # Errors
    /// A script plays a prompt that was not loaded at start, or a trunk group names a
    /// script that is not there. Nothing is changed then.
    pub(crate) fn reload(
        &mut self,
        cfg: &Config,
        scripts: Vec<(String, ivr::Script)>,
        pack: Option<(&'static media::PromptTable, PromptNames)>,
    ) -> Result<Vec<String>, String> {
        // 1. Check everything first.
        let names = pack.as_ref().map_or(&*self.names, |p| &p.1);
        for (name, script) in &scripts {
            let missing = names.missing(script);
            if !missing.is_empty() {
                return Err(format!(
                    "script `{name}` plays prompts the prompt pack does not have (add the WAV files to the pack first): {}",
                    missing.join(", ")
                ));
            }
        }
        let slot_of = |name: &str, slots: &[ScriptSlot], new: &[(String, ivr::Script)]| {
            slots.iter().position(|s| s.name == name).or_else(|| {
                new.iter()
                    .filter(|(n, _)| !slots.iter().any(|s| &s.name == n))
                    .position(|(n, _)| n == name)
                    .map(|k| slots.len() + k)
            })
        };
        let mut trunks = Vec::with_capacity(cfg.trunks.len());
        for t in &cfg.trunks {
            if !scripts.iter().any(|(n, _)| n == &t.script) {
                return Err(format!(
                    "trunk group `{}`: no script `{}`",
                    t.name, t.script
                ));
            }
            let slot = slot_of(&t.script, &self.scripts, &scripts).unwrap_or(0);
            trunks.push(trunk_policy(t, slot, &cfg.prompts.default_language));
        }

        // 2. The prompt pack: new calls play from the new table (each channel switches
        //    between calls); calls in progress finish on the old one.
        let mut log = Vec::new();
        if let Some((table, names)) = pack {
            log.push(format!(
                "prompts: {} loaded; new calls play them, calls in progress finish on the old pack",
                names.len()
            ));
            self.names = Arc::new(names);
            self.table = table;
            self.table_gen += 1;
            for slot in &mut self.scripts {
                slot.map = Arc::new(self.names.map_for(slot.engine.script()));
            }
        }

        // 3. Scripts: a new version of each for new calls (in the hours mode set below).
        for (name, script) in scripts {
            match self.scripts.iter_mut().find(|s| s.name == name) {
                Some(slot) => {
                    slot.map = Arc::new(self.names.map_for(&script));
                    let v = slot.engine.load(script);
                    log.push(format!("script `{name}` version {v} takes new calls"));
                }
                None => {
                    self.scripts
                        .push(ScriptSlot::new(&name, script, &self.names));
                    log.push(format!("script `{name}` added; it takes new calls"));
                }
            }
        }

        // Opening hours: every script's `open(...)` answers by the new setting from now on.
        let hours = cfg.daemon.hours.mode();
        if hours != self.hours_mode {
            self.set_hours_mode(hours);
            log.push(format!(
                "hours: {}",
                match hours {
                    ivr::HoursMode::Script => "the scripts' hours tables decide again",
                    ivr::HoursMode::Open => "open round the clock (every hours table reads open)",
                    ivr::HoursMode::Closed => "closed: night service all day",
                }
            ));
        }

        // 4. Agent groups, by name (indices stay valid for calls queued on them).
        for g in &cfg.agent_groups {
            let policy = GroupPolicy {
                name: g.name.clone(),
                ring_timeout_ms: u64::from(g.ring_timeout_s) * 1000,
                max_wait_ms: u64::from(g.max_wait_s) * 1000,
            };
            match self.groups.iter_mut().find(|x| x.name == g.name) {
                Some(old) => *old = policy,
                None => {
                    log.push(format!("agent group `{}` added", g.name));
                    self.groups.push(policy);
                    self.rr.push(0);
                }
            }
        }

        // 5. Trunk groups: channels in a call keep the line settings they have; groups
        //    that were removed stay (after the new ones) for the channels still on them.
        for c in &mut self.chans {
            if let Role::Trunk(t) = c.role {
                if c.line.is_none() && !matches!(c.state, State::Idle) {
                    c.line = Some(self.trunks[t].line());
                }
            }
        }
        for old in &self.trunks {
            if !trunks.iter().any(|t| t.name == old.name) {
                trunks.push(old.clone());
            }
        }
        let old_trunks = std::mem::replace(&mut self.trunks, trunks);
        for c in &mut self.chans {
            if let Role::Trunk(t) = c.role {
                let name = &old_trunks[t].name;
                if let Some(k) = self.trunks.iter().position(|x| &x.name == name) {
                    c.role = Role::Trunk(k);
                }
            }
        }

        // 6. Channels opened, closed or re-roled (see `members`), then each staying
        //    channel's new line settings, for when it is idle.
        let now = self.last_step;
        log.extend(self.plan_members(cfg, now));
        for i in 0..self.chans.len() {
            if self.chans[i].leaving
                || matches!(self.chans[i].state, State::Vacant | State::Closing)
            {
                self.chans[i].pending = None;
                continue;
            }
            let n = self.chans[i].id.0;
            let trunk = cfg
                .trunks
                .iter()
                .position(|t| t.channels.channels().contains(&n));
            let pending = if let Some(t) = trunk {
                let group = &cfg.trunks[t];
                let k = self
                    .trunks
                    .iter()
                    .position(|x| x.name == group.name)
                    .unwrap_or(t);
                Pending {
                    role: Role::Trunk(k),
                    line: Some(self.trunks[k].line()),
                    settings: trunk_settings(group),
                }
            } else {
                let stations: Vec<_> = cfg
                    .stations
                    .iter()
                    .filter(|s| s.channels.channels().contains(&n))
                    .collect();
                let Some(s) = stations.first() else {
                    continue;
                };
                let groups: Vec<usize> = stations
                    .iter()
                    .flat_map(|s| s.groups.iter())
                    .filter_map(|g| self.groups.iter().position(|x| &x.name == g))
                    .collect();
                Pending {
                    role: Role::Station(groups),
                    line: None,
                    settings: media::LineSettings::new(
                        media::Gain::from_db(s.rx_gain_db),
                        media::Gain::from_db(s.tx_gain_db),
                        false,
                        None,
                    ),
                }
            };
            self.chans[i].pending = Some(pending);
        }
        self.apply_pending(now);
        Ok(log)
    }

    /// Whole-call recordings of calls answered from now on go under `dir` (their CDRs name
    /// it); calls being recorded finish where they started.
    pub(crate) fn set_recordings_dir(&mut self, dir: &std::path::Path) {
        if let Some((_, d)) = &mut self.recording {
            *d = dir.to_path_buf();
        }
    }

    /// Switches channel `i`'s pipeline to the current prompt table if it plays from an
    /// older one. Only between calls.
    pub(super) fn ensure_table(&mut self, i: usize) {
        if self.chans[i].table_gen != self.table_gen {
            self.chans[i].table_gen = self.table_gen;
            let sent = self.handles[i].send_prompt_table(self.table);
            self.count_sent(i, sent);
        }
    }

    /// Applies what a reload left for each channel that is idle now.
    pub(super) fn apply_pending(&mut self, _now: ivr::Instant) {
        for i in 0..self.chans.len() {
            if matches!(self.chans[i].state, State::Idle) {
                self.ensure_table(i);
            }
            if self.chans[i].pending.is_none()
                || !matches!(
                    self.chans[i].state,
                    State::Idle | State::OutOfService { .. }
                )
            {
                continue;
            }
            let Some(p) = self.chans[i].pending.take() else {
                continue;
            };
            self.chans[i].role = p.role;
            self.chans[i].line = p.line;
            let sent = self.handles[i].send_line_settings(p.settings);
            self.count_sent(i, sent);
            log::debug!("channel {}: new line settings", self.chans[i].id);
        }
    }

    /// The line settings in force on channel `id` (tests).
    #[cfg(test)]
    pub(crate) fn line_policy(&self, id: tel_types::ChannelId) -> Option<LinePolicy> {
        let i = *self.index_of.get(&id)?;
        match self.chans[i].role {
            Role::Trunk(t) => Some(self.chans[i].line.unwrap_or_else(|| self.trunks[t].line())),
            Role::Station(_) => None,
        }
    }
}
