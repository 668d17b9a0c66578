//! `wanda stats bw`: bytes in and out over libp2p (needs the daemon).

use crate::rpc_client::{call, require_daemon};
use anyhow::Result;
use clap::Subcommand;
use std::path::Path;

/// `wanda stats …`.
#[derive(Subcommand, Debug)]
pub enum StatsCommand {
    /// Bandwidth totals and current rates.
    Bw,
    /// Bitswap traffic (Kubo's `stats bitswap`).
    Bitswap,
    /// Defences against hostile peers: connections refused and trimmed, messages rejected,
    /// peers penalised.
    Limits,
}

/// SI units, like Kubo's `humanize.Bytes`.
fn human(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < UNITS.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Runs a `stats` subcommand.
pub fn run(dir: &Path, cmd: StatsCommand) -> Result<()> {
    let base = require_daemon(dir)?;
    match cmd {
        StatsCommand::Bw => {
            let v = call(&base, "stats/bw", &[], None)?;
            let f = |k: &str| v[k].as_f64().unwrap_or_default();
            println!("Bandwidth");
            println!("TotalIn: {}", human(f("TotalIn")));
            println!("TotalOut: {}", human(f("TotalOut")));
            println!("RateIn: {}/s", human(f("RateIn")));
            println!("RateOut: {}/s", human(f("RateOut")));
        }
        StatsCommand::Bitswap => {
            let v = call(&base, "stats/bitswap", &[], None)?;
            let n = |k: &str| v[k].as_u64().unwrap_or_default();
            println!("bitswap status");
            println!("\tblocks received: {}", n("BlocksReceived"));
            println!("\tblocks sent: {}", n("BlocksSent"));
            println!("\tdata received: {}", n("DataReceived"));
            println!("\tdata sent: {}", n("DataSent"));
            println!("\tdup blocks received: {}", n("DupBlksReceived"));
            println!("\twantlist [{} keys]", n("WantlistLength"));
            println!(
                "\tpartners [{}]",
                v["Peers"].as_array().map_or(0, |p| p.len())
            );
        }
        StatsCommand::Limits => {
            let v = call(&base, "stats/limits", &[], None)?;
            let n = |k: &str| v[k].as_u64().unwrap_or_default();
            println!("Limits");
            println!("Peers: {}", n("peers"));
            println!("Connections: {}", n("connections"));
            println!("ConnectionsRefused: {}", n("connections_refused"));
            println!("ConnectionsTrimmed: {}", n("connections_trimmed"));
            println!("PubsubRejected: {}", n("pubsub_rejected"));
            println!("PubsubIgnored: {}", n("pubsub_ignored"));
            println!("PeersPenalised: {}", n("peers_penalised"));
            let b = |k: &str| v["bitswap"][k].as_u64().unwrap_or_default();
            println!("BitswapMessagesRefused: {}", b("messages_refused"));
            println!("BitswapEntriesRefused: {}", b("entries_refused"));
            println!("BitswapStrikes: {}", b("strikes"));
            println!("BitswapPeersPenalised: {}", b("peers_penalised"));
            println!("BitswapPenalisedNow: {}", b("penalised_now"));
        }
    }
    Ok(())
}
