//! Writes the generated fixture set: the shapes the checks use from the official set, made by
//! this crate's importer ([`Importer`]), [`CarWriter`] and [`create_record`], from seeded bytes
//! and seeded keys (so every run writes the same bytes).
//!
//! | file | shape |
//! |---|---|
//! | `dir_listing/fixtures.car` | CIDv1 dirs `api/`, `ipfs/`, `ipns/`, UTF-8 `ą/ę/file-źł.txt` |
//! | `gateway-cache/fixtures.car` | `root2/root3/root4/index.html` |
//! | `gateway-raw-block.car` | `dir/ascii.txt`: a 31-byte raw leaf in a one-entry dir |
//! | `path_gateway_unixfs/dir-with-files.car`, `trustless_gateway_car/dir-with-duplicate-files.car` | `ascii.txt` and its copy, `hello.txt`, `multiblock.txt` (1026 bytes, 256-byte raw leaves) |
//! | `path_gateway_unixfs/dir-with-percent-encoded-filename.car` | `Portugal%2C+España=Peninsula Ibérica.txt` |
//! | `path_gateway_unixfs/symlink.car` | CIDv0 dir: a file and a symlink to it |
//! | `path_gateway_dag/dag-{cbor,json}-traversal.car` | three linked DAG-CBOR / DAG-JSON blocks |
//! | `subdomain_gateway/fixtures.car` | CIDv0 dir linking a CIDv0 file and a CIDv1 raw block |
//! | `trustless_gateway_car/dir-with-dag-cbor-with-links.car` | dir with a DAG-CBOR `document` linking `files/single` and `files/multiblock` |
//! | `trustless_gateway_car/file-3k-and-3-blocks-missing-block.car` | 3072 random bytes, CIDv0, 1 KiB dag-pb leaves, middle leaf left out |
//! | `trustless_gateway_car/single-layer-hamt-with-multi-block-files.car` | HAMT of 1000 names (`1.txt`…), each the multi-block file |
//! | `trustless_gateway_car/subdir-with-{two-single-block,mixed-block}-files.car` | `subdir/` with small files (and `multiblock.txt`) |
//!
//! Records: the six IPNS spec vector cases in `ipns_records/` (valid V1+V2, V1 only, V2 only,
//! broken V1 signature, broken V2 signature, V1 value differing from the signed one), two
//! `gateway-cache/` names (the root, and `root2` below it), two `path_gateway_dag/` names (the
//! DAG-CBOR and DAG-JSON roots) and two `subdomain_gateway/` names in PeerId form (Ed25519 and
//! RSA, the RSA one with its key embedded). Every CAR is written in DFS pre-order (Kubo's
//! `dag export` order) by a recursive walk independent of `car::export_dfs`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read};
use std::path::Path;
use std::time::Duration;

use cid::Cid;
use ipld_core::ipld::Ipld;
use libp2p_identity::Keypair;
use multihash::Multihash;
use multihash_codetable::{Code, MultihashDigest};

use super::{FixtureSet, RecordExpect, rsa_keypair, seed_bytes, seeded_ed25519};
use crate::car::CarWriter;
use crate::ipld::{DAG_CBOR, DAG_JSON, IDENTITY, RAW, links};
use crate::ipns::{IpnsName, create_record, parse_rfc3339};
use crate::unixfs::{
    AddEvent, AddOptions, BlockSink, DirLink, EntryKind, EntrySource, ImportedFile, Importer,
};

