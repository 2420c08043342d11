//! Electronic seals (C6) and the processing of filed documents.
//!
//! Every filed document version is sealed with its tenant's key: a
//! signature over its SHA-256 (`rathaus_standards::seal`, Ed25519 with a
//! self-signed X.509 certificate per tenant; the private key is stored
//! sealed with the instance key). A Bescheid is filed as a document of its
//! Vorgang and so is sealed too. The seal travels as a `.siegel.json` file
//! next to the document; anybody can check a document on the public page
//! `/pruefen` (online: by its hash, or with its seal file) or offline with
//! `rathaus admin verify-seal FILE --seal FILE.siegel.json --cert tenant.pem`.
//!
//! The processing job (`records.process`) extracts each new version's text
//! (PDF text layer, mail, plain text) for the full-text search, seals it and
//! puts it into the search index.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rathaus_domain::{records::DocumentKind, tenancy::TenantId};
use rathaus_search::records::{RecordDoc, RecordIndex, RecordQuery, RecordResults};
use rathaus_standards::seal::{
    self, Seal, SealAlgorithm, SealKey, SealSubject, TrustAnchor, Verification,
};
use rathaus_storage::{
    prelude::*,
    records::{DocumentVersion, RecordDocument, RecordFile},
    seals::{NewSealKey, SealKeyRepository},
};
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Longest document checked on `/pruefen` (bytes).
pub const MAX_VERIFY_BYTES: usize = 25 * 1024 * 1024;
/// Years a tenant's seal certificate is valid.
pub const SEAL_VALID_YEARS: u16 = 10;

/// The search index over filed documents and how far it has read.
pub struct RecordSearch {
    pub index: RecordIndex,
    /// Creation time of the newest version read from the database.
    watermark: Mutex<Option<DateTime<Utc>>>,
}

impl Default for RecordSearch {
    fn default() -> Self {
        Self {
            index: RecordIndex::new().expect("an in-memory index can always be built"),
            watermark: Mutex::new(None),
        }
    }
}

/// What checking a document found.
#[derive(Debug, Clone)]
pub struct SealCheck {
    /// SHA-256 of the checked document.
    pub sha256: String,
    pub size: u64,
    /// The verdict of the seal (the one given, else the stored one).
    pub verification: Option<Verification>,
    /// Whether the document is filed with the tenant (same bytes).
    pub known: bool,
}

/// A document of the tenant found by the full-text search.
pub type RecordSearchResults = RecordResults;

fn index_doc(v: &DocumentVersion, d: &RecordDocument, f: &RecordFile) -> Option<RecordDoc> {
    let text = v.text.clone().unwrap_or_default();
    Some(RecordDoc {
        tenant: v.tenant_id,
        version: v.id,
        document: d.id,
        file: f.id,
        org_units: vec![f.org_unit_id],
        file_number: f.file_number.clone(),
        plan_code: f
            .file_number
            .split('-')
            .next()
            .unwrap_or_default()
            .to_string(),
        title: d.title.clone(),
        text,
        filed_at: d.filed_at,
    })
}

impl App {
    /// The tenant's seal key, generated (Ed25519, certificate for the
    /// tenant's name) and stored on first use.
    pub async fn seal_key(&self, tenant: TenantId) -> UseCaseResult<SealKey> {
        let repo = self.store.repo();
        let row = match repo.active_seal_key(tenant).await? {
            Some(r) => r,
            None => {
                let t = repo.tenant(tenant).await?.ok_or(UseCaseError::NotFound)?;
                let key = SealKey::generate(
                    SealAlgorithm::Ed25519,
                    &SealSubject::new(t.name),
                    Utc::now(),
                    SEAL_VALID_YEARS,
                )
                .map_err(|e| UseCaseError::Internal(format!("seal key: {e}")))?;
                use base64::Engine as _;
                self.store
                    .add_seal_key(
                        tenant,
                        NewSealKey {
                            algorithm: key.algorithm().name().to_string(),
                            private_key: base64::engine::general_purpose::STANDARD
                                .encode(key.pkcs8()),
                            certificate_pem: key.certificate_pem().to_string(),
                            fingerprint: key.fingerprint().to_string(),
                        },
                    )
                    .await?
            }
        };
        let pkcs8 = self.store.open_seal_key(&row).ok_or_else(|| {
            UseCaseError::Internal(
                "the seal key does not open with this instance key (RATHAUS_SECRET_KEY changed?)"
                    .into(),
            )
        })?;
        use base64::Engine as _;
        let pkcs8 = base64::engine::general_purpose::STANDARD
            .decode(pkcs8)
            .map_err(|e| UseCaseError::Internal(format!("seal key: {e}")))?;
        let alg = SealAlgorithm::from_name(&row.algorithm)
            .ok_or_else(|| UseCaseError::Internal(format!("seal algorithm {}", row.algorithm)))?;
        let der = seal::certificate_from_pem(&row.certificate)
            .map_err(|e| UseCaseError::Internal(format!("seal certificate: {e}")))?;
        SealKey::from_parts(alg, &pkcs8, &der)
            .map_err(|e| UseCaseError::Internal(format!("seal key: {e}")))
    }

