//! The contract checks themselves, in virtual time, against a small model of a wired pair:
//! a correct model passes every check, and each seeded fault fails the check that should
//! catch it. Runs on any machine (no DAHDI needed).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use hil_tests::contract::{self, LinePair, decode, encode};
use tel_types::board::{PortKind, ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{FRAME_SAMPLES, Hook, Law, LineEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// The exchange side never hears the phone hang up.
    LoseOnHook,
    /// Reads deliver audio while an event waits.
    NoEventPending,
    /// The line loses 6 dB.
    Attenuate6dB,
    /// A flash is reported as a hangup.
    FlashAsHangup,
    /// Ringing is never detected.
    DeafToRing,
}

#[derive(Debug)]
struct ModelError;

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("busy (debounce)")
    }
}

impl std::error::Error for ModelError {}

#[derive(Debug, Default)]
struct Side {
    events: VecDeque<LineEvent>,
    rx: VecDeque<Vec<i16>>,
    tx: VecDeque<Vec<i16>>,
}

#[derive(Debug)]
struct State {
    fault: Fault,
    now: u64,
    sides: [Side; 2],
    laws: [Law; 2],
    phone_off: bool,
    off_since: u64,
    on_since: Option<u64>,
    flash_until: Option<u64>,
    ringing_since: Option<u64>,
    ring_reported: bool,
    /// Events scheduled for the exchange (0) or phone (1) side: (due ms, side, event).
    due: Vec<(u64, usize, LineEvent)>,
}

#[derive(Debug)]
struct ModelCh {
    idx: usize,
    st: Rc<RefCell<State>>,
}

impl VoiceChannel for ModelCh {
    type Error = ModelError;

    fn number(&self) -> u16 {
        if self.idx == 0 { 1 } else { 25 }
    }

    fn port_kind(&self) -> PortKind {
        if self.idx == 0 {
            PortKind::FxsStation
        } else {
            PortKind::FxoTrunk
        }
    }

    fn law(&self) -> Law {
        self.st.borrow().laws[self.idx]
    }

    fn read_frame(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, ModelError> {
        let mut st = self.st.borrow_mut();
        let law = st.laws[self.idx];
        let fault = st.fault;
        let side = &mut st.sides[self.idx];
        if !side.events.is_empty() && fault != Fault::NoEventPending {
            return Ok(ReadOutcome::EventPending);
        }
        match side.rx.pop_front() {
            Some(pcm) => {
                let n = law.frame_bytes();
                encode(law, &pcm, &mut buf[..n]);
                Ok(ReadOutcome::Data(n))
            }
            None => Ok(ReadOutcome::WouldBlock),
        }
    }

    fn write_frame(&mut self, buf: &[u8]) -> Result<WriteOutcome, ModelError> {
        let mut st = self.st.borrow_mut();
        let law = st.laws[self.idx];
        let fault = st.fault;
        let side = &mut st.sides[self.idx];
        if !side.events.is_empty() && fault != Fault::NoEventPending {
            return Ok(WriteOutcome::EventPending);
        }
        if side.tx.len() >= 2 {
            return Ok(WriteOutcome::WouldBlock);
        }
        let mut pcm = vec![0i16; FRAME_SAMPLES];
        decode(law, buf, &mut pcm);
        side.tx.push_back(pcm);
        Ok(WriteOutcome::Written(buf.len()))
    }

    fn next_event(&mut self) -> Result<Option<LineEvent>, ModelError> {
        Ok(self.st.borrow_mut().sides[self.idx].events.pop_front())
    }

    fn set_hook(&mut self, hook: Hook) -> Result<(), ModelError> {
        let mut st = self.st.borrow_mut();
        let now = st.now;
        match (self.idx, hook) {
            (1, Hook::OffHook) if !st.phone_off => {
                st.phone_off = true;
                st.off_since = now;
                st.ringing_since = None;
                match st.on_since.take() {
                    // Back off-hook within rxflashtime: a flash, not a hangup.
                    Some(t) if now - t < 1250 => st.due.push((now + 5, 0, LineEvent::WinkFlash)),
                    _ => st.due.push((now + 5, 0, LineEvent::RingOffHook)),
                }
            }
            (1, Hook::OnHook) if st.phone_off => {
                st.phone_off = false;
                st.on_since = Some(now);
            }
            (1, Hook::Flash) => {
                if !st.phone_off || now - st.off_since < 600 {
                    return Err(ModelError);
                }
                st.flash_until = Some(now + 750);
                st.phone_off = false;
                st.on_since = Some(now);
            }
            (0, Hook::Ring) => {
                st.ringing_since = Some(now);
                st.ring_reported = false;
            }
            (0, Hook::OnHook | Hook::RingOff) => st.ringing_since = None,
            _ => {}
        }
        Ok(())
    }
}

struct ModelPair {
    st: Rc<RefCell<State>>,
    x: ModelCh,
    p: ModelCh,
}

impl ModelPair {
    fn new(fault: Fault, law: Law) -> Self {
        let st = Rc::new(RefCell::new(State {
            fault,
            now: 0,
            sides: [Side::default(), Side::default()],
            laws: [law, law],
            phone_off: false,
            off_since: 0,
            on_since: None,
            flash_until: None,
            ringing_since: None,
            ring_reported: false,
            due: Vec::new(),
        }));
        Self {
            x: ModelCh {
                idx: 0,
                st: st.clone(),
            },
            p: ModelCh {
                idx: 1,
                st: st.clone(),
            },
            st,
        }
    }

