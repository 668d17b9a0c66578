//! Bad input: a clear message, a non-zero exit, no panic — and the repo unchanged.

mod cli_common;

use cli_common::{Wanda, seed_bytes, write};

#[test]
fn bad_input_fails_cleanly_and_leaves_the_repo_unchanged() {
    let w = Wanda::init();
    let f = w.path("good");
    write(&f, &seed_bytes("good", 300_000));
    let cid = w.ok(&["add", "-Q", f.to_str().unwrap()]).trim().to_string();
    let before = w.snapshot();

    w.fails(
        &["add", w.path("missing.jpg").to_str().unwrap()],
        "missing.jpg",
    );
    w.fails(&["cat", "not-a-cid"], "invalid CID");
    w.fails(
        &["cat", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1Aw00"],
        "invalid CID",
    );
    w.fails(
        &[
            "cat",
            "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        ],
        "not found locally",
    );
    w.fails(&["cat", &format!("{cid}/nope")], "no link named");
    w.fails(&["ls", &cid], "expected a directory");
    w.fails(
        &[
            "pin",
            "add",
            "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        ],
        "not found",
    );
    w.fails(
        &["add", "--chunker", "rabin", f.to_str().unwrap()],
        "--chunker",
    );
    w.fails(
        &["add", "--chunker", "size-0", f.to_str().unwrap()],
        "--chunker",
    );
    w.fails(
        &["add", "--cid-version", "7", f.to_str().unwrap()],
        "--cid-version",
    );

    // CARs: garbage, truncated, and one whose block does not match its CID
    let car = w
        .cmd()
        .args(["dag", "export", &cid])
        .output()
        .unwrap()
        .stdout;
    let garbage = w.path("garbage.car");
    std::fs::write(&garbage, b"this is not a car file").unwrap();
    w.fails(&["dag", "import", garbage.to_str().unwrap()], "garbage.car");
    let truncated = w.path("truncated.car");
    std::fs::write(&truncated, &car[..car.len() - 100]).unwrap();
    w.fails(&["dag", "import", truncated.to_str().unwrap()], "truncated");
    let mut corrupt = car.clone();
    let n = corrupt.len();
    corrupt[n - 10] ^= 0xff;
    let corrupt_path = w.path("corrupt.car");
    std::fs::write(&corrupt_path, &corrupt).unwrap();
    w.fails(
        &["dag", "import", corrupt_path.to_str().unwrap()],
        "is corrupt",
    );

    assert_eq!(
        w.snapshot(),
        before,
        "failed commands must leave the repo unchanged"
    );
}

#[test]
fn unreadable_directory_fails_the_whole_add() {
    let w = Wanda::init();
    let dir = w.path("tree");
    write(&dir.join("a.jpg"), &seed_bytes("a", 1000));
    write(&dir.join("locked/b.jpg"), &seed_bytes("b", 1000));
    let before = w.snapshot();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // root reads anything: run as `nobody` then, with the repo and tree open to it
    let as_root = unsafe { libc_geteuid() } == 0;
    let out = if as_root {
        chown_tree(w.tmp.path(), 65534);
        std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_wanda"),
            ])
            .arg("--repo")
            .arg(&w.repo)
            .args(["add", "-r", dir.to_str().unwrap()])
            .output()
            .unwrap()
    } else {
        w.run(&["add", "-r", dir.to_str().unwrap()])
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("locked") && err.contains("Permission denied"),
        "{err}"
    );
    std::fs::set_permissions(dir.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(w.snapshot(), before);
}

fn chown_tree(path: &std::path::Path, id: u32) {
    std::os::unix::fs::lchown(path, Some(id), Some(id)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for e in std::fs::read_dir(path).unwrap() {
            chown_tree(&e.unwrap().path(), id);
        }
    }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn second_process_gets_a_clear_lock_error() {
    let w = Wanda::init();
    // `add` from a stdin that stays open holds the repo until we close it
    let mut holder = w
        .cmd()
        .args(["add", "-Q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = holder.id();
    // wait until the holder has the lock (it writes its pid into repo.lock)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(w.repo.join("repo.lock")).unwrap_or_default() != pid.to_string() {
        assert!(
            std::time::Instant::now() < deadline,
            "holder never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    w.fails(&["pin", "ls"], &format!("locked by pid {pid}"));
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    w.ok(&["pin", "ls"]);
}
