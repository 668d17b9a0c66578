//! `wanda`: the WANDA telescope binary — CLI, daemon and app in one.
//!
//! This file only parses arguments and maps errors to exit codes; everything else is the
//! `wanda` library (`src/lib.rs`): commands in `commands/`, the telescope app in `app/`.

use clap::Parser;
use wanda::{cli, commands, output};

fn main() {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    match commands::run(cli) {
        Ok(()) => {}
        Err(err) => {
            // A closed stdout (e.g. `wanda cat … | head`) is not an error worth reporting.
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                std::process::exit(0);
            }
            eprintln!("Error: {}", output::error_chain(&err));
            std::process::exit(1);
        }
    }
}

fn init_tracing(verbose: u8) {
    // Kademlia warns "Failed to trigger bootstrap: No known peers" on every timer tick of a
    // node with no peers yet (the `local` profile's normal state): keep it at -vv.
    let default = match verbose {
        0 => "warn,libp2p_kad::behaviour=error",
        1 => "info,libp2p_kad::behaviour=error",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WANDA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
