//! Channels opened, closed and re-roled by a reload, on the controller's side.
//!
//! The controller owns one slot per channel; a slot's index is also the channel's index in
//! the metrics registry. Slots never move: a closed channel's slot becomes vacant
//! ([`State::Vacant`]) and the next channel opened takes the first vacant slot (or a new one,
//! up to `daemon.max_channels`). The channel id ↔ slot map is `Controller::index_of`.
//!
//! - **Removed** from the config: the channel is flagged `leaving`. A call in progress
//!   finishes first; when the channel is idle (or out of service) it answers nothing more
//!   ([`State::Closing`]) and its id goes out through [`Controller::take_closes`] for the
//!   audio thread, which takes the line out of service and hands it back;
//!   [`Controller::closed`] then makes the slot vacant.
//! - **Added**: the number waits in `wanted` until [`Controller::take_opens`] hands it out;
//!   the caller opens the channel, builds its pipeline with [`super::setup::channel_plan`]
//!   and gives the handle to [`Controller::add_channel`]. A channel that does not open
//!   ([`Controller::open_failed`]) is tried again after the out-of-service retry time.
//! - **Re-roled** (trunk ↔ station): removed as above, then opened again with its new role.
//!
//! Nothing here does I/O; time is an argument, as everywhere in the controller.

use ivr::Instant;
use ivrd::config::Config;
use ivrd::metrics::ChannelState;
use media::ControlHandle;
use tel_types::ChannelId;

use super::setup::Kind;
use super::{Chan, Controller, OOS_RETRY_MS, Role, State};

/// A channel the config names that is not open yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted {
    /// Its number.
    pub(crate) n: u16,
    /// Not tried before this time (after an open failed).
    pub(crate) retry_at: Instant,
    /// Failed opens in a row.
    pub(crate) failures: u32,
}

