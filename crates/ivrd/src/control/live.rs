//! The control thread's side of opening and closing channels while the daemon runs: it
//! opens what the [`Controller`] asks for, builds the pipeline exactly as start-up does
//! ([`super::setup::channel_plan`]), hands the line to the audio thread through the
//! membership ring, and closes the lines the audio thread hands back. It runs on the
//! control thread (it allocates, logs and opens files); the audio thread only moves lines
//! in and out of its reserved table.

use std::collections::VecDeque;

use ivr::Instant;
use ivrd::config::Config;
use ringbuf::traits::{Consumer, Producer};
use tel_types::board::VoiceChannel;

use super::Controller;
use super::setup::{Rings, channel_plan};
use crate::audio::{Membership, MembershipControl, Returned};

/// Opens and closes a board's channels by number.
pub(crate) trait Opener<C> {
    /// Opens channel `n`.
    ///
    /// # Errors
    /// Why it did not open (with the errno where the driver gave one).
    fn open(&mut self, n: u16) -> Result<C, String>;

    /// Closes a channel the audio thread handed back.
    fn close(&mut self, dev: C) {
        drop(dev);
    }
}

/// How every DAHDI channel is set up once opened, at start and when a reload opens it.
pub(crate) type DahdiPrepare = fn(&mut dahdi::Channel, u32) -> Result<(), String>;

/// DAHDI: `/dev/dahdi/channel` + `DAHDI_SPECIFY`, then `prepare` (the same settings as the
/// channels opened at start); closing the fd closes the channel.
#[derive(Debug)]
pub(crate) struct DahdiOpener {
    /// Applied to each channel after it opens.
    pub(crate) prepare: DahdiPrepare,
    /// The board's I/O block in samples (`[[boards]] block_ms`), handed to `prepare`.
    pub(crate) block: u32,
}

impl Opener<dahdi::Channel> for DahdiOpener {
    fn open(&mut self, n: u16) -> Result<dahdi::Channel, String> {
        let mut ch = dahdi::Channel::open(n).map_err(|e| e.to_string())?;
        (self.prepare)(&mut ch, self.block)?;
        Ok(ch)
    }
}

/// The simulated card: its channels exist from the start; those the config does not name
/// wait here as spares until a reload opens them, and come back here when closed.
#[derive(Debug, Default)]
pub(crate) struct SimSpares {
    spares: Vec<simboard::SimChannel>,
    /// Channels closed so far (tests look).
    pub(crate) closed: Vec<u16>,
}

impl SimSpares {
    /// Spares from `channels`.
    pub(crate) fn new(channels: Vec<simboard::SimChannel>) -> Self {
        Self {
            spares: channels,
            closed: Vec::new(),
        }
    }

    /// Splits a card's `channels` into those `cfg` names (to open at start) and spares.
    pub(crate) fn split(
        cfg: &Config,
        channels: Vec<simboard::SimChannel>,
    ) -> (Vec<simboard::SimChannel>, Self) {
        let (used, spare): (Vec<_>, Vec<_>) = channels.into_iter().partition(|c| {
            let n = c.number();
            cfg.trunks
                .iter()
                .any(|t| t.channels.channels().contains(&n))
                || cfg
                    .stations
                    .iter()
                    .any(|s| s.channels.channels().contains(&n))
        });
        (used, Self::new(spare))
    }
}

impl Opener<simboard::SimChannel> for SimSpares {
    fn open(&mut self, n: u16) -> Result<simboard::SimChannel, String> {
        let k = self
            .spares
            .iter()
            .position(|c| c.number() == n)
            .ok_or_else(|| {
                format!("the simulated card has no free channel {n} (not in its profile) [ENXIO]")
            })?;
        Ok(self.spares.swap_remove(k))
    }

    fn close(&mut self, dev: simboard::SimChannel) {
        self.closed.push(dev.number());
        self.spares.push(dev);
    }
}

/// [`Live::step`] for any board (the daemon picks the board at start).
pub(crate) trait LiveStep {
    /// See [`Live::step`].
    fn step(&mut self, ctl: &mut Controller, cfg: &Config, now: Instant);
}

impl<C: VoiceChannel, O: Opener<C>> LiveStep for Live<C, O> {
    fn step(&mut self, ctl: &mut Controller, cfg: &Config, now: Instant) {
        Self::step(self, ctl, cfg, now);
    }
}

