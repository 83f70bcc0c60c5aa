//! The audio loop against a scripted fake board, in virtual time (`service` is called
//! directly), plus one run of the real poll loops in each wait mode.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use media::{Config, ControlHandle, PromptTable};
use nix::sys::eventfd::{EfdFlags, EventFd};
use tel_types::board::{PortKind, ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{
    ChannelId, DigitSet, FRAME_SAMPLES, Hook, Law, LineEvent, MediaCommand, MediaEvent, SampleTime,
};

use super::{AudioLoop, AudioStats, BridgeFailureLog, HwBridge, HwBridged, Line, WaitMode};

/// What the fake channel's next read returns.
#[derive(Debug, Clone, Copy)]
enum Step {
    Frame(i16),
    Pending(LineEvent),
    Fail,
}

#[derive(Debug)]
struct FakeError;

impl std::fmt::Display for FakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fake channel failed")
    }
}

impl std::error::Error for FakeError {}

/// A channel that reads what its script says, records writes and hook changes, and is
/// readable (its eventfd) while the script is not empty.
#[derive(Debug)]
struct Fake {
    number: u16,
    script: VecDeque<Step>,
    events: VecDeque<LineEvent>,
    written: Vec<Vec<i16>>,
    hooks: Vec<Hook>,
    /// The board offers conferencing (else `hw_bridge` says `Unsupported`).
    hw_conference: bool,
    /// Conferencing is refused with this errno.
    hw_refuse: Option<i32>,
    conferenced_with: Option<u16>,
    unbridges: usize,
    /// Until its eventfd is written, the channel has nothing (the loop must wait for it).
    gate_open: bool,
    /// An event that arrives between the next read and its write (errno 500 on write).
    event_on_write: Option<LineEvent>,
    /// Samples per read and write (DAHDI's block size).
    block: usize,
    fd: EventFd,
    /// Told the channel's number when it is dropped (closed).
    on_close: Option<Arc<std::sync::Mutex<Vec<u16>>>>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(c) = &self.on_close {
            c.lock().unwrap().push(self.number);
        }
    }
}

impl Fake {
    fn new(number: u16) -> Self {
        Self {
            number,
            script: VecDeque::new(),
            events: VecDeque::new(),
            written: Vec::new(),
            hooks: Vec::new(),
            hw_conference: false,
            hw_refuse: None,
            conferenced_with: None,
            unbridges: 0,
            gate_open: true,
            event_on_write: None,
            block: FRAME_SAMPLES,
            fd: EventFd::from_value_and_flags(0, EfdFlags::EFD_NONBLOCK).expect("eventfd"),
            on_close: None,
        }
    }
}

impl AsFd for Fake {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl HwBridge for Fake {
    fn hw_bridge(&mut self, peer: &mut Self) -> HwBridged {
        if !self.hw_conference {
            return HwBridged::Unsupported;
        }
        if let Some(errno) = self.hw_refuse {
            return HwBridged::Failed(errno);
        }
        self.conferenced_with = Some(peer.number);
        peer.conferenced_with = Some(self.number);
        HwBridged::Bridged
    }

    fn hw_unbridge(&mut self) -> Result<(), i32> {
        self.unbridges += 1;
        self.conferenced_with = None;
        Ok(())
    }
}

impl VoiceChannel for Fake {
    type Error = FakeError;

    fn number(&self) -> u16 {
        self.number
    }

    fn port_kind(&self) -> PortKind {
        PortKind::FxoTrunk
    }

    fn law(&self) -> Law {
        Law::Linear
    }

    fn block_samples(&self) -> usize {
        self.block
    }

