//! File storage (attachments, documents) through object_store.
//!
//! `file://` or a plain path → local folder, `s3://bucket/prefix` →
//! S3-compatible storage (credentials and endpoint from the usual `AWS_*`
//! environment variables), `memory://` → in memory (tests). Every object key
//! starts with the tenant id, so one tenant's files are never addressed by
//! another's keys. On S3 every key lives below the URL's prefix
//! (`s3://rathaus-files/musterstadt` → `musterstadt/tenants/<id>/…`), and
//! listing and deleting never leave it: installations sharing a bucket
//! under different prefixes never see each other's objects.

use std::sync::Arc;

use bytes::Bytes;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem,
    memory::InMemory, path::Path, prefix::PrefixStore,
};
use rathaus_domain::tenancy::TenantId;
use sha2::{Digest, Sha256};

use crate::{Result, StorageError};

#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("at", &self.description)
            .finish()
    }
}

/// One object in storage, by tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub tenant: TenantId,
    /// Object name below the tenant's prefix (`uploads/<id>`).
    pub name: String,
    pub size: u64,
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub key: String,
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// Bucket and key prefix of an `s3://bucket/prefix` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// The path below the bucket (`musterstadt`, `a/b`); `None` for the
    /// bucket's root.
    pub prefix: Option<Path>,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix[/…]]`; a trailing slash is ignored.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| {
            StorageError::Config(format!(
                "RATHAUS_STORAGE_URL {url}: {why} (expected s3://bucket/prefix)"
            ))
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("not an S3 URL (keine S3-URL)"))?;
        if rest.contains(['?', '#']) {
            return Err(bad(
                "query or fragment is not allowed (Abfrage oder Fragment nicht erlaubt)",
            ));
        }
        let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("the bucket name is missing (Bucket-Name fehlt)"));
        }
        if !bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(bad(
                "the bucket name may hold only letters, digits, '-', '.' and '_' \
                 (Bucket-Name: nur Buchstaben, Ziffern, '-', '.' und '_')",
            ));
        }
        let path = path.strip_suffix('/').unwrap_or(path);
        let prefix = if path.is_empty() {
            None
        } else {
            if path
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
            {
                return Err(bad(&format!(
                    "the prefix {path:?} has an empty, '.' or '..' segment \
                     (Präfix mit leerem, '.'- oder '..'-Abschnitt)"
                )));
            }
            Some(Path::parse(path).map_err(|e| {
                bad(&format!(
                    "the prefix {path:?} is no valid object path (Präfix ungültig): {e}"
                ))
            })?)
        };
        Ok(Self {
            bucket: bucket.to_string(),
            prefix,
        })
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.prefix {
            Some(prefix) => write!(f, "s3://{}/{}", self.bucket, prefix),
            None => write!(f, "s3://{}", self.bucket),
        }
    }
}

impl FileStore {
    /// Opens storage by URL (see module docs).
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, &[])
    }

    /// Like [`FileStore::open`], with `AWS_*` settings (`AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP`, …, named as the environment variables are) that
    /// take precedence over the environment's. The test harness hands its
    /// S3 server to the store this way, and the same pairs to a spawned
    /// binary as its environment.
    pub fn open_with(url: &str, aws: &[(String, String)]) -> Result<Self> {
        if url == "memory://" || url == "memory:" {
            return Ok(Self::memory());
        }
        if url.starts_with("s3://") {
            let location = S3Location::parse(url)?;
            // HTTPS with rustls on ring, the process's one crypto provider (ADR 0012).
            crate::install_tls_crypto_provider();
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(&location.bucket);
            for (key, value) in aws {
                let config_key = key.to_ascii_lowercase().parse().map_err(|_| {
                    StorageError::Config(format!(
                        "S3 storage {url}: unknown setting {key} (unbekannte Einstellung)"
                    ))
                })?;
                builder = builder.with_config(config_key, value);
            }
            let store = builder.build().map_err(|e| {
                StorageError::Config(format!(
                    "RATHAUS_STORAGE_URL {url}: S3 storage cannot be set up \
                     (S3-Speicher nicht einzurichten): {e}"
                ))
            })?;
            return Ok(Self::prefixed(Arc::new(store), &location));
        }
        let path = url.strip_prefix("file://").unwrap_or(url);
        std::fs::create_dir_all(path).map_err(|e| {
            StorageError::Config(format!("cannot create file storage folder {path}: {e}"))
        })?;
        let store = LocalFileSystem::new_with_prefix(path)
            .map_err(|e| StorageError::Config(format!("file storage {path}: {e}")))?;
        Ok(Self {
            inner: Arc::new(store),
            description: format!("file://{path}"),
        })
    }

    /// The store below `location`'s prefix of `bucket` (the whole bucket
    /// without one): every key, list and delete stays inside it.
    fn prefixed(bucket: Arc<dyn ObjectStore>, location: &S3Location) -> Self {
        let inner: Arc<dyn ObjectStore> = match &location.prefix {
            Some(prefix) => Arc::new(PrefixStore::new(bucket, prefix.clone())),
            None => bucket,
        };
        Self {
            inner,
            description: location.to_string(),
        }
    }

    pub fn memory() -> Self {
        Self {
            inner: Arc::new(InMemory::new()),
            description: "memory://".into(),
        }
    }

    pub fn describe(&self) -> &str {
        &self.description
    }

    fn key(tenant: TenantId, name: &str) -> Result<Path> {
        if name.is_empty()
            || name
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(StorageError::Config(format!(
                "invalid object name {name:?}"
            )));
        }
        Ok(Path::from(format!("tenants/{}/{}", tenant.0, name)))
    }

    /// Stores `content` under `name` for `tenant`.
    pub async fn put(&self, tenant: TenantId, name: &str, content: Bytes) -> Result<StoredFile> {
        let key = Self::key(tenant, name)?;
        let sha256 = hex::encode(Sha256::digest(&content));
        let size = content.len() as u64;
        self.inner
            .put(&key, PutPayload::from_bytes(content))
            .await?;
        Ok(StoredFile {
            key: key.to_string(),
            size,
            sha256,
        })
    }

    pub async fn get(&self, tenant: TenantId, name: &str) -> Result<Option<Bytes>> {
        let key = Self::key(tenant, name)?;
        match self.inner.get(&key).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object of every tenant (keys outside `tenants/<uuid>/` are
    /// not listed: they are not rathaus's).
    pub async fn list(&self) -> Result<Vec<ObjectInfo>> {
        use futures::TryStreamExt;
        let prefix = Path::from("tenants");
        let metas: Vec<object_store::ObjectMeta> =
            self.inner.list(Some(&prefix)).try_collect().await?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let key = m.location.to_string();
                let rest = key.strip_prefix("tenants/")?;
                let (tenant, name) = rest.split_once('/')?;
                Some(ObjectInfo {
                    tenant: TenantId(uuid::Uuid::parse_str(tenant).ok()?),
                    name: name.to_string(),
                    size: m.size,
                    modified: m.last_modified,
                })
            })
            .collect())
    }

    pub async fn delete(&self, tenant: TenantId, name: &str) -> Result<()> {
        let key = Self::key(tenant, name)?;
        match self.inner.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn roundtrip(store: FileStore) {
        let a = TenantId(uuid::Uuid::now_v7());
        let b = TenantId(uuid::Uuid::now_v7());
        let stored = store
            .put(a, "docs/antrag.pdf", Bytes::from_static(b"%PDF-1.7"))
            .await
            .unwrap();
        assert_eq!(stored.size, 8);
        assert_eq!(stored.sha256.len(), 64);
        assert_eq!(
            store.get(a, "docs/antrag.pdf").await.unwrap().unwrap(),
            Bytes::from_static(b"%PDF-1.7")
        );
        // Tenant B cannot reach tenant A's file by name.
        assert!(store.get(b, "docs/antrag.pdf").await.unwrap().is_none());
        assert!(store.get(a, "../x").await.is_err());
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].tenant, listed[0].name.as_str(), listed[0].size),
            (a, "docs/antrag.pdf", 8)
        );
        store.delete(a, "docs/antrag.pdf").await.unwrap();
        assert!(store.get(a, "docs/antrag.pdf").await.unwrap().is_none());
        assert!(store.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn memory_store_roundtrip() {
        roundtrip(FileStore::memory()).await;
    }

    #[tokio::test]
    async fn local_store_roundtrip() {
        let dir = std::env::temp_dir().join(format!("rathaus-files-{}", uuid::Uuid::now_v7()));
        roundtrip(FileStore::open(dir.to_str().unwrap()).unwrap()).await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn s3_url_is_accepted() {
        // Only builds the client, makes no request.
        let s = FileStore::open("s3://rathaus-files/prod").unwrap();
        assert_eq!(s.describe(), "s3://rathaus-files/prod");
        let s = FileStore::open("s3://rathaus-files/a/b/").unwrap();
        assert_eq!(s.describe(), "s3://rathaus-files/a/b");
        let s = FileStore::open("s3://rathaus-files").unwrap();
        assert_eq!(s.describe(), "s3://rathaus-files");
    }

    #[test]
    fn s3_urls_are_parsed_into_bucket_and_prefix() {
        let l = S3Location::parse("s3://rathaus-files/musterstadt").unwrap();
        assert_eq!(l.bucket, "rathaus-files");
        assert_eq!(l.prefix.unwrap().as_ref(), "musterstadt");
        let l = S3Location::parse("s3://b/land/kreis/").unwrap();
        assert_eq!(l.prefix.unwrap().as_ref(), "land/kreis");
        assert_eq!(S3Location::parse("s3://b/").unwrap().prefix, None);
        for (url, says) in [
            ("s3:///musterstadt", "bucket name is missing"),
            ("s3://", "bucket name is missing"),
            ("s3://b/a//c", "empty, '.' or '..' segment"),
            ("s3://b/../other", "empty, '.' or '..' segment"),
            ("s3://b/./x", "empty, '.' or '..' segment"),
            ("s3://b/x?versionId=1", "query or fragment"),
            ("s3://b@evil/x", "bucket name may hold only"),
        ] {
            let e = FileStore::open(url).unwrap_err().to_string();
            assert!(
                e.contains(says) && e.contains("RATHAUS_STORAGE_URL") && e.contains(url),
                "{url}: {e}"
            );
        }
        let e = FileStore::open_with("s3://b/p", &[("AWS_NO_SUCH".into(), "1".into())])
            .unwrap_err()
            .to_string();
        assert!(e.contains("AWS_NO_SUCH"), "{e}");
    }

    /// Two installations in one bucket under different prefixes: neither
    /// reads, lists nor deletes the other's objects, and every key lands
    /// below its prefix.
    #[tokio::test]
    async fn prefixes_in_one_bucket_never_meet() {
        use futures::TryStreamExt;
        let bucket: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let at = |url: &str| FileStore::prefixed(bucket.clone(), &S3Location::parse(url).unwrap());
        let (a, b) = (at("s3://shared/musterstadt"), at("s3://shared/nachbardorf"));
        let tenant = TenantId(uuid::Uuid::now_v7());
        a.put(tenant, "uploads/1", Bytes::from_static(b"A"))
            .await
            .unwrap();
        b.put(tenant, "uploads/1", Bytes::from_static(b"B"))
            .await
            .unwrap();
        b.put(tenant, "uploads/2", Bytes::from_static(b"BB"))
            .await
            .unwrap();
        assert_eq!(a.get(tenant, "uploads/1").await.unwrap().unwrap(), "A");
        assert_eq!(b.get(tenant, "uploads/1").await.unwrap().unwrap(), "B");
        assert!(a.get(tenant, "uploads/2").await.unwrap().is_none());
        let names = |l: Vec<ObjectInfo>| l.into_iter().map(|o| o.name).collect::<Vec<_>>();
        assert_eq!(names(a.list().await.unwrap()), ["uploads/1"]);
        let mut listed_b = names(b.list().await.unwrap());
        listed_b.sort();
        assert_eq!(listed_b, ["uploads/1", "uploads/2"]);
        // The bucket itself: every key below its installation's prefix.
        let mut keys: Vec<String> = bucket
            .list(None)
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        keys.sort();
        let t = tenant.0;
        assert_eq!(
            keys,
            [
                format!("musterstadt/tenants/{t}/uploads/1"),
                format!("nachbardorf/tenants/{t}/uploads/1"),
                format!("nachbardorf/tenants/{t}/uploads/2"),
            ]
        );
        // Deleting in one leaves the other's object of the same name.
        a.delete(tenant, "uploads/1").await.unwrap();
        assert!(a.list().await.unwrap().is_empty());
        assert_eq!(b.get(tenant, "uploads/1").await.unwrap().unwrap(), "B");
        // A prefix that starts like another is still another.
        let longer = at("s3://shared/musterstadt-neu");
        longer
            .put(tenant, "uploads/9", Bytes::from_static(b"N"))
            .await
            .unwrap();
        assert!(a.list().await.unwrap().is_empty());
        assert_eq!(names(longer.list().await.unwrap()), ["uploads/9"]);
    }

    /// The S3 client speaks TLS with ring as its only crypto provider: a
    /// request to an `https://` endpoint starts with a TLS ClientHello (no
    /// panic for a missing provider, no aws-lc-rs in the build).
    #[tokio::test]
    async fn s3_client_speaks_tls_with_ring() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let setting = |k: &str, v: &str| (k.to_string(), v.to_string());
        let store = FileStore::open_with(
            "s3://rathaus-files/test",
            &[
                setting("AWS_ENDPOINT", &endpoint),
                setting("AWS_REGION", "eu-central-1"),
                setting("AWS_ACCESS_KEY_ID", "test"),
                setting("AWS_SECRET_ACCESS_KEY", "test"),
            ],
        )
        .unwrap();
        let tenant = TenantId(uuid::Uuid::now_v7());
        // The request fails (no TLS server here) and object_store retries;
        // only its first bytes matter.
        let request = tokio::spawn(async move { store.get(tenant, "x").await });
        let (mut socket, _) =
            tokio::time::timeout(std::time::Duration::from_secs(10), listener.accept())
                .await
                .expect("the S3 client connected")
                .unwrap();
        let mut hello = [0u8; 6];
        socket.read_exact(&mut hello).await.unwrap();
        // A TLS handshake record (0x16, version 3.x) carrying a ClientHello (1).
        assert_eq!(
            (hello[0], hello[1], hello[5]),
            (0x16, 0x03, 0x01),
            "{hello:?}"
        );
        request.abort();
    }
}