/// 31 bytes, like the suite's `ascii.txt` (the checks' byte ranges assume 31).
const ASCII_TXT: &[u8] = b"WANDA watches the sky, in IPFS\n";
/// The 31-byte file of `gateway-raw-block.car`.
const RAW_ASCII_TXT: &[u8] = b"Raw block text, WANDA fixtures\n";
const HELLO_TXT: &[u8] = b"hello from WANDA's fixtures\n";
const INDEX_HTML: &[u8] = b"<h1>WANDA gateway-cache fixture</h1>\n";
/// Four full 256-byte leaves and a 2-byte one: the leaf boundaries the entity-bytes checks use.
const MULTIBLOCK_LEN: u64 = 1026;
const MULTIBLOCK_CHUNK: usize = 256;
const HAMT_ENTRIES: usize = 1000;
/// The generated set's counts (checked against the files on disk).
const CARS: usize = 15;
const NAMES: usize = 12;
/// EOL of the `ipns_records/` vectors: far ahead, before the checks' "too late" instant (2128).
const VECTOR_VALIDITY: &str = "2120-01-01T00:00:00.123456789Z";
const MISSING_BLOCK_CAR: &str = "trustless_gateway_car/file-3k-and-3-blocks-missing-block.car";

/// Keeps every block an import produces.
struct MemSink(HashMap<Cid, Vec<u8>>);

impl BlockSink for MemSink {
    fn put(&mut self, cid: &Cid, data: Vec<u8>) -> crate::Result<()> {
        self.0.insert(*cid, data);
        Ok(())
    }
}

/// A directory-tree entry.
enum Node {
    Dir,
    File(Vec<u8>),
    Symlink(&'static str),
}

fn file(bytes: &[u8]) -> Node {
    Node::File(bytes.to_vec())
}

/// Tree entries held in memory, parents first.
struct Entries {
    items: std::vec::IntoIter<(String, Node)>,
    cur: Cursor<Vec<u8>>,
}

impl EntrySource for Entries {
    fn next_entry(&mut self) -> crate::Result<Option<(String, EntryKind)>> {
        Ok(self.items.next().map(|(path, node)| {
            let kind = match node {
                Node::Dir => EntryKind::Directory,
                Node::File(data) => {
                    self.cur = Cursor::new(data);
                    EntryKind::File
                }
                Node::Symlink(target) => EntryKind::Symlink(target.to_string()),
            };
            (path, kind)
        }))
    }

    fn content(&mut self) -> &mut dyn Read {
        &mut self.cur
    }
}

struct Gen<'a> {
    dir: &'a Path,
    blocks: HashMap<Cid, Vec<u8>>,
    cars: Vec<String>,
}