    fn read_frame(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, FakeError> {
        if !self.gate_open {
            match self.fd.read() {
                Ok(_) => self.gate_open = true,
                Err(_) => return Ok(ReadOutcome::WouldBlock),
            }
        }
        match self.script.front().copied() {
            None => {
                let _ = self.fd.read(); // no longer readable
                Ok(ReadOutcome::WouldBlock)
            }
            Some(Step::Frame(v)) => {
                self.script.pop_front();
                for pair in buf.chunks_exact_mut(2) {
                    pair.copy_from_slice(&v.to_le_bytes());
                }
                Ok(ReadOutcome::Data(buf.len()))
            }
            Some(Step::Pending(ev)) => {
                // Like DAHDI: reads keep failing with "event pending" until it is taken.
                if self.events.is_empty() {
                    self.events.push_back(ev);
                    self.script.pop_front();
                }
                Ok(ReadOutcome::EventPending)
            }
            Some(Step::Fail) => Err(FakeError),
        }
    }

    fn write_frame(&mut self, buf: &[u8]) -> Result<WriteOutcome, FakeError> {
        if let Some(ev) = self.event_on_write.take() {
            self.events.push_back(ev);
        }
        if !self.events.is_empty() {
            return Ok(WriteOutcome::EventPending);
        }
        let frame = buf
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        self.written.push(frame);
        Ok(WriteOutcome::Written(buf.len()))
    }

    fn next_event(&mut self) -> Result<Option<LineEvent>, FakeError> {
        Ok(self.events.pop_front())
    }

    fn set_hook(&mut self, hook: Hook) -> Result<(), FakeError> {
        self.hooks.push(hook);
        Ok(())
    }
}

struct Rig {
    audio: AudioLoop<Fake>,
    ctls: Vec<ControlHandle>,
    control_poll: mio::Poll,
}

const WAKE: mio::Token = mio::Token(0);

fn rig(fakes: Vec<Fake>, prompts: &'static PromptTable) -> Rig {
    let control_poll = mio::Poll::new().expect("poll");
    let waker = Arc::new(mio::Waker::new(control_poll.registry(), WAKE).expect("waker"));
    let mut lines = Vec::new();
    let mut ctls = Vec::new();
    for dev in fakes {
        let mut c = Config::new(ChannelId(dev.number), prompts);
        c.law = Law::Linear;
        c.dtmf_clamp = false;
        let (pipe, ctl) = media::channel(c);
        lines.push(Line {
            dev,
            pipe,
            hw_bridge: true,
        });
        ctls.push(ctl);
    }
    Rig {
        audio: AudioLoop::new(lines, waker, Arc::new(AudioStats::default())),
        ctls,
        control_poll,
    }
}

fn events(ctl: &mut ControlHandle) -> Vec<MediaEvent> {
    std::iter::from_fn(|| ctl.poll_event()).collect()
}

fn empty_prompts() -> &'static PromptTable {
    Box::leak(Box::new(PromptTable::new()))
}

#[test]
fn event_pending_is_taken_and_forwarded_then_audio_resumes() {
    let mut fake = Fake::new(1);
    fake.script.extend([
        Step::Frame(5),
        Step::Pending(LineEvent::RingOffHook),
        Step::Frame(5),
    ]);
    let mut r = rig(vec![fake], empty_prompts());
    r.audio.service(0);
    assert_eq!(
        events(&mut r.ctls[0]),
        vec![MediaEvent::Line {
            at: SampleTime(FRAME_SAMPLES as u64),
            event: LineEvent::RingOffHook
        }]
    );
    assert_eq!(r.ctls[0].stats().frames, 2, "both frames went through");
    // The second came in the same wake-up: silent, it is left out (catch-up trimming).
    assert_eq!(r.audio.dev(0).written.len(), 1);
    assert_eq!(r.audio.stats.events_pending.load(Ordering::Relaxed), 1);
    // The control thread was woken for it.
    let mut evs = mio::Events::with_capacity(4);
    r.audio.wake_control();
    r.control_poll
        .poll(&mut evs, Some(Duration::from_secs(5)))
        .expect("poll");
    assert!(evs.iter().any(|e| e.token() == WAKE));
}

#[test]
fn event_pending_on_write_is_taken_and_the_frame_still_goes_out() {
    let mut fake = Fake::new(1);
    fake.script.push_back(Step::Frame(5));
    fake.event_on_write = Some(LineEvent::WinkFlash);
    let mut r = rig(vec![fake], empty_prompts());
    r.audio.service(0);
    assert_eq!(
        r.audio.dev(0).written.len(),
        1,
        "written after the event was taken"
    );
    assert!(events(&mut r.ctls[0]).contains(&MediaEvent::Line {
        at: SampleTime(FRAME_SAMPLES as u64),
        event: LineEvent::WinkFlash
    }));
}

#[test]
fn hook_commands_are_applied_to_the_board_in_order() {
    let mut fake = Fake::new(3);
    fake.script.push_back(Step::Frame(0));
    let mut r = rig(vec![fake], empty_prompts());
    r.ctls[0]
        .try_send(MediaCommand::SetHook(Hook::OffHook))
        .unwrap();
    r.ctls[0]
        .try_send(MediaCommand::SetHook(Hook::Flash))
        .unwrap();
    r.audio.service(0);
    assert_eq!(r.audio.dev(0).hooks, vec![Hook::OffHook, Hook::Flash]);
}

#[test]
fn play_reaches_the_board_in_the_first_frame_after_the_command() {
    let mut table = PromptTable::new();
    let p = table.push(&[777; 480]);
    let mut fake = Fake::new(1);
    fake.script.extend([Step::Frame(0), Step::Frame(0)]);
    let mut r = rig(vec![fake], Box::leak(Box::new(table)));
    r.ctls[0]
        .try_send(MediaCommand::Play {
            prompt: p,
            barge_in: DigitSet::EMPTY,
        })
        .unwrap();
    r.audio.service(0);
    assert_eq!(r.audio.dev(0).written[0][0], 777);
}

#[test]
fn user_space_bridge_links_both_sides_and_carries_audio() {
    let mut r = rig(vec![Fake::new(1), Fake::new(2)], empty_prompts());
    r.ctls[0]
        .try_send(MediaCommand::Bridge(ChannelId(2)))
        .unwrap();
    // One frame per channel per tick, as a board delivers them.
    for _ in 0..4 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(100));
        r.audio.lines[1].dev.script.push_back(Step::Frame(-200));
        r.audio.service(0);
        r.audio.service(1);
    }
    assert_eq!(r.audio.pipe(1).peer(), Some(ChannelId(1)));
    let heard_by_b = &r.audio.dev(1).written;
    let heard_by_a = &r.audio.dev(0).written;
    assert!(
        heard_by_b[0].iter().all(|&s| s == 100),
        "B hears A in the same tick"
    );
    assert!(
        heard_by_a[1].iter().all(|&s| s == -200),
        "A hears B one tick later"
    );
    r.ctls[1].try_send(MediaCommand::Unbridge).unwrap();
    r.audio.lines[1].dev.script.push_back(Step::Frame(-200));
    r.audio.lines[0].dev.script.push_back(Step::Frame(100));
    r.audio.service(1);
    r.audio.service(0);
    assert_eq!(r.audio.pipe(0).peer(), None);
    assert!(
        r.audio
            .dev(0)
            .written
            .last()
            .unwrap()
            .iter()
            .all(|&s| s == 0)
    );
}

