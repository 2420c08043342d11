//! The federal standards rathaus reads and writes. One module per standard:
//! [`xdatenfelder`] (FIM XDatenfelder 2 and 3), [`genericode`] (code
//! lists), [`xdomea`] (3.0.0, the archive hand-over) and the e-payment
//! interfaces [`pmpayment`] (govconnect) and [`epaybl`] (Bund/Länder);
//! [`open311`] (GeoReport v2) and [`photo`] for defect reports.
//! Every reader returns a clear error naming the element and line (or
//! field), never panics on bad input.

pub mod epaybl;
pub mod genericode;
pub mod open311;
pub mod photo;
pub mod pmpayment;
pub mod seal;
pub mod text;
pub mod xdatenfelder;
pub mod xdomea;
mod xml;

pub use xml::XmlError;