impl Gen<'_> {
    /// Runs `f` on an importer with `opts` whose blocks land in `self.blocks`.
    fn import<T>(
        &mut self,
        opts: AddOptions,
        f: impl FnOnce(&mut Importer<'_>) -> crate::Result<T>,
    ) -> T {
        let mut sink = MemSink(std::mem::take(&mut self.blocks));
        let mut on_event = |_: AddEvent<'_>| {};
        let out = {
            let mut importer = Importer::new(opts, &mut sink, &mut on_event).unwrap();
            f(&mut importer).unwrap()
        };
        self.blocks = sink.0;
        out
    }

    /// A directory holding `entries` (paths relative to it, parents first).
    fn tree(&mut self, opts: AddOptions, entries: Vec<(&str, Node)>) -> Cid {
        let mut items = vec![("root".to_string(), Node::Dir)];
        items.extend(entries.into_iter().map(|(p, n)| (format!("root/{p}"), n)));
        let mut src = Entries {
            items: items.into_iter(),
            cur: Cursor::new(Vec::new()),
        };
        self.import(opts, |imp| imp.add_entries(&mut src))
    }

    fn file(&mut self, opts: AddOptions, data: &[u8]) -> ImportedFile {
        self.import(opts, |imp| imp.import_stream(data))
    }

    /// Stores a block of `codec` and returns its CIDv1.
    fn put(&mut self, codec: u64, data: Vec<u8>) -> Cid {
        let cid = Cid::new_v1(codec, Code::Sha2_256.digest(&data));
        self.blocks.insert(cid, data);
        cid
    }

    fn put_cbor(&mut self, value: Ipld) -> Cid {
        let bytes = serde_ipld_dagcbor::to_vec(&value).unwrap();
        self.put(DAG_CBOR, bytes)
    }

    /// Pre-order DFS below `cid`, each block once, `skip` left out.
    fn walk(&self, cid: Cid, skip: &[Cid], seen: &mut HashSet<Cid>, out: &mut Vec<Cid>) {
        if skip.contains(&cid) || !seen.insert(cid) {
            return;
        }
        out.push(cid);
        for child in links(&cid, &self.blocks[&cid]).unwrap() {
            self.walk(child, skip, seen, out);
        }
    }

    /// Writes `rel`: a CAR of `root`'s DAG in DFS order, without the blocks in `skip`.
    fn car(&mut self, rel: &str, root: Cid, skip: &[Cid]) {
        let mut order = Vec::new();
        self.walk(root, skip, &mut HashSet::new(), &mut order);
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut car = CarWriter::new(std::fs::File::create(&path).unwrap(), &[root]).unwrap();
        for cid in &order {
            car.write_block(cid, &self.blocks[cid]).unwrap();
        }
        car.finish().unwrap();
        self.cars.push(rel.to_string());
    }

    /// Writes `bytes` as `dir/rel`.
    fn write(&self, rel: &str, bytes: &[u8]) {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Signs a record of `value` with `key` and writes it as `subdir/<name>.ipns-record`, the
    /// name as a `k51…` CID or (`peer_id_form`) as a PeerId.
    fn record(
        &self,
        subdir: &str,
        key: &Keypair,
        peer_id_form: bool,
        value: String,
        sequence: u64,
        validity: &str,
    ) -> RecordExpect {
        let name = if peer_id_form {
            key.public().to_peer_id().to_base58()
        } else {
            IpnsName::from_public_key(&key.public()).to_string()
        };
        let eol = parse_rfc3339(validity).unwrap();
        let rec = create_record(key, &value, sequence, eol, Duration::from_secs(300)).unwrap();
        let file = format!("{subdir}/{name}.ipns-record");
        self.write(&file, &rec.to_bytes());
        RecordExpect {
            file,
            value,
            sequence,
            validity: validity.to_string(),
        }
    }
}

/// `n` bytes of seeded lowercase text.
fn seeded_text(seed: &str, n: u64) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz     \n";
    seed_bytes(seed, n)
        .into_iter()
        .map(|b| ALPHABET[b as usize % ALPHABET.len()])
        .collect()
}

/// `/ipfs/<identity CID of text>`: a value that resolves without any block.
fn identity_path(text: &str) -> String {
    let mh = Multihash::<64>::wrap(IDENTITY, text.as_bytes()).unwrap();
    format!("/ipfs/{}", Cid::new_v1(RAW, mh))
}