/// One tick: a frame on each of the first two channels, serviced in order.
fn tick(r: &mut Rig, a: i16, b: i16) {
    r.audio.lines[0].dev.script.push_back(Step::Frame(a));
    r.audio.lines[1].dev.script.push_back(Step::Frame(b));
    r.audio.service(0);
    r.audio.service(1);
}

fn last_written(r: &Rig, i: usize) -> &[i16] {
    r.audio.dev(i).written.last().expect("a frame was written")
}

fn conferencing_pair() -> Rig {
    let mut a = Fake::new(1);
    a.hw_conference = true;
    let mut b = Fake::new(2);
    b.hw_conference = true;
    rig(vec![a, b], empty_prompts())
}

#[test]
fn kernel_bridge_joins_both_legs_and_unbridge_from_either_side_releases_both() {
    for unbridging_side in [0, 1] {
        let mut r = conferencing_pair();
        r.ctls[0]
            .try_send(MediaCommand::Bridge(ChannelId(2)))
            .unwrap();
        tick(&mut r, 100, -200);
        assert_eq!(r.audio.dev(0).conferenced_with, Some(2));
        assert_eq!(r.audio.dev(1).conferenced_with, Some(1));
        assert_eq!(r.audio.stats.hw_bridges.load(Ordering::Relaxed), 1);
        // Both sides know the peer (so either can unbridge), but the pipelines do not mix
        // as well: the board carries the audio.
        assert_eq!(r.audio.pipe(0).peer(), Some(ChannelId(2)));
        assert_eq!(r.audio.pipe(1).peer(), Some(ChannelId(1)));
        tick(&mut r, 100, -200);
        assert!(last_written(&r, 0).iter().all(|&s| s == 0));
        assert!(last_written(&r, 1).iter().all(|&s| s == 0));

        r.ctls[unbridging_side]
            .try_send(MediaCommand::Unbridge)
            .unwrap();
        tick(&mut r, 100, -200);
        for i in 0..2 {
            assert_eq!(r.audio.dev(i).conferenced_with, None, "leg {i}");
            assert_eq!(r.audio.dev(i).unbridges, 1, "leg {i}");
            assert_eq!(r.audio.pipe(i).peer(), None, "leg {i}");
        }
        // And no user-space bridge took over.
        tick(&mut r, 100, -200);
        assert!(last_written(&r, 0).iter().all(|&s| s == 0));
        assert!(last_written(&r, 1).iter().all(|&s| s == 0));
    }
}

#[test]
fn kernel_bridge_is_released_when_a_leg_goes_out_of_service_or_the_loop_ends() {
    let mut r = conferencing_pair();
    r.ctls[1]
        .try_send(MediaCommand::Bridge(ChannelId(1)))
        .unwrap();
    tick(&mut r, 0, 0);
    assert_eq!(r.audio.dev(0).conferenced_with, Some(2));
    r.audio.lines[1].dev.script.push_back(Step::Fail);
    r.audio.service(1);
    assert!(r.audio.is_failed(1));
    assert_eq!(r.audio.dev(0).conferenced_with, None);
    assert_eq!(r.audio.dev(1).conferenced_with, None);
    assert_eq!(r.audio.pipe(0).peer(), None);

    let mut r = conferencing_pair();
    r.ctls[0]
        .try_send(MediaCommand::Bridge(ChannelId(2)))
        .unwrap();
    tick(&mut r, 0, 0);
    assert_eq!(r.audio.dev(1).conferenced_with, Some(1));
    r.audio.unlink_all();
    assert_eq!(r.audio.dev(0).conferenced_with, None);
    assert_eq!(r.audio.dev(1).conferenced_with, None);
}