    /// The tenant's seal certificates (PEM, newest first): the trust anchors
    /// for offline checks. Public.
    pub async fn seal_certificates(&self, tenant: TenantId) -> UseCaseResult<Vec<String>> {
        let mut certs: Vec<String> = self
            .store
            .repo()
            .seal_keys(tenant)
            .await?
            .into_iter()
            .map(|k| k.certificate)
            .collect();
        if certs.is_empty() {
            // First visit before anything was sealed: make the key now, so
            // the certificate an auditor downloads is the one that will seal.
            certs.push(self.seal_key(tenant).await?.certificate_pem().to_string());
        }
        Ok(certs)
    }

    async fn trust_anchors(&self, tenant: TenantId) -> UseCaseResult<Vec<TrustAnchor>> {
        Ok(self
            .store
            .repo()
            .seal_keys(tenant)
            .await?
            .iter()
            .filter_map(|k| TrustAnchor::from_pem(&k.certificate).ok())
            .collect())
    }

    /// Checks a document (anybody, `/pruefen`): with its seal file, the
    /// seal is checked against the tenant's certificates; without, the
    /// document is looked up by its SHA-256 among the tenant's filed
    /// documents and their stored seal is checked.
    pub async fn check_seal(
        &self,
        actor: &Actor,
        content: &[u8],
        seal_file: Option<&[u8]>,
    ) -> UseCaseResult<SealCheck> {
        let tenant = actor.tenant();
        if content.is_empty() {
            return Err(UseCaseError::BadFile("leere Datei (empty file)".into()));
        }
        if content.len() > MAX_VERIFY_BYTES {
            return Err(UseCaseError::BadFile(
                "größer als 25 MB (larger than 25 MB)".into(),
            ));
        }
        let sha = hex::encode(seal::sha256(content));
        let anchors = self.trust_anchors(tenant).await?;
        let stored = self.store.repo().versions_by_sha256(tenant, &sha).await?;
        let known = !stored.is_empty();
        let verification = match seal_file {
            Some(bytes) => {
                let s = Seal::parse(bytes)
                    .map_err(|e| UseCaseError::BadFile(format!("Siegeldatei (seal file): {e}")))?;
                Some(seal::verify(content, &s, &anchors))
            }
            None => stored
                .iter()
                .find_map(|(v, _, _)| v.seal.as_deref())
                .and_then(|s| Seal::parse(s.as_bytes()).ok())
                .map(|s| seal::verify(content, &s, &anchors)),
        };
        Ok(SealCheck {
            sha256: sha,
            size: content.len() as u64,
            verification,
            known,
        })
    }

    /// The seal file of a filed document version (staff with access).
    pub async fn document_seal(
        &self,
        actor: &Actor,
        document: Uuid,
        version: Option<i32>,
    ) -> UseCaseResult<(String, String)> {
        let (doc, v, _) = self.record_document(actor, document, version).await?;
        let seal = v
            .seal
            .ok_or(UseCaseError::Workflow("records.not_sealed_yet"))?;
        let name = format!("{}.siegel.json", v.file_name);
        let _ = doc;
        Ok((name, seal))
    }

    /// Processes the tenant's filed versions that have no seal yet: text,
    /// seal, search index (the `records.process` job). Returns how many.
    pub async fn process_record_versions(&self, tenant: TenantId) -> UseCaseResult<usize> {
        let key = self.seal_key(tenant).await?;
        let mut done = 0;
        loop {
            let pending = self.store.repo().versions_to_process(tenant, 50).await?;
            if pending.is_empty() {
                return Ok(done);
            }
            let mut indexed = Vec::new();
            for p in pending {
                let content = self.files.get(tenant, &p.version.file_key).await?;
                let text = match content {
                    Some(bytes) => {
                        let (mime, kind) = (p.version.mime.clone(), p.document.kind.clone());
                        tokio::task::spawn_blocking(move || extract_text(&bytes, &mime, &kind))
                            .await
                            .map_err(|e| UseCaseError::Internal(format!("text extraction: {e}")))?
                    }
                    None => None,
                };
                let digest = seal::parse_sha256_hex(&p.version.sha256).ok_or_else(|| {
                    UseCaseError::Internal(format!("stored hash of {}", p.version.id))
                })?;
                let s = key
                    .seal(
                        &digest,
                        u64::try_from(p.version.size).unwrap_or(0),
                        Utc::now(),
                        Some(&p.document.id.to_string()),
                        Some(&p.document.title),
                    )
                    .map_err(|e| UseCaseError::Internal(format!("sealing: {e}")))?;
                self.store
                    .set_version_processed(tenant, p.version.id, text.clone(), s.to_json())
                    .await?;
                let mut v = p.version.clone();
                v.text = text;
                indexed.extend(index_doc(&v, &p.document, &p.file));
                done += 1;
            }
            // One commit of the index per batch.
            self.records_search
                .index
                .upsert(&indexed)
                .map_err(|e| UseCaseError::Internal(format!("record index: {e}")))?;
        }
    }