fn map<const N: usize>(entries: [(&str, Ipld); N]) -> Ipld {
    Ipld::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Writes the generated set into `dir` and returns it with its expectations.
pub(super) fn write_all(dir: &Path) -> FixtureSet {
    let mut g = Gen {
        dir,
        blocks: HashMap::new(),
        cars: Vec::new(),
    };
    let v1 = AddOptions {
        cid_version: 1,
        ..AddOptions::default()
    };
    let v1_small_chunks = AddOptions {
        chunk_size: MULTIBLOCK_CHUNK,
        ..v1.clone()
    };
    let multiblock = seeded_text("multiblock.txt", MULTIBLOCK_LEN);
    assert_eq!((ASCII_TXT.len(), RAW_ASCII_TXT.len()), (31, 31));

    // path-unixfs: listings with UTF-8 names, cache headers, symlinks, percent-encoding, ranges
    let listing = g.tree(
        v1.clone(),
        vec![
            ("api", Node::Dir),
            (
                "api/file.txt",
                file(b"a text file in a directory named api\n"),
            ),
            ("ipfs", Node::Dir),
            (
                "ipfs/file.txt",
                file(b"a text file in a directory named ipfs\n"),
            ),
            ("ipns", Node::Dir),
            (
                "ipns/file.txt",
                file(b"a text file in a directory named ipns\n"),
            ),
            ("ą", Node::Dir),
            ("ą/ę", Node::Dir),
            ("ą/ę/file-źł.txt", file(b"a text file below UTF-8 names\n")),
        ],
    );
    g.car("dir_listing/fixtures.car", listing, &[]);

    let cache = g.tree(
        v1.clone(),
        vec![
            ("root2", Node::Dir),
            ("root2/root3", Node::Dir),
            ("root2/root3/root4", Node::Dir),
            ("root2/root3/root4/index.html", file(INDEX_HTML)),
        ],
    );
    g.car("gateway-cache/fixtures.car", cache, &[]);

    let raw_block = g.tree(
        v1.clone(),
        vec![("dir", Node::Dir), ("dir/ascii.txt", file(RAW_ASCII_TXT))],
    );
    g.car("gateway-raw-block.car", raw_block, &[]);

    let with_files = g.tree(
        v1_small_chunks.clone(),
        vec![
            ("ascii-copy.txt", file(ASCII_TXT)),
            ("ascii.txt", file(ASCII_TXT)),
            ("hello.txt", file(HELLO_TXT)),
            ("multiblock.txt", file(&multiblock)),
        ],
    );
    g.car("path_gateway_unixfs/dir-with-files.car", with_files, &[]);
    g.car(
        "trustless_gateway_car/dir-with-duplicate-files.car",
        with_files,
        &[],
    );

    let percent = g.tree(
        v1.clone(),
        vec![(
            "Portugal%2C+España=Peninsula Ibérica.txt",
            file(b"a file whose name holds %2C, + and =\n"),
        )],
    );
    g.car(
        "path_gateway_unixfs/dir-with-percent-encoded-filename.car",
        percent,
        &[],
    );

    let symlink = ("sky.txt", "to-sky");
    let linked = g.tree(
        AddOptions::default(),
        vec![
            (symlink.0, file(b"stars over the telescope\n")),
            (symlink.1, Node::Symlink(symlink.0)),
        ],
    );
    g.car("path_gateway_unixfs/symlink.car", linked, &[]);

    // path-dag: DAG-CBOR and DAG-JSON documents linking each other
    let leaf = g.put_cbor(map([(
        "hello",
        Ipld::String("a string, not a link".into()),
    )]));
    let mid = g.put_cbor(map([("bar", Ipld::Link(leaf))]));
    let object = map([
        ("planets", Ipld::Integer(8)),
        ("telescope", Ipld::Bool(true)),
    ]);
    let cbor_root = g.put_cbor(map([(
        "foo",
        map([("link", Ipld::Link(mid)), ("object", object)]),
    )]));
    g.car("path_gateway_dag/dag-cbor-traversal.car", cbor_root, &[]);
    let leaf = g.put(DAG_JSON, br#"{"hello":"a string, not a link"}"#.to_vec());
    let mid = g.put(
        DAG_JSON,
        format!(r#"{{"bar":{{"/":"{leaf}"}}}}"#).into_bytes(),
    );
    let json_root = g.put(
        DAG_JSON,
        format!(
            r#"{{"foo":{{"link":{{"/":"{mid}"}},"object":{{"planets":8,"telescope":true}}}}}}"#
        )
        .into_bytes(),
    );
    g.car("path_gateway_dag/dag-json-traversal.car", json_root, &[]);

    // a CIDv0 directory linking a CIDv0 file and a CIDv1 raw block
    let hello_v0 = g.file(AddOptions::default(), b"hello from a CIDv0 file\n");
    let raw_hello = b"hello from a raw block\n".to_vec();
    let raw_len = raw_hello.len() as u64;
    let hello_v1 = g.put(RAW, raw_hello);
    let subdomain = g.import(AddOptions::default(), |imp| {
        imp.build_directory(&[
            DirLink {
                name: "hello-CIDv0".into(),
                cid: hello_v0.cid,
                dag_size: hello_v0.dag_size,
            },
            DirLink {
                name: "hello-CIDv1".into(),
                cid: hello_v1,
                dag_size: raw_len,
            },
        ])
    });
    g.car("subdomain_gateway/fixtures.car", subdomain.cid, &[]);

    // trustless-car
    let single = g.file(v1_small_chunks.clone(), HELLO_TXT);
    let multi = g.file(v1_small_chunks.clone(), &multiblock);
    let document = map([
        (
            "files",
            map([
                ("multiblock", Ipld::Link(multi.cid)),
                ("single", Ipld::Link(single.cid)),
            ]),
        ),
        ("telescope", Ipld::String("WANDA".into())),
    ]);
    let document = g.put_cbor(document);
    let doc_size = g.blocks[&document].len() as u64;
    let with_cbor = g.import(v1.clone(), |imp| {
        imp.build_directory(&[DirLink {
            name: "document".into(),
            cid: document,
            dag_size: doc_size,
        }])
    });
    g.car(
        "trustless_gateway_car/dir-with-dag-cbor-with-links.car",
        with_cbor.cid,
        &[],
    );

    let three_k = AddOptions {
        chunk_size: 1024,
        raw_leaves: Some(false),
        ..AddOptions::default()
    };
    let three = g.file(three_k, &seed_bytes("file-3k", 3072));
    let leaves = links(&three.cid, &g.blocks[&three.cid]).unwrap();
    assert_eq!(leaves.len(), 3);
    g.car(MISSING_BLOCK_CAR, three.cid, &[leaves[1]]);

    let hamt_opts = AddOptions {
        // the 1000 links are ~45 KB: far below Kubo's 256 KiB, so lower the threshold
        shard_threshold: 1024,
        ..v1_small_chunks.clone()
    };
    let names: Vec<String> = (1..=HAMT_ENTRIES).map(|i| format!("{i}.txt")).collect();
    let hamt = g.tree(
        hamt_opts,
        names
            .iter()
            .map(|n| (n.as_str(), file(&multiblock)))
            .collect(),
    );
    g.car(
        "trustless_gateway_car/single-layer-hamt-with-multi-block-files.car",
        hamt,
        &[],
    );

    let mixed = g.tree(
        v1_small_chunks.clone(),
        vec![
            ("subdir", Node::Dir),
            ("subdir/ascii.txt", file(ASCII_TXT)),
            ("subdir/hello.txt", file(HELLO_TXT)),
            ("subdir/multiblock.txt", file(&multiblock)),
        ],
    );
    g.car(
        "trustless_gateway_car/subdir-with-mixed-block-files.car",
        mixed,
        &[],
    );
    let two = g.tree(
        v1.clone(),
        vec![
            ("subdir", Node::Dir),
            ("subdir/ascii.txt", file(ASCII_TXT)),
            ("subdir/hello.txt", file(HELLO_TXT)),
        ],
    );
    g.car(
        "trustless_gateway_car/subdir-with-two-single-block-files.car",
        two,
        &[],
    );

    // IPNS: the spec's six vector cases, each signed by its own seeded key
    let mut vector_values = Vec::new();
    for case in [
        "v1",
        "v1-v2",
        "v2",
        "v1-v2-broken-signature-v1",
        "v1-v2-broken-signature-v2",
        "v1-v2-broken-v1-value",
    ] {
        let key = seeded_ed25519(&format!("ipns vector {case}"));
        let value = identity_path(&format!("WANDA {case} record"));
        let eol = parse_rfc3339(VECTOR_VALIDITY).unwrap();
        let rec = create_record(&key, &value, 1, eol, Duration::from_secs(60)).unwrap();
        let mut e = rec.entry().clone();
        let flip = |sig: &mut Option<Vec<u8>>| {
            let sig = sig.as_mut().unwrap();
            let mid = sig.len() / 2;
            sig[mid] ^= 0x40;
        };
        match case {
            "v1" => {
                e.data = None;
                e.signature_v2 = None;
            }
            "v2" => {
                e.value = None;
                e.signature_v1 = None;
                e.validity_type = None;
                e.validity = None;
                e.sequence = None;
                e.ttl = None;
            }
            "v1-v2-broken-signature-v1" => flip(&mut e.signature_v1),
            "v1-v2-broken-signature-v2" => flip(&mut e.signature_v2),
            "v1-v2-broken-v1-value" => {
                e.value = Some(identity_path("not the signed value").into_bytes());
            }
            _ => {}
        }
        let name = IpnsName::from_public_key(&key.public());
        g.write(
            &format!("ipns_records/{name}_{case}.ipns-record"),
            &e.encode(),
        );
        if ["v1-v2", "v2", "v1-v2-broken-signature-v1"].contains(&case) {
            vector_values.push((case, value));
        }
    }

    let cache_record = g.record(
        "gateway-cache",
        &seeded_ed25519("gateway-cache root"),
        false,
        format!("/ipfs/{cache}"),
        3,
        "2121-02-03T04:05:06.7Z",
    );
    let subpath_record = g.record(
        "gateway-cache",
        &seeded_ed25519("gateway-cache root2"),
        false,
        format!("/ipfs/{cache}/root2"),
        0,
        "2122-12-31T23:59:59Z",
    );
    let mut records = vec![
        cache_record.clone(),
        subpath_record.clone(),
        g.record(
            "path_gateway_dag",
            &seeded_ed25519("dag-cbor"),
            false,
            format!("/ipfs/{cbor_root}"),
            1,
            "2123-01-01T00:00:00.5Z",
        ),
        g.record(
            "path_gateway_dag",
            &seeded_ed25519("dag-json"),
            false,
            format!("/ipfs/{json_root}"),
            2,
            "2123-01-01T00:00:00.25Z",
        ),
    ];
    let peer_keys = [seeded_ed25519("subdomain"), rsa_keypair()];
    for key in &peer_keys {
        records.push(g.record(
            "subdomain_gateway",
            key,
            true,
            format!("/ipfs/{hello_v1}"),
            7,
            "2124-05-06T07:08:09.010203Z",
        ));
    }
    records.sort_by(|a, b| a.file.cmp(&b.file));

    assert_eq!(g.cars.len(), CARS, "update CARS");
    let stem = |r: &RecordExpect| {
        let file = r.file.rsplit_once('/').unwrap().1;
        file.split_once('.').unwrap().0.to_string()
    };
    g.cars.sort();
    FixtureSet {
        label: "generated",
        dir: dir.to_path_buf(),
        cars: CARS,
        names: NAMES,
        dfs_ordered: g
            .cars
            .iter()
            .filter(|c| *c != MISSING_BLOCK_CAR)
            .cloned()
            .collect(),
        incomplete: vec![MISSING_BLOCK_CAR.to_string()],
        index_html: INDEX_HTML.to_vec(),
        symlink: (symlink.0.into(), symlink.1.into()),
        missing_block_leaves: [leaves[0], leaves[2]],
        multiblock_leaves: multiblock
            .chunks(MULTIBLOCK_CHUNK)
            .map(|chunk| Cid::new_v1(RAW, Code::Sha2_256.digest(chunk)))
            .collect(),
        cache_name: stem(&cache_record),
        subpath_name: stem(&subpath_record),
        vector_values,
        vector_validity: VECTOR_VALIDITY.to_string(),
        records,
        peer_id_names: peer_keys.map(|k| k.public().to_peer_id().to_base58()),
    }
}