#[test]
fn refused_kernel_bridge_falls_back_to_user_space_and_is_logged_once_by_the_control_side() {
    let mut r = conferencing_pair();
    r.audio.lines[0].dev.hw_refuse = Some(nix::errno::Errno::EINVAL as i32);
    r.ctls[0]
        .try_send(MediaCommand::Bridge(ChannelId(2)))
        .unwrap();
    for _ in 0..3 {
        tick(&mut r, 100, -200);
    }
    assert_eq!(r.audio.dev(0).conferenced_with, None);
    assert_eq!(r.audio.dev(1).conferenced_with, None);
    assert_eq!(r.audio.stats.hw_bridges.load(Ordering::Relaxed), 0);
    assert_eq!(r.audio.stats.hw_bridge_failures.load(Ordering::Relaxed), 1);
    assert_eq!(
        r.audio.stats.last_hw_bridge_failure(),
        Some((1, 2, nix::errno::Errno::EINVAL as i32))
    );
    // The call still has audio, both ways, mixed in user space.
    assert!(last_written(&r, 1).iter().all(|&s| s == 100));
    assert!(last_written(&r, 0).iter().all(|&s| s == -200));

    // Operators see it in the metrics.
    let metrics = ivrd::metrics::Metrics::new(2);
    r.audio.stats.export(&metrics.audio);
    let mut page = String::new();
    metrics.render(&mut page);
    assert!(
        page.contains("\nivrd_kernel_bridge_refusals_total 1\n"),
        "{page}"
    );
    assert!(page.contains("\nivrd_kernel_bridges_total 0\n"), "{page}");
    assert!(page.contains("\nivrd_audio_frames_total "), "{page}");

    let mut log = BridgeFailureLog::default();
    assert!(
        log.check(&r.audio.stats, 1_000),
        "the first refusal is logged"
    );
    assert!(!log.check(&r.audio.stats, 1_100), "nothing new");
    // A second refused bridge within the minute waits for the next summary.
    r.ctls[0].try_send(MediaCommand::Unbridge).unwrap();
    r.ctls[0]
        .try_send(MediaCommand::Bridge(ChannelId(2)))
        .unwrap();
    tick(&mut r, 100, -200);
    assert_eq!(r.audio.stats.hw_bridge_failures.load(Ordering::Relaxed), 2);
    assert!(!log.check(&r.audio.stats, 30_000));
    assert!(log.check(&r.audio.stats, 61_000));
    assert!(!log.check(&r.audio.stats, 200_000));
}

#[test]
fn a_line_that_must_stay_in_user_space_is_not_bridged_by_the_board() {
    let mut r = conferencing_pair();
    // A recorded call: the whole-call tap must hear the agent.
    assert!(r.ctls[0].set_listen(true));
    r.ctls[1]
        .try_send(MediaCommand::Bridge(ChannelId(1)))
        .unwrap();
    tick(&mut r, 100, -200);
    tick(&mut r, 100, -200);
    assert_eq!(r.audio.dev(0).conferenced_with, None);
    assert_eq!(r.audio.dev(1).conferenced_with, None);
    assert_eq!(r.audio.stats.hw_bridge_failures.load(Ordering::Relaxed), 0);
    assert!(last_written(&r, 1).iter().all(|&s| s == 100));
    assert!(last_written(&r, 0).iter().all(|&s| s == -200));
}

#[test]
fn a_failing_channel_is_taken_out_and_reported_while_others_go_on() {
    let mut a = Fake::new(1);
    a.script.extend([Step::Frame(0), Step::Fail]);
    let mut b = Fake::new(2);
    b.script.extend([Step::Frame(0), Step::Frame(0)]);
    let mut r = rig(vec![a, b], empty_prompts());
    r.audio.service(0);
    r.audio.service(1);
    assert!(r.audio.is_failed(0) && !r.audio.is_failed(1));
    // Both of b's frames went through; the second, silent and read in the same wake-up,
    // is left out of the transmit queue (catch-up trimming).
    assert_eq!(r.ctls[1].stats().frames, 2);
    assert_eq!(r.audio.dev(1).written.len(), 1);
    assert!(events(&mut r.ctls[0]).iter().any(|e| matches!(
        e,
        MediaEvent::Line {
            event: LineEvent::Removed,
            ..
        }
    )));
    assert_eq!(r.audio.stats.channel_errors.load(Ordering::Relaxed), 1);
}

