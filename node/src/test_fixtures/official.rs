//! What the checks expect of the official fixtures (ipfs/gateway-conformance v0.13.2): the
//! values the tests asserted against them before the generated set existed.

use std::path::PathBuf;

use cid::Cid;

use super::{FixtureSet, RecordExpect};

/// Every CAR that contains its whole DAG is exactly Kubo's `dag export` (DFS) of its roots.
const DFS_ORDERED: &[&str] = &[
    "dir_listing/fixtures.car",
    "gateway-cache/fixtures.car",
    "gateway-raw-block.car",
    "path_gateway_dag/dag-cbor-traversal.car",
    "path_gateway_dag/dag-json-traversal.car",
    "path_gateway_dag/dag-pb.car",
    "path_gateway_dag/gateway-json-cbor.car",
    "path_gateway_dag/plain-cbor-that-can-be-dag-cbor.car",
    "path_gateway_dag/plain-cbor-that-can-be-dag-json.car",
    "path_gateway_dag/plain-cbor.car",
    "path_gateway_dag/plain-json.car",
    "path_gateway_tar/fixtures.car",
    "path_gateway_tar/inside-root.car",
    "path_gateway_tar/outside-root.car",
    "path_gateway_unixfs/dir-with-files.car",
    "path_gateway_unixfs/dir-with-percent-encoded-filename.car",
    "path_gateway_unixfs/symlink.car",
    "redirects_file/redirects-spa.car",
    "redirects_file/redirects.car",
    "subdomain_gateway/fixtures.car",
    "trustless_gateway_car/dir-with-dag-cbor-with-links.car",
    "trustless_gateway_car/dir-with-duplicate-files.car",
    "trustless_gateway_car/single-layer-hamt-with-multi-block-files.car",
    "trustless_gateway_car/subdir-with-mixed-block-files.car",
    "trustless_gateway_car/subdir-with-two-single-block-files.car",
];

/// (file, value, sequence, validity) of every record outside `ipns_records/`.
const RECORDS: &[(&str, &str, u64, &str)] = &[
    (
        "gateway-cache/k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c.ipns-record",
        "/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui/root2",
        0,
        "2126-01-31T15:56:12.714899293Z",
    ),
    (
        "gateway-cache/k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe.ipns-record",
        "/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui",
        0,
        "2123-04-12T15:32:22.646144Z",
    ),
    (
        "path_gateway_dag/k51qzi5uqu5dghjous0agrwavl8vzl64xckoqzwqeqwudfr74kfd11zcyk3b7l.ipns-record",
        "/ipfs/bafyreibs4utpgbn7uqegmd2goqz4bkyflre2ek2iwv743fhvylwi4zeeim",
        0,
        "2123-04-13T08:09:51.891396Z",
    ),
    (
        "path_gateway_dag/k51qzi5uqu5dhjghbwdvbo6mi40htrq6e2z4pwgp15pgv3ho1azvidttzh8yy2.ipns-record",
        "/ipfs/baguqeeram5ujjqrwheyaty3w5gdsmoz6vittchvhk723jjqxk7hakxkd47xq",
        0,
        "2123-04-13T08:09:21.159744Z",
    ),
    (
        "subdomain_gateway/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d.ipns-record",
        "/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am",
        0,
        "2123-04-12T13:44:59.801728Z",
    ),
    (
        "subdomain_gateway/QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3.ipns-record",
        "/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am",
        0,
        "2123-04-12T13:43:57.238038Z",
    ),
];

fn c(s: &str) -> Cid {
    Cid::try_from(s).unwrap()
}

/// The official set's expectations, for the folder `dir`.
pub(super) fn expectations(dir: PathBuf) -> FixtureSet {
    FixtureSet {
        label: "official",
        dir,
        cars: 26,
        names: 12,
        dfs_ordered: DFS_ORDERED.iter().map(|s| s.to_string()).collect(),
        incomplete: vec!["trustless_gateway_car/file-3k-and-3-blocks-missing-block.car".into()],
        index_html: b"hello\n".to_vec(),
        symlink: ("foo".into(), "bar".into()),
        missing_block_leaves: [
            c("QmPKt7ptM2ZYSGPUc8PmPT2VBkLDK3iqpG9TBJY7PCE9rF"),
            c("QmWXY482zQdwecnfBsj78poUUuPXvyw2JAFAEMw4tzTavV"),
        ],
        multiblock_leaves: [
            "bafkreie5noke3mb7hqxukzcy73nl23k6lxszxi5w3dtmuwz62wnvkpsscm",
            "bafkreih4ephajybraj6wnxsbwjwa77fukurtpl7oj7t7pfq545duhot7cq",
            "bafkreigu7buvm3cfunb35766dn7tmqyh2um62zcio63en2btvxuybgcpue",
            "bafkreicll3huefkc3qnrzeony7zcfo7cr3nbx64hnxrqzsixpceg332fhe",
            "bafkreifst3pqztuvj57lycamoi7z34b4emf7gawxs74nwrc2c7jncmpaqm",
        ]
        .map(c)
        .to_vec(),
        cache_name: "k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe".into(),
        subpath_name: "k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c".into(),
        vector_values: vec![
            ("v1-v2", "/ipfs/bafkqaddwgevxmmraojswg33smq".into()),
            ("v2", "/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi".into()),
            (
                "v1-v2-broken-signature-v1",
                "/ipfs/bafkqahtwgevxmmrao5uxi2bamjzg623fnyqhg2lhnzqxi5lsmuqhmmi".into(),
            ),
        ],
        vector_validity: "2123-08-14T12:17:03.694052Z".into(),
        records: RECORDS
            .iter()
            .map(|(file, value, sequence, validity)| RecordExpect {
                file: file.to_string(),
                value: value.to_string(),
                sequence: *sequence,
                validity: validity.to_string(),
            })
            .collect(),
        peer_id_names: [
            "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d".into(),
            "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3".into(),
        ],
    }
}
