//! Ready-made personas for demos, soak tests and benchmarks.

use std::sync::Arc;

use crate::persona::{DtmfManner, Persona, Speech, Step};

/// A caller who listens to the greeting, presses 1 for order status, types the order number
/// and `#`, listens to the answer and hangs up.
pub fn order_status_caller(order: &str, speech: Option<Speech>) -> Arc<Persona> {
    let mut keys = String::from(order);
    keys.push('#');
    let mut p = Persona::new(
        "order-status",
        vec![
            Step::WaitForSilence {
                silence_ms: 700,
                timeout_ms: 15_000,
            },
            Step::press("1"),
            Step::WaitForSilence {
                silence_ms: 700,
                timeout_ms: 10_000,
            },
            Step::press(&keys),
            Step::Wait(8_000),
            Step::Say(1_500),
            Step::Wait(3_000),
            Step::HangUp,
        ],
    );
    p.speech = speech;
    Arc::new(p)
}

/// A caller who asks for an agent (presses 0 as soon as the greeting starts) and then talks.
pub fn wants_agent(speech: Option<Speech>) -> Arc<Persona> {
    let mut p = Persona::new(
        "wants-agent",
        vec![
            Step::WaitForAudio { timeout_ms: 5_000 },
            Step::Wait(1_200),
            Step::press("0"),
            Step::Wait(20_000),
            Step::Say(4_000),
        ],
    );
    p.speech = speech;
    Arc::new(p)
}

/// A caller who gives up after 8 s of ringing.
pub fn impatient() -> Arc<Persona> {
    let mut p = Persona::new(
        "impatient",
        vec![Step::Wait(5_000), Step::press("9"), Step::HangUp],
    );
    p.give_up_ringing_ms = 8_000;
    Arc::new(p)
}

/// A caller on a bad phone: quiet keys with strong twist, short tones, who talks over the
/// greeting.
pub fn sloppy_keys(order: &str, speech: Option<Speech>) -> Arc<Persona> {
    let mut keys = String::from("1");
    keys.push_str(order);
    keys.push('#');
    let mut p = Persona::new(
        "sloppy-keys",
        vec![
            Step::Wait(800),
            Step::Say(2_000),
            Step::WaitForSilence {
                silence_ms: 500,
                timeout_ms: 12_000,
            },
            Step::press(&keys),
            Step::Wait(10_000),
            Step::HangUp,
        ],
    );
    p.dtmf = DtmfManner {
        level_dbm0: (-20.0, -14.0),
        twist_db: (-3.0, 5.0),
        duration_ms: (45, 70),
        gap_ms: (45, 120),
        freq_error_pct: 1.4,
    };
    p.speech = speech;
    Arc::new(p)
}

/// An agent who answers after `answer_after_ms`, talks, and hangs up after `talk_ms`.
pub fn agent(answer_after_ms: u32, talk_ms: u32, speech: Option<Speech>) -> Arc<Persona> {
    let mut p = Persona::new(
        "agent",
        vec![Step::Say(2_000), Step::Wait(talk_ms), Step::HangUp],
    );
    p.answer_after_ms = Some(answer_after_ms);
    p.speech = speech;
    Arc::new(p)
}
