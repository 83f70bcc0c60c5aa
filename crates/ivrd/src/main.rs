//! `ivrd`: the IVR daemon for DAHDI voice boards and its command-line tools.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};

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
        Command::Check(a) => std::process::exit(tools::check::run(a)),
        Command::Simulate(a) => std::process::exit(tools::simulate::run(a)),
        Command::Test(a) => std::process::exit(tools::testcases::run(a)),
        Command::Graph(a) => std::process::exit(tools::graph::run(a)),
        Command::Prompts(a) => std::process::exit(tools::prompts::run(a)),
    }
    Ok(())
}