/// Runs the real loop in `mode` on its own thread; the test plays the control thread.
fn run_loop_in(mode: WaitMode) {
    let mut control_poll = mio::Poll::new().expect("poll");
    let waker = Arc::new(mio::Waker::new(control_poll.registry(), WAKE).expect("waker"));
    let mut c = Config::new(ChannelId(1), empty_prompts());
    c.law = Law::Linear;
    let (pipe, mut ctl) = media::channel(c);
    // The channel is scripted before the loop owns it; the test keeps a duplicate of its
    // eventfd to make it readable once the loop waits.
    let mut dev = Fake::new(1);
    dev.gate_open = false;
    dev.script
        .extend([Step::Frame(1), Step::Pending(LineEvent::RingBegin)]);
    let kick_fd = dev.fd.as_fd().try_clone_to_owned().expect("dup");
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(AudioStats::default());
    let thread_stop = Arc::clone(&stop);
    let thread_stats = Arc::clone(&stats);
    let audio = std::thread::spawn(move || {
        let mut l = AudioLoop::new(
            vec![Line {
                dev,
                pipe,
                hw_bridge: true,
            }],
            waker,
            thread_stats,
        );
        l.run_channel_fds(mode, 20, &thread_stop)
    });
    nix::unistd::write(&kick_fd, &1u64.to_ne_bytes()).expect("kick");
    let mut evs = mio::Events::with_capacity(4);
    let mut got = Vec::new();
    for _ in 0..50 {
        control_poll
            .poll(&mut evs, Some(Duration::from_millis(100)))
            .expect("poll");
        got.extend(std::iter::from_fn(|| ctl.poll_event()));
        if !got.is_empty() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    audio.join().expect("audio thread").expect("loop ran");
    assert_eq!(
        got,
        vec![MediaEvent::Line {
            at: SampleTime(FRAME_SAMPLES as u64),
            event: LineEvent::RingBegin
        }]
    );
    assert_eq!(stats.frames.load(Ordering::Relaxed), 1);
}

#[test]
fn edge_triggered_loop_services_a_ready_channel_and_stops() {
    run_loop_in(WaitMode::Edge);
}

#[test]
fn level_triggered_loop_services_a_ready_channel_and_stops() {
    run_loop_in(WaitMode::Level);
}

#[test]
fn ticked_loop_services_every_port_of_a_timed_board() {
    ticked_timed_board(FRAME_SAMPLES);
}

#[test]
fn ticked_loop_services_every_port_of_a_timed_board_in_ten_ms_blocks() {
    ticked_timed_board(FRAME_SAMPLES / 2);
}

fn ticked_timed_board(block: usize) {
    // A real 20 (10) ms timer: the test waits for a handful of ticks (about 0.1 s).
    let audio: &'static [u8] = Box::leak(vec![0xD5u8; 1600].into_boxed_slice());
    let (channels, mut ticker, log) =
        super::timed::board_with_block(3, Law::ALaw, audio, 100, block).expect("timerfd");
    assert!(channels.iter().all(|c| c.block_samples() == block));
    let control_poll = mio::Poll::new().expect("poll");
    let waker = Arc::new(mio::Waker::new(control_poll.registry(), WAKE).expect("waker"));
    let mut lines = Vec::new();
    let mut ctls = Vec::new();
    for dev in channels {
        let (pipe, ctl) = media::channel(Config::new(ChannelId(dev.number()), empty_prompts()));
        lines.push(Line {
            dev,
            pipe,
            hw_bridge: true,
        });
        ctls.push(ctl);
    }
    ctls[1]
        .try_send(MediaCommand::SetHook(Hook::OffHook))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(AudioStats::default());
    let audio_thread = {
        let stop = Arc::clone(&stop);
        let stats = Arc::clone(&stats);
        std::thread::spawn(move || {
            let mut l = AudioLoop::new(lines, waker, stats);
            l.run_ticked(&mut ticker, WaitMode::Edge, 20, &stop)
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while log.ticks.load(Ordering::Acquire) < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5)); // polling for progress, not timing
    }
    stop.store(true, Ordering::Relaxed);
    audio_thread
        .join()
        .expect("audio thread")
        .expect("loop ran");
    let ticks = log.ticks.load(Ordering::Acquire);
    assert!(ticks >= 5, "only {ticks} ticks in 10 s");
    // Every port gets one block per tick (the last tick may still be in flight); frames
    // are counted whole.
    let per_frame = (FRAME_SAMPLES / block) as u64;
    let frames = stats.frames.load(Ordering::Relaxed);
    assert!(
        frames >= 3 * (ticks - per_frame) / per_frame && frames <= 3 * (ticks + 1) / per_frame,
        "{frames} frames, {ticks} ticks of {block} samples"
    );
    assert_eq!(ctls[1].stats().frames, ctls[0].stats().frames);
}

/// A fake channel with DAHDI's 10 ms blocks (`block_ms = 10`).
fn ten_ms(number: u16) -> Fake {
    let mut f = Fake::new(number);
    f.block = FRAME_SAMPLES / 2;
    f
}

#[test]
fn ten_ms_blocks_a_play_sent_mid_frame_reaches_the_board_in_the_next_block() {
    let mut table = PromptTable::new();
    let p = table.push(&[777; 200]);
    let mut r = rig(vec![ten_ms(1)], Box::leak(Box::new(table)));
    r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    r.audio.service(0);
    // 10 ms into the frame, the control thread sends a prompt.
    r.ctls[0]
        .try_send(MediaCommand::Play {
            prompt: p,
            barge_in: DigitSet::EMPTY,
        })
        .unwrap();
    for _ in 0..5 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(0));
        r.audio.service(0);
    }
    let written = &r.audio.dev(0).written;
    assert_eq!(written.len(), 6);
    assert!(
        written.iter().all(|b| b.len() == 80),
        "blocks of 80 samples"
    );
    let line: Vec<i16> = written.concat();
    assert!(line[..80].iter().all(|&s| s == 0));
    assert!(
        line[80..280].iter().all(|&s| s == 777),
        "from the next block on"
    );
    assert!(line[280..].iter().all(|&s| s == 0));
    assert_eq!(
        events(&mut r.ctls[0]),
        vec![MediaEvent::PlaybackDone {
            prompt: p,
            played_samples: 200,
            barged_in_by: None
        }]
    );
    assert_eq!(r.audio.stats.frames.load(Ordering::Relaxed), 3, "6 blocks");
}

#[test]
fn ten_ms_blocks_events_carry_block_sample_times_and_every_block_is_processed() {
    let mut fake = ten_ms(1);
    fake.script.extend([
        Step::Frame(5),
        Step::Pending(LineEvent::RingOffHook),
        Step::Frame(5),
        Step::Frame(5),
    ]);
    let mut r = rig(vec![fake], empty_prompts());
    r.audio.service(0);
    assert_eq!(
        events(&mut r.ctls[0]),
        vec![MediaEvent::Line {
            at: SampleTime(80),
            event: LineEvent::RingOffHook
        }]
    );
    // Three blocks in one wake-up: each goes through the pipeline; the two read late are
    // silent and left out of the transmit queue (catch-up trimming).
    let trimmed = r.audio.stats.tx_trimmed.load(Ordering::Relaxed);
    assert_eq!((r.audio.dev(0).written.len(), trimmed), (1, 2));
}

