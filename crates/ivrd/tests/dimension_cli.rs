//! `ivrd dimension` as an operator runs it.

use std::fs;
use std::process::{Command, Output};
use std::sync::Arc;

use ivrd::cdr::{CallResult, Cdr, CdrWriter, StoreSpec, WriterConfig};
use ivrd::metrics::Metrics;

fn ivrd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivrd"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn peak_hour_from_flags() {
    let out = ivrd(&[
        "dimension",
        "--calls-per-hour",
        "600",
        "--aht",
        "2m",
        "--ivr-time",
        "40",
        "--service-level",
        "80/20",
        "--blocking",
        "1%",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("Needed: 24 agents, 40 trunks."), "{stdout}");
    // The recommended row shows SL 84.7 % and ASA 8.9 s.
    let row = stdout.lines().find(|l| l.contains("<- needed")).unwrap();
    assert!(row.contains("84.7%") && row.contains("8.9s"), "{row}");
}

#[test]
fn bad_values_name_the_flag_and_the_value() {
    let out = ivrd(&["dimension", "--calls-per-hour", "600", "--aht", "soon"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("--aht") && err.contains("soon"), "{err}");

    let out = ivrd(&[
        "dimension",
        "--calls-per-hour",
        "600",
        "--aht",
        "120",
        "--service-level",
        "80",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("--service-level") && err.contains("80"),
        "{err}"
    );

    let out = ivrd(&["dimension", "--calls-per-hour", "600", "--aht", "0"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("--aht 0: must be more than 0 seconds"),
        "{err}"
    );

    let out = ivrd(&["dimension", "--aht", "120"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--calls-per-hour"));
}

#[test]
fn inputs_from_the_busiest_hour_of_the_cdrs() {
    let dir = std::env::temp_dir().join(format!("ivrd-dimcli-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let db = dir.join("cdr.sqlite");
    let w = CdrWriter::spawn(
        WriterConfig::new(StoreSpec::Sqlite(db.clone()), dir.join("s.jsonl")),
        Arc::new(Metrics::new(0)),
    )
    .unwrap();
    // A quiet hour (100 calls) and a busy hour: 300 calls, every call 40 s in
    // the IVR then 120 s with an agent (after 10 s in the queue).
    let hour = 3_600_000i64;
    let base = 480_000 * hour;
    for (h, calls) in [(0, 100), (1, 300)] {
        for k in 0..calls {
            let start = base + h * hour + k * (hour / calls);
            let mut c = Cdr::new(start, (k % 30 + 1) as u16);
            c.answer_ms = Some(start + 3_000);
            c.transfer_ms = Some(start + 43_000);
            c.agent_answer_ms = Some(start + 53_000);
            c.end_ms = start + 173_000;
            c.result = CallResult::Transferred;
            w.sink().submit(c);
        }
    }
    w.shutdown();
    let out = ivrd(&["dimension", "--cdr", db.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("300 calls, 300 answered, 300 to agents"),
        "{stdout}"
    );
    // Same traffic as FEATURE-ANCHORS §12's first row: 13 agents, 23 trunks.
    assert!(stdout.contains("Needed: 13 agents, 23 trunks."), "{stdout}");

    // Flags that the CDRs supply cannot be given as well.
    let out = ivrd(&["dimension", "--cdr", db.to_str().unwrap(), "--aht", "60"]);
    assert!(!out.status.success());

    // A missing database is an error naming it.
    let missing = dir.join("nope.sqlite");
    let out = ivrd(&["dimension", "--cdr", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nope.sqlite"),
        "{}",
        text(&out.stderr)
    );
    fs::remove_dir_all(&dir).unwrap();
}