    fn tick_ms(&mut self) {
        let mut st = self.st.borrow_mut();
        st.now += 1;
        let now = st.now;
        let fault = st.fault;
        if let Some(t) = st.flash_until
            && now >= t
        {
            st.flash_until = None;
            st.phone_off = true;
            st.off_since = now;
            st.on_since = None;
            let ev = if fault == Fault::FlashAsHangup {
                LineEvent::OnHook
            } else {
                LineEvent::WinkFlash
            };
            st.due.push((now, 0, ev));
        }
        if let Some(t) = st.on_since
            && now - t == 1250
            && fault != Fault::LoseOnHook
        {
            st.due.push((now, 0, LineEvent::OnHook));
        }
        if let Some(t) = st.ringing_since
            && now - t == 1000
            && !st.ring_reported
            && fault != Fault::DeafToRing
        {
            st.ring_reported = true;
            st.due.push((now, 1, LineEvent::RingOffHook));
        }
        let (ready, later): (Vec<_>, Vec<_>) = st.due.drain(..).partition(|d| d.0 <= now);
        st.due = later;
        for (_, side, ev) in ready {
            st.sides[side].events.push_back(ev);
        }
        if now % 20 == 0 {
            let gain = if fault == Fault::Attenuate6dB {
                0.5
            } else {
                1.0
            };
            for from in 0..2 {
                let pcm = st.sides[from]
                    .tx
                    .pop_front()
                    .unwrap_or_else(|| vec![0; FRAME_SAMPLES]);
                let pcm: Vec<i16> = pcm.iter().map(|&s| (f64::from(s) * gain) as i16).collect();
                let rx = &mut st.sides[1 - from].rx;
                rx.push_back(pcm);
                if rx.len() > 4 {
                    rx.pop_front();
                }
            }
        }
    }
}

impl LinePair for ModelPair {
    type Ch = ModelCh;

    fn exchange(&mut self) -> &mut ModelCh {
        &mut self.x
    }

    fn phone(&mut self) -> &mut ModelCh {
        &mut self.p
    }

    fn wait_ms(&mut self, ms: u64) {
        for _ in 0..ms {
            self.tick_ms();
        }
    }
}

fn run(fault: Fault, law: Law, check: contract::Check<ModelPair>) -> contract::CheckResult {
    let mut pair = ModelPair::new(fault, law);
    contract::settle(&mut pair)?;
    check(&mut pair)
}

#[test]
fn a_correct_line_passes_every_check() {
    for law in [Law::Linear, Law::ALaw, Law::MuLaw] {
        for (name, check) in contract::all::<ModelPair>() {
            match run(Fault::None, law, check) {
                Ok(report) => println!("{law:?} {name}: {report}"),
                Err(f) => panic!("{law:?}: {f}"),
            }
        }
    }
}

#[test]
fn each_fault_fails_its_check() {
    let cases: [(Fault, contract::Check<ModelPair>, &str); 5] = [
        (
            Fault::LoseOnHook,
            contract::off_hook_and_on_hook_cross,
            "no OnHook",
        ),
        (
            Fault::NoEventPending,
            contract::event_pending_stops_audio,
            "EventPending",
        ),
        (
            Fault::Attenuate6dB,
            contract::frames_cross_at_level,
            "wrong level",
        ),
        (Fault::FlashAsHangup, contract::flash_crosses, "WinkFlash"),
        (
            Fault::DeafToRing,
            contract::ring_and_answer_cross,
            "no RingOffHook",
        ),
    ];
    for (fault, check, words) in cases {
        let f = run(fault, Law::Linear, check).expect_err(&format!("{fault:?} must fail"));
        println!("{fault:?}: {f}");
        assert!(f.to_string().contains(words), "{fault:?}: {f}");
    }
}
