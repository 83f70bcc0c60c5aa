//! The board channel contract (`hil_tests::contract`) on real DAHDI channels: the main pair
//! in 16-bit linear, and the A-law pair in A-law. Skips where there is no `/dev/dahdi`.

use hil_tests::contract::{self, CheckResult, LinePair};
use hil_tests::dahdi_rig::{DahdiPair, rig};
use tel_types::Law;
use tel_types::board::{PortKind, VoiceChannel};

/// Runs one contract check on a freshly opened pair, from a settled start.
fn run(test: &str, law: Option<Law>, alaw_pair: bool, check: fn(&mut DahdiPair) -> CheckResult) {
    run_with_block(test, law, alaw_pair, None, check);
}

/// [`run`], with the phone side (the IVR's trunk port) set to `block` samples per read and
/// write (`Channel::set_io_block`, as `ivrd` does for `block_ms = 10`).
fn run_with_block(
    test: &str,
    law: Option<Law>,
    alaw_pair: bool,
    block: Option<u32>,
    check: fn(&mut DahdiPair) -> CheckResult,
) {
    let Some(rig) = rig(test) else { return };
    let c = rig.config;
    let (x, p) = if alaw_pair {
        (c.alaw_exchange, c.alaw_phone)
    } else {
        (c.exchange, c.phone)
    };
    let mut pair = DahdiPair::open(x, p, law);
    assert_eq!(
        pair.exchange().port_kind(),
        PortKind::FxsStation,
        "channel {x}: configure it fxoks"
    );
    assert_eq!(
        pair.phone().port_kind(),
        PortKind::FxoTrunk,
        "channel {p}: configure it fxsks"
    );
    if let Some(law) = law {
        assert_eq!(pair.exchange().law(), law);
    }
    if let Some(samples) = block {
        pair.phone
            .set_io_block(samples)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pair.phone().block_samples(), samples as usize);
        let b = pair.phone.buffers().unwrap_or_else(|e| panic!("{e}"));
        println!("{test}: phone side buffers {b:?}");
        let bufs = (dahdi::Channel::BUFFERED_MS * 8)
            .div_ceil(samples)
            .clamp(2, 32);
        assert_eq!((b.buf_size, b.num_bufs), (samples, bufs));
    }
    contract::settle(&mut pair).unwrap_or_else(|f| panic!("{f}"));
    let report = check(&mut pair);
    // Leave the pair idle for the next test even when this one failed.
    let _ = contract::settle(&mut pair);
    match report {
        Ok(r) => println!("{test}: ok: {r}"),
        Err(f) => panic!("{f}"),
    }
}

#[test]
fn off_hook_and_on_hook_cross() {
    run(
        "off_hook_and_on_hook_cross",
        Some(Law::Linear),
        false,
        contract::off_hook_and_on_hook_cross,
    );
}

#[test]
fn event_pending_stops_audio() {
    run(
        "event_pending_stops_audio",
        Some(Law::Linear),
        false,
        contract::event_pending_stops_audio,
    );
}

#[test]
fn frames_cross_at_level_linear() {
    run(
        "frames_cross_at_level_linear",
        Some(Law::Linear),
        false,
        contract::frames_cross_at_level,
    );
}

#[test]
fn frames_cross_at_level_alaw() {
    run(
        "frames_cross_at_level_alaw",
        Some(Law::ALaw),
        true,
        contract::frames_cross_at_level,
    );
}

#[test]
fn ring_and_answer_cross() {
    run(
        "ring_and_answer_cross",
        Some(Law::Linear),
        false,
        contract::ring_and_answer_cross,
    );
}

#[test]
fn flash_crosses() {
    run(
        "flash_crosses",
        Some(Law::Linear),
        false,
        contract::flash_crosses,
    );
}

#[test]
fn idle_line_is_quiet() {
    run(
        "idle_line_is_quiet",
        Some(Law::Linear),
        false,
        contract::idle_line_is_quiet,
    );
}

#[test]
fn alaw_pair_signalling() {
    run(
        "alaw_pair_signalling",
        Some(Law::ALaw),
        true,
        contract::off_hook_and_on_hook_cross,
    );
}

#[test]
fn blocks_are_as_reported() {
    run(
        "blocks_are_as_reported",
        Some(Law::Linear),
        false,
        contract::blocks_are_as_reported,
    );
}

#[test]
fn ten_ms_blocks_are_as_reported() {
    run_with_block(
        "ten_ms_blocks_are_as_reported",
        Some(Law::ALaw),
        true,
        Some(80),
        contract::blocks_are_as_reported,
    );
}

#[test]
fn frames_cross_at_level_with_ten_ms_blocks() {
    run_with_block(
        "frames_cross_at_level_with_ten_ms_blocks",
        Some(Law::Linear),
        false,
        Some(80),
        contract::frames_cross_at_level,
    );
}