impl Controller {
    /// Called by [`Controller::reload`] with the new config: flags channels to close,
    /// notes channels to open. Returns log lines.
    pub(super) fn plan_members(&mut self, cfg: &Config, now: Instant) -> Vec<String> {
        let configured = configured_numbers(cfg);
        let mut log = Vec::new();
        let (mut removed, mut moved, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        for c in &mut self.chans {
            if matches!(c.state, State::Vacant) {
                continue;
            }
            let n = c.id.0;
            let want = kind_of(cfg, n);
            let same = matches!(
                (&c.role, &want),
                (Role::Trunk(_), Some(Kind::Trunk(_))) | (Role::Station(_), Some(Kind::Station(_)))
            );
            let leaving = !same;
            if leaving && !c.leaving && !matches!(c.state, State::Closing) {
                if want.is_some() {
                    moved.push(n);
                } else {
                    removed.push(n);
                }
            }
            if !leaving && c.leaving && !matches!(c.state, State::Closing) {
                kept.push(n);
            }
            // A channel already handed to the audio thread closes anyway (and opens again
            // if the config still names it).
            c.leaving = leaving;
        }
        // Open what is configured and not open to stay (a re-roled channel reopens once
        // it is closed).
        let staying = |n: u16, chans: &[Chan]| {
            chans.iter().any(|c| {
                c.id.0 == n && !c.leaving && !matches!(c.state, State::Vacant | State::Closing)
            })
        };
        let mut added = Vec::new();
        let old = std::mem::take(&mut self.wanted);
        for &n in &configured {
            if staying(n, &self.chans) {
                continue;
            }
            match old.iter().find(|w| w.n == n) {
                Some(w) => self.wanted.push(*w),
                None => {
                    if !moved.contains(&n) {
                        added.push(n);
                    }
                    self.wanted.push(Wanted {
                        n,
                        retry_at: now,
                        failures: 0,
                    });
                }
            }
        }
        if !added.is_empty() {
            log.push(format!("channel(s) {added:?} added: opened now"));
        }
        if !removed.is_empty() {
            log.push(format!(
                "channel(s) {removed:?} removed: each closes when idle (a call in progress finishes first)"
            ));
        }
        if !moved.is_empty() {
            log.push(format!(
                "channel(s) {moved:?} change between trunk and station: each closes when idle and opens again in its new role"
            ));
        }
        if !kept.is_empty() {
            log.push(format!(
                "channel(s) {kept:?} configured again before they closed: they stay"
            ));
        }
        let open = self.open_channels() + self.wanted.len();
        if open > self.max_channels {
            log.push(format!(
                "daemon.max_channels is {}: {} channel(s) configured; those beyond it are not opened",
                self.max_channels, open
            ));
        }
        log
    }

    /// Channels open (not vacant).
    pub(crate) fn open_channels(&self) -> usize {
        self.chans
            .iter()
            .filter(|c| !matches!(c.state, State::Vacant))
            .count()
    }

    /// Closes the leaving channels that are idle or out of service now.
    pub(super) fn close_leaving(&mut self) {
        for i in 0..self.chans.len() {
            let c = &self.chans[i];
            if c.leaving && matches!(c.state, State::Idle | State::OutOfService { .. }) {
                self.chans[i].state = State::Closing;
                self.chans[i].pending = None;
                self.set_metric_state(i, ChannelState::Closing);
                self.closes.push(self.chans[i].id);
            }
        }
    }

    /// Channels to take out of the audio loop (each comes back through
    /// [`Controller::closed`]).
    pub(crate) fn take_closes(&mut self) -> Vec<ChannelId> {
        std::mem::take(&mut self.closes)
    }

    /// The audio thread handed channel `id` back: its slot is vacant now.
    pub(crate) fn closed(&mut self, id: ChannelId, now: Instant) {
        let Some(i) = self.index_of.remove(&id) else {
            return;
        };
        self.chans[i].state = State::Vacant;
        self.chans[i].leaving = false;
        self.metrics.close_channel(i);
        log::info!("channel {}: closed", id.0);
        // Re-roled: it may open again at once.
        if let Some(w) = self.wanted.iter_mut().find(|w| w.n == id.0) {
            w.retry_at = w.retry_at.min(now);
        }
    }

    /// Channel numbers to open now (each answered by [`Controller::add_channel`] or
    /// [`Controller::open_failed`]), at most as many as `daemon.max_channels` leaves room
    /// for.
    pub(crate) fn take_opens(&mut self, now: Instant) -> Vec<u16> {
        let mut room = self.max_channels.saturating_sub(self.open_channels());
        let mut out = Vec::new();
        for w in &self.wanted {
            if room == 0 {
                break;
            }
            if w.retry_at > now || self.index_of.contains_key(&ChannelId(w.n)) {
                continue;
            }
            out.push(w.n);
            room -= 1;
        }
        out
    }

    /// The earliest retry of a channel that did not open (for [`Controller::next_deadline`]).
    pub(super) fn next_open(&self) -> Option<Instant> {
        if self.open_channels() >= self.max_channels {
            // No room: nothing opens until a channel closes (no busy wake-ups meanwhile).
            return None;
        }
        self.wanted
            .iter()
            .filter(|w| !self.index_of.contains_key(&ChannelId(w.n)))
            .map(|w| w.retry_at)
            .min()
    }

    /// Channel `n` did not open: it is tried again after the out-of-service retry time.
    pub(crate) fn open_failed(&mut self, n: u16, now: Instant) {
        let retry_at = now + ivr::Duration::from_millis(OOS_RETRY_MS);
        match self.wanted.iter_mut().find(|w| w.n == n) {
            Some(w) => {
                w.failures += 1;
                w.retry_at = retry_at;
            }
            None => self.wanted.push(Wanted {
                n,
                retry_at,
                failures: 1,
            }),
        }
    }

    /// The prompt table new pipelines play from.
    pub(crate) fn table(&self) -> &'static media::PromptTable {
        self.table
    }

