//! The real-time runtime: the control thread's loop around the [`Controller`].
//!
//! The thread sleeps in `mio` on three things: the audio thread's [`mio::Waker`] (events are
//! queued in a channel's ring; the hook workers share the waker when they answer), a
//! `signalfd` for `SIGHUP`, `SIGTERM` and `SIGINT` (blocked in every thread, so they arrive
//! only here, as data), and the controller's next deadline. Each wake-up steps the
//! controller with the monotonic time since start, hands hook jobs to the worker pool
//! (bounded queue; a full queue gives the call its timeout branch at once), and CDRs to the
//! writer thread.

use std::os::fd::AsRawFd;
use std::time::Duration;

use ivr::Instant;
use ivrd::cdr::CdrSink;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::Controller;
use super::hooks::Workers;

/// The waker's token (the audio thread and the hook workers wake with it).
pub(crate) const WAKE: Token = Token(0);
const SIGNALS: Token = Token(1);

/// A signal the loop received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sig {
    /// Reload config and scripts.
    Hup,
    /// Stop: `SIGTERM` or `SIGINT`.
    Term,
}

/// Blocks `SIGHUP`, `SIGTERM` and `SIGINT` in this thread (threads spawned later inherit the
/// mask) and returns a signalfd that receives them. Call before spawning any thread.
pub(crate) fn block_signals() -> nix::Result<SignalFd> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGHUP);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block()?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
}

/// What the loop's owner wants after a wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Keep going.
    Continue,
    /// Leave the loop.
    Stop,
}

/// The control loop. `on_wake` runs after every step with the time and any signal received;
/// the loop ends when it returns [`Flow::Stop`].
pub(crate) fn control_loop(
    ctl: &mut Controller,
    poll: &mut Poll,
    signals: Option<&SignalFd>,
    workers: &Workers,
    sink: &CdrSink,
    start: std::time::Instant,
    on_wake: impl FnMut(&mut Controller, Instant, Option<Sig>) -> Flow,
) -> std::io::Result<()> {
    control_loop_with(
        ctl,
        poll,
        signals,
        workers,
        &mut |cdr| {
            sink.submit(cdr);
        },
        start,
        on_wake,
    )
}

/// [`control_loop`] handing each finished call's record to `submit` (the daemon's CDR
/// store can change on reload).
pub(crate) fn control_loop_with(
    ctl: &mut Controller,
    poll: &mut Poll,
    signals: Option<&SignalFd>,
    workers: &Workers,
    submit: &mut dyn FnMut(ivrd::cdr::Cdr),
    start: std::time::Instant,
    mut on_wake: impl FnMut(&mut Controller, Instant, Option<Sig>) -> Flow,
) -> std::io::Result<()> {
    if let Some(sfd) = signals {
        poll.registry()
            .register(&mut SourceFd(&sfd.as_raw_fd()), SIGNALS, Interest::READABLE)?;
    }
    let mut events = Events::with_capacity(16);
    loop {
        let now_ms = start.elapsed().as_millis() as u64;
        let timeout = ctl
            .next_deadline()
            .map_or(100, |d| d.as_millis().saturating_sub(now_ms))
            .min(100);
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_millis(timeout))) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let mut sig = None;
        if let Some(sfd) = signals {
            while let Ok(Some(info)) = sfd.read_signal() {
                sig = Some(if info.ssi_signo == Signal::SIGHUP as u32 {
                    Sig::Hup
                } else {
                    Sig::Term
                });
                if sig == Some(Sig::Term) {
                    break;
                }
            }
        }
        let now = Instant::from_millis(start.elapsed().as_millis() as u64);
        ctl.step(now);
        for _ in 0..4 {
            for job in ctl.take_jobs() {
                if let Some(d) = workers.submit(job) {
                    ctl.hook_reply(now, d.ch, d.id, d.reply, d.latency_s);
                }
            }
            let mut any = false;
            while let Ok(d) = workers.done.try_recv() {
                any = true;
                ctl.hook_reply(now, d.ch, d.id, d.reply, d.latency_s);
            }
            if !any {
                break;
            }
        }
        for cdr in ctl.take_cdrs() {
            submit(cdr);
        }
        if on_wake(ctl, now, sig) == Flow::Stop {
            return Ok(());
        }
    }
}