#[test]
fn ten_ms_blocks_user_space_bridge_carries_audio_both_ways() {
    let mut r = rig(vec![ten_ms(1), ten_ms(2)], empty_prompts());
    r.ctls[0]
        .try_send(MediaCommand::Bridge(ChannelId(2)))
        .unwrap();
    for _ in 0..8 {
        tick(&mut r, 100, -200);
    }
    assert_eq!(r.audio.pipe(1).peer(), Some(ChannelId(1)));
    let heard_by_b = &r.audio.dev(1).written;
    let heard_by_a = &r.audio.dev(0).written;
    // Blocks hand on the previous clean frame: B (served after A) hears A one frame later,
    // A hears B a block later still; then every block carries the other side.
    assert!(heard_by_b[..2].iter().flatten().all(|&s| s == 0));
    assert!(heard_by_b[2..].iter().flatten().all(|&s| s == 100));
    assert!(heard_by_a[..3].iter().flatten().all(|&s| s == 0));
    assert!(heard_by_a[3..].iter().flatten().all(|&s| s == -200));
    r.ctls[1].try_send(MediaCommand::Unbridge).unwrap();
    tick(&mut r, 100, -200);
    tick(&mut r, 100, -200);
    assert_eq!(r.audio.pipe(0).peer(), None);
    assert!(last_written(&r, 0).iter().all(|&s| s == 0));
    assert!(last_written(&r, 1).iter().all(|&s| s == 0));
}

/// A fake whose drop (the channel's close) the test sees.
fn closing_fake(number: u16, closed: &Arc<std::sync::Mutex<Vec<u16>>>) -> Fake {
    let mut f = Fake::new(number);
    f.on_close = Some(Arc::clone(closed));
    f
}

/// A line for `dev`, as `rig` builds them, and its control handle.
fn line_for(dev: Fake) -> (Line<Fake>, ControlHandle) {
    let mut c = Config::new(ChannelId(dev.number), empty_prompts());
    c.law = Law::Linear;
    c.dtmf_clamp = false;
    let (pipe, ctl) = media::channel(c);
    (
        Line {
            dev,
            pipe,
            hw_bridge: true,
        },
        ctl,
    )
}

/// A loop over `fakes` with room for `room` lines and membership rings.
fn live_rig(fakes: Vec<Fake>, room: usize) -> (Rig, super::MembershipControl<Fake>) {
    let control_poll = mio::Poll::new().expect("poll");
    let waker = Arc::new(mio::Waker::new(control_poll.registry(), WAKE).expect("waker"));
    let mut lines = Vec::new();
    let mut ctls = Vec::new();
    for dev in fakes {
        let (l, c) = line_for(dev);
        lines.push(l);
        ctls.push(c);
    }
    let (control, audio_side) = super::membership(4);
    let audio = AudioLoop::with_capacity(
        lines,
        waker,
        Arc::new(AudioStats::default()),
        super::Capacity {
            lines: room,
            max_number: 32,
        },
        Some(audio_side),
    );
    (
        Rig {
            audio,
            ctls,
            control_poll,
        },
        control,
    )
}

fn no_fd() -> impl FnMut(&Fake, u16, super::Reg) -> bool {
    |_, _, _| true
}

#[test]
fn a_line_handed_over_is_serviced_and_a_removed_one_comes_back_on_hook() {
    use ringbuf::traits::{Consumer, Producer};
    let closed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (mut r, mut m) = live_rig(vec![closing_fake(1, &closed)], 4);
    let cap_before = r.audio.lines.capacity();
    // Add channel 7 while the loop runs.
    let (line, mut ctl7) = line_for(closing_fake(7, &closed));
    assert!(m.requests.try_push(super::Membership::Add(line)).is_ok());
    r.audio.apply_membership(&mut no_fd());
    assert_eq!(r.audio.len(), 2);
    assert_eq!(r.audio.index(ChannelId(7)), Some(1));
    assert_eq!(r.audio.lines.capacity(), cap_before, "no reallocation");
    // It is serviced like the others: a ring reaches its control side.
    r.audio.lines[1]
        .dev
        .script
        .push_back(Step::Pending(LineEvent::RingBegin));
    r.audio.service(1);
    assert!(events(&mut ctl7).iter().any(|e| matches!(
        e,
        MediaEvent::Line {
            event: LineEvent::RingBegin,
            ..
        }
    )));
    // Remove channel 1: channel 7 moves into its index; 1 comes back, on-hook, not closed
    // by the audio thread (the control side drops it).
    assert!(
        m.requests
            .try_push(super::Membership::Remove(ChannelId(1)))
            .is_ok()
    );
    r.audio.apply_membership(&mut no_fd());
    assert_eq!(r.audio.len(), 1);
    assert_eq!(r.audio.index(ChannelId(1)), None);
    assert_eq!(r.audio.index(ChannelId(7)), Some(0));
    assert!(
        closed.lock().unwrap().is_empty(),
        "not closed on the audio thread"
    );
    let Some(super::Returned::Removed(back)) = m.returned.try_pop() else {
        panic!("channel 1 was not handed back");
    };
    assert_eq!(back.dev.number, 1);
    assert_eq!(back.dev.hooks.last(), Some(&Hook::OnHook));
    drop(back);
    assert_eq!(*closed.lock().unwrap(), [1]);
    // A removal of a channel the loop does not have is answered too.
    assert!(
        m.requests
            .try_push(super::Membership::Remove(ChannelId(9)))
            .is_ok()
    );
    r.audio.apply_membership(&mut no_fd());
    assert!(matches!(
        m.returned.try_pop(),
        Some(super::Returned::Unknown(ChannelId(9)))
    ));
}

