//! sea-orm entities, one per table. Every tenant-owned table has `tenant_id`.

pub mod account_token;
pub mod api_token;
pub mod application;
pub mod application_file;
pub mod audit_entry;
pub mod audit_head;
pub mod case;
pub mod catalog_index_log;
pub mod citizen;
pub mod decision_template;
pub mod draft_upload;
pub mod editorial_change;
pub mod form;
pub mod form_draft;
pub mod form_version;
pub mod message;
pub mod org_unit;
pub mod outbox_job;
pub mod role_grant;
pub mod routing_rule;
pub mod search_synonym;
pub mod service;
pub mod service_version;
pub mod session;
pub mod tenant;
pub mod user;
