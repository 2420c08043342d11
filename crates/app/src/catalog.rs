//! The service catalog (C1): services and their drafts, import and export,
//! search synonyms, and the published reads of the portal and the API.

pub mod search;
