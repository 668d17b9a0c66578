//! Retrieval over the network: a gateway with an empty store fetches content from a peer over
//! Bitswap (two in-process nodes on loopback TCP), caches it unpinned, and answers 504 when
//! nobody has a block within the fetch timeout. The content is `dir-with-files.car` of each
//! fixture set (`wanda_node::test_fixtures::sets`: generated, then official when present).

mod net_common;
use net_common::node;

mod gateway_common;

use axum::http::Method;
use gateway_common::*;
use std::sync::Arc;
use std::time::Duration;
use wanda_gateway::gateway::{GatewayContext, router};
use wanda_node::pinning::{PinFilter, pin_ls};
use wanda_node::test_fixtures::sets;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_missing_content_from_a_peer_and_caches_it_unpinned() {
    for set in sets() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (store_a, node_a) = node(&da).await;
        let (store_b, node_b) = node(&db).await;
        let car = set.path("path_gateway_unixfs/dir-with-files.car");
        let report =
            wanda_node::dag::import_car(&store_a, std::fs::File::open(car).unwrap(), false)
                .unwrap();
        let root = report.roots[0];
        let addr = node_a.listen_addrs().await.unwrap()[0].clone();
        node_b.connect(addr).await.unwrap();

        let ctx = GatewayContext {
            store: store_b.clone(),
            node: Some(node_b.clone()),
            names: Arc::new(wanda_gateway::gateway::NoNames),
            fetch_timeout: Duration::from_secs(20),
        };
        let app = router(Arc::new(ctx));
        assert!(!store_b.has(&root).unwrap());
        let r = send(&app, Method::GET, &format!("/ipfs/{root}/ascii.txt"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let file =
            wanda_node::unixfs::resolve_path(&store_a, &format!("{root}/ascii.txt")).unwrap();
        let mut want = Vec::new();
        wanda_node::unixfs::FileReader::open(&store_a, file.cid)
            .unwrap()
            .copy_range(0, None, &mut want)
            .unwrap();
        assert_eq!(r.body, want);
        // cached locally, not pinned
        assert!(store_b.has(&root).unwrap());
        assert!(store_b.has(&file.cid).unwrap());
        assert!(pin_ls(&store_b, PinFilter::All).unwrap().is_empty());
        // now served from the cache even with only-if-cached
        let r = send(
            &app,
            Method::GET,
            &format!("/ipfs/{root}/ascii.txt"),
            &[("Cache-Control", "only-if-cached")],
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, want);
        // a trustless CAR of the whole directory pulls the rest over Bitswap
        let r = send(&app, Method::GET, &format!("/ipfs/{root}?format=car"), &[]).await;
        assert_eq!(r.status, 200);
        let (_, blocks) = car_blocks(&r.body);
        let mut expected = vec![root];
        let mut stack =
            wanda_node::dag_walk::block_links(&root, &store_a.get_required(&root).unwrap())
                .unwrap();
        stack.reverse();
        while let Some(c) = stack.pop() {
            expected.push(c);
            let mut l =
                wanda_node::dag_walk::block_links(&c, &store_a.get_required(&c).unwrap()).unwrap();
            l.reverse();
            stack.extend(l);
        }
        expected.dedup();
        assert_eq!(mh(&blocks), mh(&expected));
        node_a.shutdown().await.unwrap();
        node_b.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unretrievable_content_times_out_with_504() {
    let d = tempfile::tempdir().unwrap();
    let (store, handle) = node(&d).await;
    let ctx = GatewayContext {
        store,
        node: Some(handle.clone()),
        names: Arc::new(wanda_gateway::gateway::NoNames),
        fetch_timeout: Duration::from_millis(300),
    };
    let app = router(Arc::new(ctx));
    let missing = "/ipfs/bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom";
    let r = send(&app, Method::GET, missing, &[]).await;
    assert_eq!(r.status, 504, "{}", r.text());
    // only-if-cached never goes to the network
    let r = send(
        &app,
        Method::GET,
        missing,
        &[("Cache-Control", "only-if-cached")],
    )
    .await;
    assert_eq!(r.status, 412);
    handle.shutdown().await.unwrap();
}
