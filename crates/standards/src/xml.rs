//! A small element tree over quick-xml with line numbers, enough for the
//! standards' documents (no mixed content).

use quick_xml::{Reader, events::Event};

/// A document that is not well-formed, or a standard's rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, <{element}>: {message}")]
pub struct XmlError {
    pub line: usize,
    pub element: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Local name without prefix.
    pub name: String,
    /// Prefix of the qualified name, if any.
    pub prefix: Option<String>,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
    pub line: usize,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of a child, empty when missing.
    pub fn text_of(&self, name: &str) -> String {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default()
    }

    pub fn error(&self, message: impl Into<String>) -> XmlError {
        XmlError {
            line: self.line,
            element: self.name.clone(),
            message: message.into(),
        }
    }
}

fn line_at(src: &str, pos: usize) -> usize {
    src.as_bytes()[..pos.min(src.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Line numbers for increasing byte positions without rescanning the document.
struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.src.len());
        if pos < self.pos {
            return self.src[..pos].iter().filter(|b| **b == b'\n').count() + 1;
        }
        self.line += self.src[self.pos..pos]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.pos = pos;
        self.line
    }
}

/// Deepest element nesting a document may have (XDatenfelder groups nest at
/// most 32 deep, three elements per level). A limit keeps the tree, its
/// recursive walks and its drop off the stack.
pub const MAX_DEPTH: usize = 256;
/// Most elements a document may have (the largest FIM Stammdatenschema in
/// the demo has 4,500 in 556 KB). A limit keeps a file of empty elements
/// from turning into gigabytes of tree.
pub const MAX_ELEMENTS: usize = 200_000;

/// Parses a document into its root element. DTDs are refused: the standards
/// do not use them, and entity declarations are what XML bombs (billion
/// laughs) and external entities (`SYSTEM "file:///etc/passwd"`) are made of.
/// Nothing is ever fetched or expanded beyond the five predefined entities
/// and character references.
pub fn parse(src: &str) -> Result<Node, XmlError> {
    let mut reader = Reader::from_str(src);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    let mut lines = Lines {
        src: src.as_bytes(),
        pos: 0,
        line: 1,
    };
    loop {
        let pos = reader.buffer_position() as usize;
        let line = lines.at(pos);
        let event = reader.read_event().map_err(|e| XmlError {
            line: line_at(src, reader.error_position() as usize),
            element: stack.last().map(|n| n.name.clone()).unwrap_or_default(),
            message: format!("not well-formed XML: {e}"),
        })?;
        let start = |e: &quick_xml::events::BytesStart<'_>| -> Result<Node, XmlError> {
            let qname = String::from_utf8_lossy(e.name().as_ref()).to_string();
            let (prefix, name) = match qname.split_once(':') {
                Some((p, n)) => (Some(p.to_string()), n.to_string()),
                None => (None, qname.clone()),
            };
            let mut attrs = Vec::new();
            for a in e.attributes() {
                let a = a.map_err(|err| XmlError {
                    line,
                    element: name.clone(),
                    message: format!("bad attribute: {err}"),
                })?;
                let key = String::from_utf8_lossy(a.key.as_ref()).to_string();
                let value = a
                    .unescape_value()
                    .map_err(|err| XmlError {
                        line,
                        element: name.clone(),
                        message: format!("bad attribute value: {err}"),
                    })?
                    .to_string();
                attrs.push((key, value));
            }
            Ok(Node {
                name,
                prefix,
                attrs,
                line,
                ..Default::default()
            })
        };
        let limits = |stack: &[Node], elements: usize| -> Result<(), XmlError> {
            let element = stack.last().map(|n| n.name.clone()).unwrap_or_default();
            if stack.len() >= MAX_DEPTH {
                return Err(XmlError {
                    line,
                    element,
                    message: format!("elements are nested more than {MAX_DEPTH} levels deep"),
                });
            }
            if elements > MAX_ELEMENTS {
                return Err(XmlError {
                    line,
                    element,
                    message: format!("the document has more than {MAX_ELEMENTS} elements"),
                });
            }
            if root.is_some() {
                return Err(XmlError {
                    line,
                    element,
                    message: "more than one root element".into(),
                });
            }
            Ok(())
        };
        match event {
            Event::Start(e) => {
                elements += 1;
                limits(&stack, elements)?;
                stack.push(start(&e)?)
            }
            Event::Empty(e) => {
                elements += 1;
                limits(&stack, elements)?;
                let node = start(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else {
                    return Err(XmlError {
                        line,
                        element: String::new(),
                        message: "end tag without a start tag".into(),
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    let text = t
                        .unescape()
                        .map_err(|e| n.error(format!("bad text: {e}")))?;
                    n.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::DocType(_) => {
                return Err(XmlError {
                    line,
                    element: "!DOCTYPE".into(),
                    message: "DOCTYPE declarations (DTDs, entity declarations) are not accepted; \
                              XDatenfelder and genericode files do not need them"
                        .into(),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError {
            line: line_at(src, src.len()),
            element: stack.last().map(|n| n.name.clone()).unwrap_or_default(),
            message: "document ends inside an element".into(),
        });
    }
    root.ok_or_else(|| XmlError {
        line: 1,
        element: String::new(),
        message: "the document is empty".into(),
    })
}
