//! `ivrd`: the IVR daemon for DAHDI voice boards and its command-line tools.
#![forbid(unsafe_code)]

// The standalone modules (config, CDRs, metrics, dimensioning) live in the
// library target, `src/lib.rs`, and are used here as `ivrd::...`.
mod audio;

use clap::{Parser, Subcommand};

mod control;
mod decode;
mod demo;
mod run;
mod tools;

/// The IVR daemon for DAHDI voice boards, and the tools that go with it.
#[derive(Debug, Parser)]
#[command(name = "ivrd", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the version of the workspace crates.
    Version,
    /// Trunks (Erlang B) and agents (Erlang C) needed for the peak hour.
    Dimension(ivrd::dimension::DimensionArgs),
    /// Check that this machine keeps real time: run the audio loop over the simulated card
    /// (or a bare timer-paced board) with every pipeline busy and report wake-up lateness.
    AudioCheck(audio::check::Args),
    /// Run the daemon in the foreground (logs to stderr; SIGHUP reloads scripts, SIGTERM
    /// stops after the calls in progress).
    Run(run::RunArgs),
    /// The daemon on the simulated card with simulated callers, the sample shop and the
    /// bundled scripts: a status line every second and a summary.
    Demo(demo::DemoArgs),
    /// Decode WAV recordings: DTMF digits, caller ID and call-progress tones.
    Decode(decode::DecodeArgs),
    /// Check IVR scripts: every error and warning at file:line:col.
    Check(tools::check::CheckArgs),
    /// Run a script against a simulated caller and print the transcript.
    Simulate(tools::simulate::SimulateArgs),
    /// Run the designers' test cases and report branch coverage.
    Test(tools::testcases::TestArgs),
    /// Draw a script's call flow as Graphviz DOT or SVG.
    Graph(tools::graph::GraphArgs),
    /// Check and convert prompt files.
    Prompts(tools::prompts::PromptsArgs),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().command {
        Command::Version => println!("ivrd {}", env!("CARGO_PKG_VERSION")),
        Command::Dimension(args) => ivrd::dimension::cli(&args),
        Command::AudioCheck(args) => audio::check::run(&args)?,
        Command::Run(a) => std::process::exit(run::run(&a)),
        Command::Demo(a) => std::process::exit(demo::run(&a)),
        Command::Decode(a) => std::process::exit(i32::from(!decode::run(a)?)),
        Command::Check(a) => std::process::exit(tools::check::run(a)),
        Command::Simulate(a) => std::process::exit(tools::simulate::run(a)),
        Command::Test(a) => std::process::exit(tools::testcases::run(a)),
        Command::Graph(a) => std::process::exit(tools::graph::run(a)),
        Command::Prompts(a) => std::process::exit(tools::prompts::run(a)),
    }
    Ok(())
}
