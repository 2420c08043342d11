//! OASIS genericode 1.0 code lists (as referenced by XDatenfelder fields).

use serde::Serialize;

use crate::xml::{self, XmlError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeList {
    pub canonical_uri: String,
    pub version: String,
    pub name: String,
    /// (code, label) in document order.
    pub entries: Vec<(String, String)>,
}

/// Reads a genericode `CodeList`. The key column gives the code; the first
/// other column gives the label (the code itself when there is none).
pub fn parse(src: &str) -> Result<CodeList, XmlError> {
    let root = xml::parse(src)?;
    if root.name != "CodeList" {
        return Err(root.error("not a genericode <CodeList>"));
    }
    let ident = root
        .child("Identification")
        .ok_or_else(|| root.error("<Identification> is missing"))?;
    let columns = root
        .child("ColumnSet")
        .ok_or_else(|| root.error("<ColumnSet> is missing"))?;
    let key = columns
        .child("Key")
        .and_then(|k| k.child("ColumnRef"))
        .and_then(|c| c.attr("Ref"))
        .map(String::from)
        .or_else(|| {
            columns
                .child("Column")
                .and_then(|c| c.attr("Id"))
                .map(String::from)
        })
        .ok_or_else(|| columns.error("no key column"))?;
    let label_col = columns
        .all("Column")
        .filter_map(|c| c.attr("Id"))
        .find(|id| *id != key)
        .map(String::from);
    let list = root
        .child("SimpleCodeList")
        .ok_or_else(|| root.error("<SimpleCodeList> is missing"))?;
    let mut entries = Vec::new();
    for row in list.all("Row") {
        let value = |col: &str| {
            row.all("Value")
                .find(|v| v.attr("ColumnRef") == Some(col))
                .map(|v| v.text_of("SimpleValue"))
        };
        let code = value(&key)
            .ok_or_else(|| row.error(format!("row without a value for the key column {key:?}")))?;
        let label = label_col
            .as_deref()
            .and_then(value)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| code.clone());
        entries.push((code, label));
    }
    Ok(CodeList {
        canonical_uri: ident.text_of("CanonicalUri"),
        version: ident.text_of("Version"),
        name: ident.text_of("ShortName"),
        entries,
    })
}
