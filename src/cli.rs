//! Command-line definitions (clap). Names and flags follow Kubo's `ipfs` where they overlap.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// WANDA: a telescope that is its own IPFS node.
#[derive(Parser, Debug)]
#[command(name = "wanda", version, about, propagate_version = true)]
pub struct Cli {
    /// Repo directory.
    #[arg(long, global = true, env = "WANDA_REPO", value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// RPC credential sent to the daemon (`bearer:TOKEN` or `basic:USER:PASSWORD`, like an
    /// `api.authorizations.*.auth_secret`).
    #[arg(
        long,
        global = true,
        env = "WANDA_API_AUTH",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub api_auth: Option<String>,
    /// More logging (-v info, -vv debug); WANDA_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a repo (config, identity key, datastore).
    Init {
        /// Network profile: local (loopback only), lan or public.
        #[arg(long, default_value = "local")]
        profile: String,
    },
    /// Who may control the telescope: list credentials, or create the owner's
    /// (`wanda auth owner`).
    Auth {
        #[command(subcommand)]
        cmd: Option<crate::commands::auth::AuthCommand>,
    },
    /// Read or write config keys (`wanda config show`, `wanda config KEY [VALUE]`).
    Config {
        /// Dotted key (e.g. addresses.api), or `show`.
        key: String,
        /// New value (TOML syntax: 80, true, ["a","b"]; anything else is a string).
        value: Option<String>,
        /// Parse VALUE as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add files or directories (like `ipfs add`).
    Add(AddArgs),
    /// Print a file's content.
    Cat {
        /// CID[/path].
        path: String,
        /// Byte offset to start at.
        #[arg(short, long, default_value_t = 0)]
        offset: u64,
        /// Maximum bytes to print.
        #[arg(short, long)]
        length: Option<u64>,
        /// With a daemon: how long to wait for each block from the network (e.g. 30s).
        #[arg(long, default_value = "60s")]
        timeout: String,
    },
    /// Write a file or directory to the filesystem.
    Get {
        /// CID[/path].
        path: String,
        /// Output path (default: the CID or last path segment in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List a directory.
    Ls {
        /// CID[/path].
        path: String,
    },
    /// Raw blocks.
    #[command(subcommand)]
    Block(BlockCommand),
    /// List links below a CID.
    Refs {
        /// CID[/path].
        path: String,
        /// Recurse through the whole DAG.
        #[arg(short, long)]
        recursive: bool,
        /// Print each CID once.
        #[arg(short, long)]
        unique: bool,
    },
    /// DAG import/export as CAR.
    #[command(subcommand)]
    Dag(DagCommand),
    /// Pins.
    #[command(subcommand)]
    Pin(PinCommand),
    /// Repo maintenance.
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Run the node online (RPC API, swarm) until SIGINT/SIGTERM.
    Daemon,
    /// The main job on simulated hardware: a local node, a short capture session, each
    /// capture's CID and gateway URL; then serves until Ctrl-C (or exits with --exit).
    Demo(DemoArgs),
    /// Show the node's identity (and addresses when the daemon runs).
    Id,
    /// Peers and connections (needs the daemon).
    #[command(subcommand)]
    Swarm(SwarmCommand),
    /// Publish/subscribe (needs the daemon).
    #[command(subcommand)]
    Pubsub(PubsubCommand),
    /// DHT content routing (needs the daemon).
    #[command(subcommand)]
    Routing(RoutingCommand),
    /// IPNS keys.
    #[command(subcommand)]
    Key(crate::commands::key::KeyCommand),
    /// IPNS names: publish and resolve (needs the daemon).
    #[command(subcommand)]
    Name(crate::commands::name::NameCommand),
    /// Node statistics (needs the daemon).
    #[command(subcommand)]
    Stats(crate::commands::stats::StatsCommand),
}

/// `wanda swarm …`.
#[derive(Subcommand, Debug)]
pub enum SwarmCommand {
    /// Connected peers.
    Peers,
    /// Connect to a multiaddr (`…/p2p/<peer id>`).
    Connect {
        /// Multiaddr.
        addr: String,
    },
    /// Close connections to a peer.
    Disconnect {
        /// Multiaddr ending in `/p2p/<peer id>`.
        addr: String,
    },
    /// Listen addresses.
    Addrs,
}

/// `wanda pubsub …`.
#[derive(Subcommand, Debug)]
pub enum PubsubCommand {
    /// Publish DATA (or stdin) on TOPIC.
    Pub {
        /// Topic.
        topic: String,
        /// Message (default: stdin).
        data: Option<String>,
    },
    /// Print messages on TOPIC, one per line.
    Sub {
        /// Topic.
        topic: String,
        /// Exit after this many messages.
        #[arg(long)]
        count: Option<usize>,
    },
    /// Subscribed topics.
    Ls,
    /// Peers we exchange pub/sub messages with (on TOPIC).
    Peers {
        /// Topic.
        topic: Option<String>,
    },
}

/// `wanda routing …`.
#[derive(Subcommand, Debug)]
pub enum RoutingCommand {
    /// Announce that this node provides CID.
    Provide {
        /// CID.
        cid: String,
    },
    /// Find providers of CID.
    Findprovs {
        /// CID.
        cid: String,
        /// Stop after this many.
        #[arg(short = 'n', long, default_value_t = 20)]
        num_providers: usize,
    },
}

/// `wanda add` flags (Kubo's names).
#[derive(Args, Debug)]
pub struct AddArgs {
    /// Files or directories (none or `-`: stdin).
    pub paths: Vec<PathBuf>,
    /// Add directory paths recursively.
    #[arg(short, long)]
    pub recursive: bool,
    /// Wrap files with a directory object.
    #[arg(short = 'w', long = "wrap-with-directory")]
    pub wrap: bool,
    /// Print only the final hash.
    #[arg(short = 'Q', long)]
    pub quieter: bool,
    /// Print only hashes.
    #[arg(short, long)]
    pub quiet: bool,
    /// Only chunk and hash; write nothing to disk.
    #[arg(short = 'n', long)]
    pub only_hash: bool,
    /// Pin the result (default true; `--pin=false` to skip).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub pin: bool,
    /// CID version (0 or 1; 1 implies --raw-leaves).
    #[arg(long, default_value_t = 0)]
    pub cid_version: u8,
    /// Use raw blocks for leaves.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub raw_leaves: Option<bool>,
    /// Chunking algorithm, size-N.
    #[arg(short = 's', long, default_value = "size-262144")]
    pub chunker: String,
    /// Use the trickle DAG layout.
    #[arg(short = 't', long)]
    pub trickle: bool,
    /// Include hidden files (recursive add).
    #[arg(short = 'H', long)]
    pub hidden: bool,
    /// Progress bar (default: on when stderr is a terminal).
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub progress: bool,
}

/// `wanda block …`.
#[derive(Subcommand, Debug)]
pub enum BlockCommand {
    /// Print a block's raw bytes.
    Get {
        /// CID.
        cid: String,
    },
    /// Store a block from a file (or stdin) and print its CID.
    Put {
        /// File (default stdin).
        file: Option<PathBuf>,
        /// Multicodec of the CID (raw, dag-pb, dag-cbor, dag-json).
        #[arg(long, default_value = "raw")]
        cid_codec: String,
        /// Pin the block.
        #[arg(long)]
        pin: bool,
    },
    /// Print a block's size.
    Stat {
        /// CID.
        cid: String,
    },
    /// Remove blocks.
    Rm {
        /// CIDs.
        #[arg(required = true)]
        cids: Vec<String>,
        /// Ignore blocks that are absent.
        #[arg(short, long)]
        force: bool,
    },
}

/// `wanda dag …`.
#[derive(Subcommand, Debug)]
pub enum DagCommand {
    /// Write a CAR v1 of the DAG to stdout.
    Export {
        /// Root CID.
        cid: String,
    },
    /// Import CAR files (verifying every block) and pin their roots.
    Import {
        /// CAR files (`-` for stdin).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Pin the roots (default true).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        pin_roots: bool,
    },
}

/// `wanda pin …`.
#[derive(Subcommand, Debug)]
pub enum PinCommand {
    /// Pin CIDs (recursively by default).
    Add {
        /// CID[/path]s.
        #[arg(required = true)]
        paths: Vec<String>,
        /// Pin recursively (`--recursive=false` for a direct pin).
        #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        recursive: bool,
        /// A name for the pin.
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove pins.
    Rm {
        /// CIDs.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// List pins.
    Ls {
        /// recursive, direct, indirect or all.
        #[arg(short = 't', long = "type", default_value = "all")]
        kind: String,
        /// Print only CIDs.
        #[arg(short, long)]
        quiet: bool,
    },
}

/// `wanda repo …`.
#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// Remove every block no pin protects.
    Gc {
        /// Print only the number removed.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Repo size and counts.
    Stat {
        /// Human-readable sizes.
        #[arg(short = 'H', long)]
        human: bool,
    },
    /// Re-hash every block.
    Verify,
}

/// `wanda demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Captures in the demo session.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub images: u32,
    /// Exposure of each capture, seconds.
    #[arg(long, default_value_t = 0.5)]
    pub exposure: f64,
    /// Size of the simulated sensor, WIDTHxHEIGHT (default: the Pi HQ camera's 4056x3040).
    #[arg(long, default_value = "4056x3040")]
    pub sim_size: String,
    /// Exit once every capture is published instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
}
