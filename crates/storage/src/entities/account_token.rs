//! A citizen account's one-time token: the confirmation of a registration
//! (with the password chosen in it) or a password reset. Only the SHA-256 of
//! the token is stored, and only once the email carrying it is being sent.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub citizen_id: Uuid,
    /// `confirm` or `reset`.
    pub purpose: String,
    /// SHA-256 hex of the token; empty until the email is sent.
    pub token_hash: Option<String>,
    /// argon2id PHC string of the password chosen at registration
    /// (`confirm` only): the account gets it when this token confirms it.
    pub password_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