    /// Reads processed versions into the search index (at start: all; then
    /// what other instances processed since, with an overlap).
    pub async fn refresh_record_index(&self) -> UseCaseResult<usize> {
        let after = *self
            .records_search
            .watermark
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut from = after.map(|a| a - chrono::Duration::minutes(10));
        let mut n = 0;
        loop {
            let batch = self.store.repo().indexed_versions_after(from, 500).await?;
            if batch.is_empty() {
                break;
            }
            let docs: Vec<RecordDoc> = batch
                .iter()
                .filter_map(|v| index_doc(&v.version, &v.document, &v.file))
                .collect();
            self.records_search
                .index
                .upsert(&docs)
                .map_err(|e| UseCaseError::Internal(format!("record index: {e}")))?;
            n += docs.len();
            let last = batch.last().map(|v| v.version.created_at);
            if batch.len() < 500 || last == from {
                from = last;
                break;
            }
            from = last;
        }
        if let Some(f) = from {
            let mut w = self
                .records_search
                .watermark
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if w.is_none_or(|w| f > w) {
                *w = Some(f);
            }
        }
        Ok(n)
    }

    /// Puts a document's versions into the index again (after a move).
    pub(crate) async fn reindex_document(
        &self,
        tenant: TenantId,
        document: Uuid,
    ) -> UseCaseResult<()> {
        if let Some((doc, file)) = self.store.repo().filed_document(tenant, document).await? {
            let docs: Vec<RecordDoc> = doc
                .versions
                .iter()
                .filter(|v| v.seal.is_some())
                .filter_map(|v| index_doc(v, &doc.document, &file))
                .collect();
            self.records_search
                .index
                .upsert(&docs)
                .map_err(|e| UseCaseError::Internal(format!("record index: {e}")))?;
        }
        Ok(())
    }

    /// Full-text search in the tenant's files: the Fachadministration sees
    /// everything, clerks the Vorgänge of their units.
    pub async fn search_records(
        &self,
        actor: &Actor,
        text: &str,
        offset: usize,
    ) -> UseCaseResult<RecordSearchResults> {
        let tenant = self.require_records_reader(actor)?;
        if text.trim().is_empty() {
            return Err(UseCaseError::Validation(
                rathaus_domain::ValidationErrors::from(rathaus_domain::FieldError::new(
                    "q", "required",
                )),
            ));
        }
        let units: Option<Vec<Uuid>> = if actor.require(Permission::AdministerTenant).is_ok() {
            None
        } else {
            Some(actor.case_scope()?.into_iter().collect())
        };
        let index = self.records_search.clone();
        let text = text.to_string();
        let tenant_id = tenant.0;
        let scope = units.clone();
        let mut results = tokio::task::spawn_blocking(move || {
            index.index.search(&RecordQuery {
                tenant: tenant_id,
                text: &text,
                visible_units: units.as_deref(),
                file: None,
                limit: 20,
                offset,
            })
        })
        .await
        .map_err(|e| UseCaseError::Internal(format!("search task: {e}")))?
        .map_err(|e| match &e {
            rathaus_search::records::RecordError::Refused(_) => {
                UseCaseError::Validation(rathaus_domain::ValidationErrors::from(
                    rathaus_domain::FieldError::new("q", e.code()),
                ))
            }
            _ => UseCaseError::Internal(format!("record search: {e}")),
        })?;
        // The index is a candidate list; the database decides. A document
        // destroyed or moved since (perhaps by another instance) is dropped
        // here, and removed from this instance's index.
        let repo = self.store.repo();
        let mut gone = Vec::new();
        let mut kept = Vec::with_capacity(results.hits.len());
        for mut hit in std::mem::take(&mut results.hits) {
            match repo.filed_document(tenant, hit.document).await? {
                Some((doc, file)) if doc.versions.iter().any(|v| v.id == hit.version) => {
                    if scope
                        .as_ref()
                        .is_none_or(|units| units.contains(&file.org_unit_id))
                    {
                        hit.file = file.id;
                        hit.file_number = file.file_number;
                        kept.push(hit);
                    } else {
                        results.total = results.total.saturating_sub(1);
                    }
                }
                _ => {
                    gone.push(hit.document);
                    results.total = results.total.saturating_sub(1);
                }
            }
        }
        results.hits = kept;
        if !gone.is_empty() {
            let _ = self.records_search.index.remove_documents(&gone);
        }
        Ok(results)
    }
}

/// The text of a document for the search and the in-tray (none for kinds
/// whose text is not worth indexing or content without a text layer).
pub fn extract_text(content: &[u8], mime: &str, kind: &str) -> Option<String> {
    if DocumentKind::parse(kind) == Some(DocumentKind::ApplicationData) {
        // The submitted data as JSON: its values are the text.
        let v: serde_json::Value = serde_json::from_slice(content).ok()?;
        let mut out = String::new();
        collect_strings(&v, &mut out);
        return Some(out);
    }
    let e = rathaus_standards::text::extract(content, Some(mime)).ok()?;
    let t = e.text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn collect_strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
