//! The federal standards rathaus reads and writes. One module per standard:
//! [`xdatenfelder`] (FIM XDatenfelder 2 and 3) and [`genericode`] (code
//! lists). Every reader returns a clear error naming the element and line,
//! never panics on bad input.

pub mod genericode;
pub mod xdatenfelder;
mod xml;

pub use xml::XmlError;
