//! Mängelmelder (C9): reporting a defect in public space (category, place,
//! description, photos), following reports in public, working them as staff
//! (status with public notes, release of text and photos, merging
//! duplicates) and the Fachadministration's settings (categories, Open311
//! keys, the street list). Handlers parse, call `rathaus_app::defects`,
//! render.

pub mod api;
pub mod open311;
pub mod public;
pub mod staff;
pub mod views;

use crate::platform::routes::Routes;

pub fn routes() -> Routes {
    Routes::new("defects")
        .merge(public::routes())
        .merge(staff::routes())
        .merge(open311::routes())
        .nest("/api/v1", api::routes())
}
