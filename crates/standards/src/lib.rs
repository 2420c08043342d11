//! The federal standards rathaus reads and writes. One module per standard:
//! [`xdatenfelder`] (FIM XDatenfelder 2 and 3), [`genericode`] (code
//! lists) and [`xdomea`] (3.0.0, the archive hand-over). Every reader
//! returns a clear error naming the element and line, never panics on bad
//! input.

pub mod genericode;
pub mod seal;
pub mod text;
pub mod xdatenfelder;
pub mod xdomea;
mod xml;

pub use xml::XmlError;
