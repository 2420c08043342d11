//! Terminvergabe (C8): booking an appointment (service → location → day →
//! time → name and e-mail → confirmation link), moving and cancelling it
//! with its code, the waiting list, and the staff's day at a location.
//! Pages and API; handlers parse, call `rathaus_app::appointments`, render.

pub mod api;
pub mod public;
pub mod staff;
pub mod views;

use crate::platform::routes::Routes;

pub use api::OPERATIONS;

pub fn routes() -> Routes {
    Routes::new("appointments")
        .merge(public::routes())
        .merge(staff::routes())
        .nest("/api/v1", api::routes())
}
