//! File storage (attachments, documents) through object_store.
//!
//! `file://` or a plain path → local folder, `s3://bucket/prefix` →
//! S3-compatible storage (credentials and endpoint from the usual `AWS_*`
//! environment variables), `memory://` → in memory (tests). Every object key
//! starts with the tenant id, so one tenant's files are never addressed by
//! another's keys.

use std::sync::Arc;

use bytes::Bytes;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem,
    memory::InMemory, path::Path,
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

impl FileStore {
    /// Opens storage by URL (see module docs).
    pub fn open(url: &str) -> Result<Self> {
        if url == "memory://" || url == "memory:" {
            return Ok(Self::memory());
        }
        if url.starts_with("s3://") {
            return Self::s3(AmazonS3Builder::from_env().with_url(url), url);
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

    /// S3 through object_store's reqwest client: HTTPS with rustls on ring,
    /// the process's one crypto provider (ADR 0012).
    fn s3(builder: AmazonS3Builder, url: &str) -> Result<Self> {
        crate::install_tls_crypto_provider();
        let store = builder
            .build()
            .map_err(|e| StorageError::Config(format!("S3 storage {url}: {e}")))?;
        Ok(Self {
            inner: Arc::new(store),
            description: url.to_string(),
        })
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
        // SAFETY of the test: only builds the client, makes no request.
        let s = FileStore::open("s3://rathaus-files/prod").unwrap();
        assert_eq!(s.describe(), "s3://rathaus-files/prod");
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
        let builder = AmazonS3Builder::new()
            .with_url("s3://rathaus-files/test")
            .with_endpoint(endpoint)
            .with_region("eu-central-1")
            .with_access_key_id("test")
            .with_secret_access_key("test");
        let store = FileStore::s3(builder, "s3://rathaus-files/test").unwrap();
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
