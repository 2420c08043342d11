//! File storage on the selected backend: a local folder by default, an
//! S3-compatible server when `RATHAUS_TEST_S3_ENDPOINT` names one (then
//! every test has a fresh prefix in one bucket). The same tests on both.

use bytes::Bytes;
use rathaus_domain::tenancy::TenantId;
use rathaus_storage::{files::ObjectInfo, test_support::TestFiles};

fn tenant() -> TenantId {
    TenantId(uuid::Uuid::now_v7())
}

fn names(mut listed: Vec<ObjectInfo>) -> Vec<(TenantId, String, u64)> {
    listed.sort_by(|a, b| (a.tenant.0, &a.name).cmp(&(b.tenant.0, &b.name)));
    listed
        .into_iter()
        .map(|o| (o.tenant, o.name, o.size))
        .collect()
}

/// Put, get, list and delete with the content's size and hash; what is
/// missing reads as `None`, deleting it twice is no error.
#[tokio::test]
async fn roundtrip_on_the_selected_backend() {
    let files = TestFiles::new();
    let store = &files.store;
    let (a, b) = (tenant(), tenant());
    let pdf = Bytes::from_static(b"%PDF-1.7 Bescheid");
    let stored = store.put(a, "decisions/1.pdf", pdf.clone()).await.unwrap();
    assert_eq!(stored.size, pdf.len() as u64);
    {
        use sha2::Digest;
        assert_eq!(stored.sha256, hex::encode(sha2::Sha256::digest(&pdf)));
    }
    assert_eq!(store.get(a, "decisions/1.pdf").await.unwrap().unwrap(), pdf);
    assert!(store.get(b, "decisions/1.pdf").await.unwrap().is_none());
    assert!(store.get(a, "decisions/2.pdf").await.unwrap().is_none());
    // An object of a few MB goes through as a whole.
    let big = Bytes::from(vec![7u8; 6 * 1024 * 1024 + 3]);
    store.put(b, "uploads/big", big.clone()).await.unwrap();
    assert_eq!(store.get(b, "uploads/big").await.unwrap().unwrap(), big);
    assert_eq!(
        names(store.list().await.unwrap()),
        names(vec![
            info(a, "decisions/1.pdf", pdf.len()),
            info(b, "uploads/big", big.len()),
        ])
    );
    store.delete(a, "decisions/1.pdf").await.unwrap();
    store.delete(a, "decisions/1.pdf").await.unwrap();
    assert!(store.get(a, "decisions/1.pdf").await.unwrap().is_none());
    assert_eq!(
        names(store.list().await.unwrap()),
        names(vec![info(b, "uploads/big", big.len())])
    );
}

fn info(tenant: TenantId, name: &str, size: usize) -> ObjectInfo {
    ObjectInfo {
        tenant,
        name: name.into(),
        size: size as u64,
        modified: chrono::Utc::now(),
    }
}

/// What the application stores lands in the backend below the configured
/// prefix (on S3: `<prefix>/tenants/<id>/…`, listed through the S3 API;
/// nothing at the bucket's root), in a folder below `tenants/<id>/`.
#[tokio::test]
async fn files_land_below_the_configured_prefix() {
    let files = TestFiles::new();
    let t = tenant();
    files
        .store
        .put(t, "uploads/0001", Bytes::from_static(b"x"))
        .await
        .unwrap();
    files
        .store
        .put(t, "receipts/eingang.pdf", Bytes::from_static(b"y"))
        .await
        .unwrap();
    let keys = files.backend_keys().await;
    let base = match &files.prefix {
        Some(prefix) => {
            assert!(files.url.ends_with(prefix.as_str()), "{}", files.url);
            assert!(
                !keys.iter().any(|k| k.starts_with("tenants/")),
                "no key at the bucket's root: {keys:?}"
            );
            format!("{prefix}/tenants/{}", t.0)
        }
        None => format!("tenants/{}", t.0),
    };
    for name in ["uploads/0001", "receipts/eingang.pdf"] {
        let key = format!("{base}/{name}");
        assert!(keys.contains(&key), "{key} not in the backend: {keys:?}");
    }
    let mine: Vec<&String> = match &files.prefix {
        Some(prefix) => keys
            .iter()
            .filter(|k| k.starts_with(&format!("{prefix}/")))
            .collect(),
        None => keys.iter().collect(),
    };
    assert_eq!(mine.len(), 2, "{keys:?}");
}

/// Two installations in one bucket (two prefixes; two folders locally):
/// neither reads, lists nor deletes the other's objects of the same names.
#[tokio::test]
async fn two_prefixes_in_one_bucket_never_see_each_other() {
    let (one, two) = (TestFiles::new(), TestFiles::new());
    let t = tenant();
    one.store
        .put(t, "uploads/1", Bytes::from_static(b"eins"))
        .await
        .unwrap();
    two.store
        .put(t, "uploads/1", Bytes::from_static(b"zwei"))
        .await
        .unwrap();
    two.store
        .put(t, "uploads/2", Bytes::from_static(b"zwei-2"))
        .await
        .unwrap();
    assert_eq!(
        one.store.get(t, "uploads/1").await.unwrap().unwrap(),
        "eins"
    );
    assert_eq!(
        two.store.get(t, "uploads/1").await.unwrap().unwrap(),
        "zwei"
    );
    assert!(one.store.get(t, "uploads/2").await.unwrap().is_none());
    assert_eq!(
        names(one.store.list().await.unwrap()),
        names(vec![info(t, "uploads/1", 4)])
    );
    assert_eq!(
        names(two.store.list().await.unwrap()),
        names(vec![info(t, "uploads/1", 4), info(t, "uploads/2", 6)])
    );
    one.store.delete(t, "uploads/1").await.unwrap();
    assert!(one.store.list().await.unwrap().is_empty());
    assert_eq!(
        two.store.get(t, "uploads/1").await.unwrap().unwrap(),
        "zwei"
    );
    if let (Some(p1), Some(p2)) = (&one.prefix, &two.prefix) {
        // Both in the one bucket, each below its prefix.
        let keys = one.backend_keys().await;
        let t = t.0;
        assert!(!keys.contains(&format!("{p1}/tenants/{t}/uploads/1")));
        assert!(keys.contains(&format!("{p2}/tenants/{t}/uploads/1")));
        assert!(keys.contains(&format!("{p2}/tenants/{t}/uploads/2")));
    }
}
