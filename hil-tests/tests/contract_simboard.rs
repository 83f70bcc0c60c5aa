//! The board channel contract, run against the simulated card in virtual time: a station port
//! wired back to back to a trunk port (like DAHDI's loop span pair), on every shipped profile
//! that has both; on 20 ms frames and on 80-sample (10 ms) blocks, as `ivrd` sets them for
//! `block_ms = 10`.

use std::path::PathBuf;

use hil_tests::contract::{self, LinePair};
use simboard::{PortType, Profile, SimBoard, SimChannel};

struct SimPair {
    board: SimBoard,
    exchange: SimChannel,
    phone: SimChannel,
}

impl LinePair for SimPair {
    type Ch = SimChannel;

    fn exchange(&mut self) -> &mut SimChannel {
        &mut self.exchange
    }

    fn phone(&mut self) -> &mut SimChannel {
        &mut self.phone
    }

    fn wait_ms(&mut self, ms: u64) {
        self.board.advance_ms(ms);
    }
}

fn profiles() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../firmware-stubs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

fn pair(profile: Profile, block: usize) -> Option<SimPair> {
    let station = profile.ports().find(|p| p.1 == PortType::FxsStation)?.0;
    let trunk = profile.ports().find(|p| p.1.is_trunk())?.0;
    let mut board = SimBoard::from_profile(profile);
    board.wire_pair(station, trunk).unwrap();
    let mut exchange = board.take_channel(station).unwrap();
    let mut phone = board.take_channel(trunk).unwrap();
    exchange.set_io_block(block).unwrap();
    phone.set_io_block(block).unwrap();
    Some(SimPair {
        exchange,
        phone,
        board,
    })
}

#[test]
fn channel_contract_holds_on_every_profile_with_a_station_and_a_trunk() {
    every_check_on_every_profile(160);
}

/// On 80-sample blocks: every check but "event pending stops audio", which writes 20 ms
/// frames whatever the channel's block.
#[test]
fn channel_contract_holds_on_10_ms_blocks() {
    every_check_on_every_profile(80);
}

fn every_check_on_every_profile(block: usize) {
    let mut ran = 0;
    for path in profiles() {
        let profile = Profile::load(&path).unwrap();
        let Some(mut p) = pair(profile, block) else {
            continue;
        };
        for (name, check) in contract::all::<SimPair>() {
            if block != 160 && name == "event pending stops audio" {
                continue;
            }
            contract::settle(&mut p).unwrap_or_else(|f| panic!("{}: {f}", path.display()));
            match check(&mut p) {
                Ok(report) => println!("{}: {name}: {report}", path.display()),
                Err(f) => panic!("{}: {f}", path.display()),
            }
        }
        ran += 1;
    }
    assert!(ran >= 3, "only {ran} profiles had a station and a trunk");
}
