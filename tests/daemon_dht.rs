//! Three daemons in a line, A – B – C (C knows only B, B only A): content and IPNS names travel
//! through the DHT.

mod cli_common;

use cli_common::{Daemon, Wanda, in_loopback_netns, seed_bytes, write};
use std::time::{Duration, Instant};

/// A (holding `data`, not yet providing it), B connected to A, C connected to B.
fn line(data: &[u8]) -> (Daemon, Daemon, Daemon, String) {
    let a_repo = Wanda::init();
    let file = a_repo.path("m31.fits");
    write(&file, data);
    let cid = a_repo
        .ok(&["add", "-Q", file.to_str().unwrap()])
        .trim()
        .to_string();
    let a = Daemon::start_existing(a_repo, &[]);
    let b = Daemon::start(&[]);
    let c = Daemon::start(&[]);
    b.w.ok(&["swarm", "connect", &a.addr()]);
    c.w.ok(&["swarm", "connect", &b.addr()]);
    (a, b, c, cid)
}

fn peer_id(d: &Daemon) -> String {
    let id: serde_json::Value = serde_json::from_str(&d.w.ok(&["id"])).unwrap();
    id["ID"].as_str().unwrap().to_string()
}

/// Calls an RPC command of `d` and parses the JSON answer.
fn rpc(d: &Daemon, cmd: &str) -> serde_json::Value {
    let api = std::fs::read_to_string(d.w.repo.join("api")).unwrap();
    let parts: Vec<&str> = api.trim().trim_matches('/').split('/').collect();
    let url = format!("http://{}:{}/api/v0/{cmd}", parts[1], parts[3]);
    let mut resp = ureq::post(&url).send_empty().unwrap();
    serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
}

/// Retries `f` every 300 ms until it returns `Some` or 30 s pass.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn c_finds_a_as_provider_through_b_and_fetches() {
    if !in_loopback_netns("c_finds_a_as_provider_through_b_and_fetches") {
        return;
    }
    let data = seed_bytes("dht-line-3mib", 3 << 20);
    let (a, b, c, cid) = line(&data);
    let a_id = peer_id(&a);
    // C has never seen A: it is not among C's peers
    assert!(!c.w.ok(&["swarm", "peers"]).contains(&a_id));
    // A announces; C's DHT lookup (through B) names A
    eventually("C to find A as a provider", || {
        let _ = a.w.run(&["routing", "provide", &cid]);
        let found = c.w.ok(&["routing", "findprovs", "-n", "1", &cid]);
        found.lines().any(|l| l.trim() == a_id).then_some(())
    });
    let out =
        c.w.cmd()
            .args(["cat", "--timeout", "20s", &cid])
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == data, "bytes fetched on C differ from A's");
    // real traffic counters: C received at least the file
    let bw = rpc(&c, "stats/bw");
    assert!(
        bw["TotalIn"].as_u64().unwrap() >= data.len() as u64,
        "stats/bw on C: {bw}"
    );
    assert!(bw["TotalOut"].as_u64().unwrap() > 0, "{bw}");
    let text = c.w.ok(&["stats", "bw"]);
    assert!(text.starts_with("Bandwidth\nTotalIn: "), "{text}");
    drop((a, b, c));
}

#[test]
fn ipns_name_published_on_a_resolves_on_c() {
    if !in_loopback_netns("ipns_name_published_on_a_resolves_on_c") {
        return;
    }
    let (a, _b, c, cid) = line(&seed_bytes("dht-line-ipns", 1000));
    let a_id = peer_id(&a);
    // wait until A's routing table has B (identify), else the put has nowhere to go
    eventually("A to see B's protocols", || {
        let peers = rpc(&a, "swarm/peers");
        peers["Peers"][0]["Identify"]["Protocols"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
            .then_some(())
    });
    let out =
        a.w.ok(&["name", "publish", "--ttl", "1s", &format!("/ipfs/{cid}")]);
    let name = out
        .strip_prefix("Published to ")
        .and_then(|r| r.split(':').next())
        .unwrap_or_else(|| panic!("unexpected publish output {out:?}"))
        .to_string();
    assert!(name.starts_with("k51"), "{out}");
    assert_eq!(out.trim(), format!("Published to {name}: /ipfs/{cid}"));
    // the name is A's peer id
    let a_name = rpc(&a, "key/list")["Keys"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(a_name, name);
    assert_ne!(a_id, "");
    // resolves on A without the network, and on C through the DHT
    assert_eq!(a.w.ok(&["name", "resolve"]).trim(), format!("/ipfs/{cid}"));
    assert_eq!(
        c.w.ok(&["name", "resolve", &name]).trim(),
        format!("/ipfs/{cid}")
    );
    // a newer record (sequence 1) replaces it everywhere once the 1 s TTL is over
    let other = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    a.w.ok(&["name", "publish", &format!("/ipfs/{other}")]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        c.w.ok(&["name", "resolve", &format!("/ipns/{name}")])
            .trim(),
        format!("/ipfs/{other}")
    );
    // a named key: generated through the daemon, published, resolved on C
    let key_id = a.w.ok(&["key", "gen", "m42"]).trim().to_string();
    assert!(key_id.starts_with("k51"), "{key_id}");
    let listed = a.w.ok(&["key", "list", "-l"]);
    assert_eq!(listed, format!("{name} self\n{key_id} m42\n"));
    let out = a.w.ok(&["name", "publish", "--key", "m42", &cid]);
    assert_eq!(out.trim(), format!("Published to {key_id}: /ipfs/{cid}"));
    assert_eq!(
        c.w.ok(&["name", "resolve", &key_id]).trim(),
        format!("/ipfs/{cid}")
    );
    // unknown names: a clear error
    let stranger = Wanda::init();
    let stranger_name = stranger.ok(&["key", "list", "-l"]);
    let stranger_name = stranger_name.split(' ').next().unwrap();
    c.w.fails(
        &["name", "resolve", stranger_name],
        "could not resolve name",
    );
    a.w.fails(
        &["name", "publish", "--key", "nope", &cid],
        "no key named 'nope'",
    );
}

#[test]
fn name_commands_need_the_daemon_and_keys_work_offline() {
    let w = Wanda::init();
    w.fails(&["name", "resolve"], "wanda daemon");
    w.fails(
        &[
            "name",
            "publish",
            "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        ],
        "wanda daemon",
    );
    w.fails(&["stats", "bw"], "wanda daemon");
    let id = w.ok(&["key", "gen", "cam"]).trim().to_string();
    assert!(id.starts_with("k51"), "{id}");
    assert_eq!(w.ok(&["key", "list"]), "self\ncam\n");
    w.fails(&["key", "gen", "cam"], "already exists");
    w.fails(
        &["key", "gen", "x", "--type", "rsa"],
        "unsupported key type",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(w.repo.join("keystore/cam.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