    /// Channel `handle.id()` was opened as `kind` (what `cfg`, the config in force, makes
    /// of it): it takes calls from now on. Returns its slot.
    ///
    /// # Errors
    /// No room (`daemon.max_channels`), the id is open already, or `kind` names groups
    /// the controller does not have.
    pub(crate) fn add_channel(
        &mut self,
        handle: ControlHandle,
        kind: &Kind,
        cfg: &Config,
        now: Instant,
    ) -> Result<usize, String> {
        let id = handle.id();
        if self.index_of.contains_key(&id) {
            return Err(format!("channel {} is open already", id.0));
        }
        let role = match kind {
            Kind::Trunk(t) => {
                let name = &cfg.trunks[*t].name;
                Role::Trunk(
                    self.trunks
                        .iter()
                        .position(|x| &x.name == name)
                        .ok_or_else(|| format!("no trunk group `{name}`"))?,
                )
            }
            Kind::Station(names) => {
                let groups: Vec<usize> = names
                    .iter()
                    .filter_map(|g| self.groups.iter().position(|x| &x.name == g))
                    .collect();
                if groups.is_empty() {
                    return Err("none of its agent groups exists".to_owned());
                }
                Role::Station(groups)
            }
        };
        let vacant = self
            .chans
            .iter()
            .position(|c| matches!(c.state, State::Vacant));
        let slot = match vacant {
            Some(s) => {
                self.handles[s] = handle;
                s
            }
            None if self.open_channels() < self.max_channels => {
                self.chans.push(Chan::new(id, role.clone()));
                self.handles.push(handle);
                self.chans.len() - 1
            }
            None => {
                return Err(format!(
                    "daemon.max_channels ({}) channels are open",
                    self.max_channels
                ));
            }
        };
        let mut chan = Chan::new(id, role);
        chan.table_gen = self.table_gen;
        chan.last_idle = now;
        self.chans[slot] = chan;
        self.index_of.insert(id, slot);
        self.wanted.retain(|w| w.n != id.0);
        self.set_metric_state(slot, ChannelState::Idle);
        Ok(slot)
    }
}

#[cfg(test)]
impl Controller {
    /// Failed opens in a row of channel `n`, if it waits to be opened (tests).
    pub(crate) fn open_failures(&self, n: u16) -> Option<u32> {
        self.wanted.iter().find(|w| w.n == n).map(|w| w.failures)
    }

    /// Whether channel `id` is open as an agent station (tests).
    pub(crate) fn is_station(&self, id: ChannelId) -> bool {
        self.index_of
            .get(&id)
            .is_some_and(|&i| matches!(self.chans[i].role, Role::Station(_)))
    }
}

impl Chan {
    /// A channel in `role`, idle, playing from the first prompt table.
    pub(super) fn new(id: ChannelId, role: Role) -> Self {
        Self {
            id,
            role,
            state: State::Idle,
            early_cid: None,
            last_idle: Instant::ZERO,
            digits_lost_seen: 0,
            line: None,
            pending: None,
            table_gen: 0,
            leaving: false,
        }
    }
}

/// Every channel number `cfg` names (trunks and stations), in order.
fn configured_numbers(cfg: &Config) -> Vec<u16> {
    let mut v: Vec<u16> = cfg
        .trunks
        .iter()
        .flat_map(|t| t.channels.channels())
        .chain(cfg.stations.iter().flat_map(|s| s.channels.channels()))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// What `cfg` makes of channel `n` (trunk first, as [`super::setup::channel_plan`]).
fn kind_of(cfg: &Config, n: u16) -> Option<Kind> {
    if let Some(t) = cfg
        .trunks
        .iter()
        .position(|t| t.channels.channels().contains(&n))
    {
        return Some(Kind::Trunk(t));
    }
    let groups: Vec<String> = cfg
        .stations
        .iter()
        .filter(|s| s.channels.channels().contains(&n))
        .flat_map(|s| s.groups.iter().cloned())
        .collect();
    (!groups.is_empty()).then_some(Kind::Station(groups))
}