/// The taps sink that hands a new channel's taps to the recording writer.
pub(crate) fn to_recorder(
    inbox: super::recorder::NewTaps,
) -> Box<dyn FnMut(Vec<media::TapConsumer>, Vec<media::TapConsumer>)> {
    Box::new(move |mut scripts, mut calls| {
        let mut new = inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        new.0.append(&mut scripts);
        new.1.append(&mut calls);
    })
}

/// The control thread's end of live channel changes (see the module docs).
pub(crate) struct Live<C, O> {
    /// Opens and closes channels.
    pub(crate) opener: O,
    ring: MembershipControl<C>,
    /// Requests that did not fit in the ring yet, in order.
    backlog: VecDeque<Membership<C>>,
    rings: Rings,
    /// Where the recording taps of a new channel go (the recording writer).
    taps: Box<dyn FnMut(Vec<media::TapConsumer>, Vec<media::TapConsumer>)>,
}

impl<C, O: std::fmt::Debug> std::fmt::Debug for Live<C, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("opener", &self.opener)
            .field("backlog", &self.backlog.len())
            .finish_non_exhaustive()
    }
}

impl<C: VoiceChannel, O: Opener<C>> Live<C, O> {
    /// Over the control end of the membership rings; new pipelines get `rings`; the taps
    /// of new channels go to `taps` (script recordings, whole calls).
    pub(crate) fn new(
        opener: O,
        ring: MembershipControl<C>,
        rings: Rings,
        taps: Box<dyn FnMut(Vec<media::TapConsumer>, Vec<media::TapConsumer>)>,
    ) -> Self {
        Self {
            opener,
            ring,
            backlog: VecDeque::new(),
            rings,
            taps,
        }
    }

    /// Closes what came back, opens what the controller wants (built for `cfg`, the
    /// configuration in force), and hands requests to the audio thread. Call after each
    /// [`Controller::step`].
    pub(crate) fn step(&mut self, ctl: &mut Controller, cfg: &Config, now: Instant) {
        while let Some(r) = self.ring.returned.try_pop() {
            match r {
                Returned::Removed(line) => {
                    let id = line.pipe.id();
                    drop(line.pipe);
                    self.opener.close(line.dev);
                    ctl.closed(id, now);
                }
                Returned::Refused(line) => {
                    let id = line.pipe.id();
                    log::error!(
                        "channel {}: the audio loop had no room for it (daemon.max_channels, or its number is too high); closed",
                        id.0
                    );
                    drop(line.pipe);
                    self.opener.close(line.dev);
                    ctl.closed(id, now);
                    ctl.open_failed(id.0, now);
                }
                Returned::Unknown(id) => ctl.closed(id, now),
            }
        }
        for id in ctl.take_closes() {
            log::info!("channel {}: idle; taken out of service to be closed", id.0);
            self.backlog.push_back(Membership::Remove(id));
        }
        for n in ctl.take_opens(now) {
            self.open(ctl, cfg, n, now);
        }
        while let Some(req) = self.backlog.pop_front() {
            if let Err(req) = self.ring.requests.try_push(req) {
                self.backlog.push_front(req);
                break;
            }
        }
    }

    fn open(&mut self, ctl: &mut Controller, cfg: &Config, n: u16, now: Instant) {
        let dev = match self.opener.open(n) {
            Ok(d) => d,
            Err(e) => {
                log::warn!(
                    "channel {n}: did not open: {e}; tried again in {} s",
                    super::OOS_RETRY_MS / 1000
                );
                ctl.open_failed(n, now);
                return;
            }
        };
        let Some(plan) = channel_plan(cfg, n, dev.law(), ctl.table(), self.rings) else {
            self.opener.close(dev);
            return;
        };
        let kind = plan.kind.clone();
        let (line, mut handle) = plan.line(dev);
        let scripts: Vec<_> = handle.take_record_tap().into_iter().collect();
        let calls: Vec<_> = handle.take_listen_tap().into_iter().collect();
        match ctl.add_channel(handle, &kind, cfg, now) {
            Ok(_) => {
                (self.taps)(scripts, calls);
                log::info!(
                    "channel {n}: opened as {}; it takes calls",
                    match kind {
                        super::setup::Kind::Trunk(t) =>
                            format!("a trunk of `{}`", cfg.trunks[t].name),
                        super::setup::Kind::Station(_) => "an agent station".to_owned(),
                    }
                );
                self.backlog.push_back(Membership::Add(line));
            }
            Err(e) => {
                log::warn!("channel {n}: {e}; closed, tried again later");
                self.opener.close(line.dev);
                ctl.open_failed(n, now);
            }
        }
    }
}