#[test]
fn removing_a_bridged_line_unlinks_its_peer_first_and_keeps_the_moved_line_bridged() {
    use ringbuf::traits::{Consumer, Producer};
    let (mut r, mut m) = live_rig(vec![Fake::new(1), Fake::new(2), Fake::new(3)], 3);
    // 2 and 3 bridged in user space; 1 is removed, so 3 moves into index 0.
    r.ctls[1]
        .try_send(MediaCommand::Bridge(ChannelId(3)))
        .unwrap();
    r.audio.lines[1].dev.script.push_back(Step::Frame(5));
    r.audio.service(1);
    assert_eq!(r.audio.pipe(2).peer(), Some(ChannelId(2)));
    assert!(
        m.requests
            .try_push(super::Membership::Remove(ChannelId(1)))
            .is_ok()
    );
    r.audio.apply_membership(&mut no_fd());
    assert!(matches!(
        m.returned.try_pop(),
        Some(super::Returned::Removed(_))
    ));
    let i3 = r.audio.index(ChannelId(3)).unwrap();
    let i2 = r.audio.index(ChannelId(2)).unwrap();
    assert_eq!((i3, i2), (0, 1));
    // The bridge still carries audio between 2 and 3 at their new indices.
    r.audio.lines[i2].dev.script.push_back(Step::Frame(300));
    r.audio.lines[i3].dev.script.push_back(Step::Frame(-7));
    r.audio.service(i2);
    r.audio.service(i3);
    assert!(last_written(&r, i3).iter().all(|&s| s == 300));
    // Now remove 3 (a leg of the bridge): its peer is unlinked before it goes.
    assert!(
        m.requests
            .try_push(super::Membership::Remove(ChannelId(3)))
            .is_ok()
    );
    r.audio.apply_membership(&mut no_fd());
    let i2 = r.audio.index(ChannelId(2)).unwrap();
    assert_eq!(r.audio.pipe(i2).peer(), None);
    assert_eq!(r.audio.len(), 1);
}

#[test]
fn a_line_beyond_the_reserved_room_or_with_a_used_number_is_handed_back() {
    use ringbuf::traits::{Consumer, Producer};
    let (mut r, mut m) = live_rig(vec![Fake::new(1)], 2);
    let (dup, _c) = line_for(Fake::new(1));
    assert!(m.requests.try_push(super::Membership::Add(dup)).is_ok());
    let (two, _c2) = line_for(Fake::new(2));
    assert!(m.requests.try_push(super::Membership::Add(two)).is_ok());
    let (three, _c3) = line_for(Fake::new(3));
    assert!(m.requests.try_push(super::Membership::Add(three)).is_ok());
    r.audio.apply_membership(&mut no_fd());
    let back: Vec<u16> = std::iter::from_fn(|| m.returned.try_pop())
        .map(|r| match r {
            super::Returned::Refused(l) => l.dev.number,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        back,
        [1, 3],
        "a used number and a line beyond the room of 2"
    );
    assert_eq!(r.audio.len(), 2);
}

#[test]
fn a_line_whose_fd_cannot_be_watched_is_taken_out_of_service() {
    use ringbuf::traits::Producer;
    let (mut r, mut m) = live_rig(vec![Fake::new(1)], 2);
    let (line, mut ctl) = line_for(Fake::new(4));
    assert!(m.requests.try_push(super::Membership::Add(line)).is_ok());
    r.audio.apply_membership(&mut |_, _, _| false);
    let i = r.audio.index(ChannelId(4)).unwrap();
    assert!(r.audio.is_failed(i));
    assert!(events(&mut ctl).iter().any(|e| matches!(
        e,
        MediaEvent::Line {
            event: LineEvent::Removed,
            ..
        }
    )));
}

/// The real fd loop: a channel handed over while the loop waits is registered from the
/// loop and its readiness wakes it.
fn run_loop_adding_in(mode: WaitMode) {
    use ringbuf::traits::{Consumer, Producer};
    let mut control_poll = mio::Poll::new().expect("poll");
    let waker = Arc::new(mio::Waker::new(control_poll.registry(), WAKE).expect("waker"));
    let (mut m, audio_side) = super::membership(4);
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(AudioStats::default());
    let thread_stop = Arc::clone(&stop);
    let thread_stats = Arc::clone(&stats);
    let audio = std::thread::spawn(move || {
        let mut l = AudioLoop::with_capacity(
            Vec::new(),
            waker,
            thread_stats,
            super::Capacity {
                lines: 4,
                max_number: 16,
            },
            Some(audio_side),
        );
        l.run_channel_fds(mode, 20, &thread_stop)
    });
    let mut dev = Fake::new(5);
    dev.gate_open = false;
    dev.script
        .extend([Step::Frame(1), Step::Pending(LineEvent::RingBegin)]);
    let kick_fd = dev.fd.as_fd().try_clone_to_owned().expect("dup");
    let (line, mut ctl) = line_for(dev);
    assert!(m.requests.try_push(super::Membership::Add(line)).is_ok());
    // Let the loop take it (its 20 ms wait ends), then make it readable.
    let mut evs = mio::Events::with_capacity(4);
    let _ = control_poll.poll(&mut evs, Some(Duration::from_millis(100)));
    nix::unistd::write(&kick_fd, &1u64.to_ne_bytes()).expect("kick");
    let mut got = Vec::new();
    for _ in 0..50 {
        control_poll
            .poll(&mut evs, Some(Duration::from_millis(100)))
            .expect("poll");
        got.extend(std::iter::from_fn(|| ctl.poll_event()));
        if !got.is_empty() {
            break;
        }
    }
    // Take it out again and stop.
    assert!(
        m.requests
            .try_push(super::Membership::Remove(ChannelId(5)))
            .is_ok()
    );
    let mut back = None;
    for _ in 0..50 {
        if let Some(b) = m.returned.try_pop() {
            back = Some(b);
            break;
        }
        let _ = control_poll.poll(&mut evs, Some(Duration::from_millis(100)));
    }
    stop.store(true, Ordering::Relaxed);
    audio.join().expect("audio thread").expect("loop ran");
    assert!(
        matches!(back, Some(super::Returned::Removed(_))),
        "{back:?}"
    );
    assert!(
        got.iter().any(|e| matches!(
            e,
            MediaEvent::Line {
                event: LineEvent::RingBegin,
                ..
            }
        )),
        "{got:?}"
    );
}

#[test]
fn edge_triggered_loop_takes_a_channel_added_while_it_runs() {
    run_loop_adding_in(WaitMode::Edge);
}

#[test]
fn level_triggered_loop_takes_a_channel_added_while_it_runs() {
    run_loop_adding_in(WaitMode::Level);
}

#[test]
fn a_late_wake_up_in_silence_writes_one_block_so_the_transmit_lead_does_not_grow() {
    let mut r = rig(vec![ten_ms(1)], empty_prompts());
    r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    r.audio.service(0);
    // The loop wakes 20 ms late: three blocks wait. The board's queue ran dry meanwhile;
    // writing all three would keep every later prompt 20 ms later for good.
    for _ in 0..3 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    }
    r.audio.service(0);
    assert_eq!(r.audio.dev(0).written.len(), 2, "one block per wake-up");
    assert_eq!(r.audio.stats.tx_trimmed.load(Ordering::Relaxed), 2);
    // On time again: every block is written.
    for _ in 0..4 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(0));
        r.audio.service(0);
    }
    assert_eq!(r.audio.dev(0).written.len(), 6);
    assert_eq!(r.audio.stats.tx_trimmed.load(Ordering::Relaxed), 2);
}

#[test]
fn a_primed_block_goes_out_first_and_rides_out_one_block_of_lateness() {
    let mut r = rig(vec![ten_ms(1)], empty_prompts());
    r.audio.set_tx_prime(1);
    r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    r.audio.service(0);
    assert_eq!(
        r.audio.dev(0).written.len(),
        2,
        "the primed block, then the first"
    );
    assert!(r.audio.dev(0).written[0].iter().all(|&s| s == 0), "silence");
    // 10 ms late: the primed block covered it, so both blocks go out (the queue refills).
    for _ in 0..2 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    }
    r.audio.service(0);
    assert_eq!(r.audio.dev(0).written.len(), 4);
    assert_eq!(r.audio.stats.tx_trimmed.load(Ordering::Relaxed), 0);
    // 20 ms late: one block more than the primed lead; that one is left out.
    for _ in 0..3 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    }
    r.audio.service(0);
    assert_eq!(r.audio.dev(0).written.len(), 6);
    assert_eq!(r.audio.stats.tx_trimmed.load(Ordering::Relaxed), 1);
    // Primed once only.
    r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    r.audio.service(0);
    assert_eq!(r.audio.dev(0).written.len(), 7);
}

#[test]
fn a_late_wake_up_during_a_prompt_keeps_every_sample_and_makes_up_the_lead_in_the_next_silence() {
    let mut table = PromptTable::new();
    let p = table.push(&[555; 400]);
    let mut r = rig(vec![ten_ms(1)], Box::leak(Box::new(table)));
    r.ctls[0]
        .try_send(MediaCommand::Play {
            prompt: p,
            barge_in: DigitSet::EMPTY,
        })
        .unwrap();
    r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    r.audio.service(0);
    // 20 ms late, mid-prompt: the prompt's blocks are all written (no audio lost).
    for _ in 0..3 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(0));
    }
    r.audio.service(0);
    assert_eq!(r.audio.dev(0).written.len(), 4);
    // The prompt (400 samples = 5 blocks) ends in the next block; then two silent blocks
    // are left out, and the rest are written.
    for _ in 0..6 {
        r.audio.lines[0].dev.script.push_back(Step::Frame(0));
        r.audio.service(0);
    }
    let written = &r.audio.dev(0).written;
    assert_eq!(written.len(), 8, "10 blocks read, 2 silent ones left out");
    let line: Vec<i16> = written.concat();
    assert!(line[..400].iter().all(|&s| s == 555), "the whole prompt");
    assert!(line[400..].iter().all(|&s| s == 0));
    assert_eq!(r.audio.stats.tx_trimmed.load(Ordering::Relaxed), 2);
}
