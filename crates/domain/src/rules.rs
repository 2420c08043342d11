//! The one rule engine of rathaus forms (C2): a small, safe expression
//! language for conditions ("show this field when …"), validations and
//! computed values. It runs on the server only; there is no second
//! implementation in the browser.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*                 also ||
//! and     := not ("and" not)*                also &&
//! not     := "not" not | cmp                 also !
//! cmp     := sum (("=="|"!="|"<"|"<="|">"|">=") sum)?
//! sum     := product (("+"|"-") product)*
//! product := unary (("*"|"/"|"%") unary)*
//! unary   := "-" unary | primary
//! primary := number | 'text' | "text" | true | false | null
//!          | field.path | name "(" args ")" | "(" expr ")"
//! ```
//!
//! Safe by construction: no loops, no assignment, no I/O, bounded nesting
//! depth and input size; every evaluation terminates. Missing fields are
//! `null`; comparisons with `null` are false (except `== null`), arithmetic
//! with `null` is `null`, and `null` counts as false in conditions.
//! Functions: `len`, `empty`, `not_empty`, `today`, `date`, `years_between`,
//! `days_between`, `sum`, `count`, `min`, `max`, `contains`, `starts_with`,
//! `iban_valid`, `if`, `round`.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A value a rule works with.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Text(String),
    Date(NaiveDate),
    List(Vec<Value>),
}

impl Value {
    /// Truthiness in conditions: null, false, 0, "" and [] are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Text(t) => !t.is_empty(),
            Value::Date(_) => true,
            Value::List(l) => !l.is_empty(),
        }
    }

    fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Text(t) => parse_date(t),
            _ => None,
        }
    }

    fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Text(t) => t.trim().replace(',', ".").parse().ok(),
            _ => None,
        }
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Field(String),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

/// Prints the expression fully parenthesised; parsing the output yields the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Lit(Value::Null) => f.write_str("null"),
            Expr::Lit(Value::Bool(b)) => write!(f, "{b}"),
            Expr::Lit(Value::Num(n)) => write!(f, "{n:?}"),
            Expr::Lit(Value::Text(t)) => {
                write!(f, "'{}'", t.replace('\\', "\\\\").replace('\'', "\\'"))
            }
            Expr::Lit(Value::Date(d)) => write!(f, "date('{d}')"),
            Expr::Lit(Value::List(_)) => f.write_str("null"),
            Expr::Field(p) => f.write_str(p),
            Expr::Not(e) => write!(f, "(not {e})"),
            Expr::Neg(e) => write!(f, "(-({e}))"),
            Expr::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Why a rule could not be read; `pos` is the character offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule error at character {pos}: {message}")]
pub struct RuleError {
    pub pos: usize,
    pub message: String,
}

fn err<T>(pos: usize, message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError {
        pos,
        message: message.into(),
    })
}

pub const MAX_RULE_CHARS: usize = 4_000;
const MAX_DEPTH: usize = 64;
/// Deepest tree a rule may become, counting chains: `a + b + c` is a tree
/// two deep. Evaluating, printing and dropping a rule walk its tree
/// recursively; without a bound a 4,000-character chain is 2,000 deep.
const MAX_TREE_DEPTH: usize = 128;
const FUNCTIONS: [(&str, usize, usize); 16] = [
    ("len", 1, 1),
    ("empty", 1, 1),
    ("not_empty", 1, 1),
    ("today", 0, 0),
    ("date", 1, 1),
    ("years_between", 2, 2),
    ("days_between", 2, 2),
    ("sum", 1, 1),
    ("count", 1, 1),
    ("min", 1, 8),
    ("max", 1, 8),
    ("contains", 2, 2),
    ("starts_with", 2, 2),
    ("iban_valid", 1, 1),
    ("if", 3, 3),
    ("round", 1, 2),
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Text(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, RuleError> {
    if src.chars().count() > MAX_RULE_CHARS {
        return err(MAX_RULE_CHARS, "rule is too long");
    }
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            match s.parse::<f64>() {
                Ok(n) => out.push((start, Tok::Num(n))),
                Err(_) => return err(start, format!("invalid number {s:?}")),
            }
        } else if c == '\'' || c == '"' {
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return err(start, "text is not closed"),
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some(n) => s.push(*n),
                            None => return err(i, "text is not closed"),
                        }
                        i += 2;
                    }
                    Some(q) if *q == c => {
                        i += 1;
                        break;
                    }
                    Some(o) => {
                        s.push(*o);
                        i += 1;
                    }
                }
            }
            out.push((start, Tok::Text(s)));
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push((start, Tok::Ident(chars[start..i].iter().collect())));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|o| *o == two);
            if let Some(o) = op {
                out.push((start, Tok::Op(o)));
                i += 2;
                continue;
            }
            let tok = match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                ',' => Tok::Comma,
                '<' => Tok::Op("<"),
                '>' => Tok::Op(">"),
                '+' => Tok::Op("+"),
                '-' => Tok::Op("-"),
                '*' => Tok::Op("*"),
                '/' => Tok::Op("/"),
                '%' => Tok::Op("%"),
                '!' => Tok::Op("!"),
                '=' => return err(start, "use == to compare"),
                other => return err(start, format!("unexpected character {other:?}")),
            };
            out.push((start, tok));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(_, t)| t)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |(p, _)| *p)
    }
    fn eat_op(&mut self, ops: &[&str]) -> Option<&'static str> {
        match self.peek() {
            Some(Tok::Op(o)) if ops.contains(o) => {
                let o = *o;
                self.i += 1;
                Some(o)
            }
            Some(Tok::Ident(w)) if ops.contains(&w.as_str()) => {
                let o = match w.as_str() {
                    "or" => "or",
                    "and" => "and",
                    _ => "not",
                };
                self.i += 1;
                Some(o)
            }
            _ => None,
        }
    }
    fn deeper(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            err(self.pos(), "rule is nested too deeply")
        } else {
            Ok(())
        }
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        self.deeper()?;
        let mut e = self.and()?;
        while self.eat_op(&["or", "||"]).is_some() {
            e = Expr::Binary(BinOp::Or, Box::new(e), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut e = self.not()?;
        while self.eat_op(&["and", "&&"]).is_some() {
            e = Expr::Binary(BinOp::And, Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }
    fn not(&mut self) -> Result<Expr, RuleError> {
        if self.eat_op(&["not", "!"]).is_some() {
            self.deeper()?;
            let e = Expr::Not(Box::new(self.not()?));
            self.depth -= 1;
            return Ok(e);
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, RuleError> {
        let a = self.sum()?;
        let op = match self.eat_op(&["==", "!=", "<", "<=", ">", ">="]) {
            Some("==") => BinOp::Eq,
            Some("!=") => BinOp::Ne,
            Some("<") => BinOp::Lt,
            Some("<=") => BinOp::Le,
            Some(">") => BinOp::Gt,
            Some(">=") => BinOp::Ge,
            _ => return Ok(a),
        };
        Ok(Expr::Binary(op, Box::new(a), Box::new(self.sum()?)))
    }
    fn sum(&mut self) -> Result<Expr, RuleError> {
        let mut e = self.product()?;
        while let Some(o) = self.eat_op(&["+", "-"]) {
            let op = if o == "+" { BinOp::Add } else { BinOp::Sub };
            e = Expr::Binary(op, Box::new(e), Box::new(self.product()?));
        }
        Ok(e)
    }
    fn product(&mut self) -> Result<Expr, RuleError> {
        let mut e = self.unary()?;
        while let Some(o) = self.eat_op(&["*", "/", "%"]) {
            let op = match o {
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                _ => BinOp::Rem,
            };
            e = Expr::Binary(op, Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }
    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.eat_op(&["-"]).is_some() {
            // A minus directly before a number is part of the number.
            if let Some(Tok::Num(n)) = self.peek() {
                let n = *n;
                self.i += 1;
                return Ok(Expr::Lit(Value::Num(-n)));
            }
            self.deeper()?;
            let e = Expr::Neg(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Expr, RuleError> {
        let pos = self.pos();
        let Some((_, tok)) = self.toks.get(self.i).cloned() else {
            return err(pos, "expression is incomplete");
        };
        self.i += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Lit(Value::Num(n))),
            Tok::Text(t) => Ok(Expr::Lit(Value::Text(t))),
            Tok::LParen => {
                let e = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return err(self.pos(), "missing )");
                }
                self.i += 1;
                Ok(e)
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Expr::Lit(Value::Bool(true))),
                "false" => Ok(Expr::Lit(Value::Bool(false))),
                "null" => Ok(Expr::Lit(Value::Null)),
                "and" | "or" | "not" => err(pos, format!("{name:?} needs an operand before it")),
                _ if self.peek() == Some(&Tok::LParen) => {
                    self.i += 1;
                    let mut args = Vec::new();
                    if self.peek() == Some(&Tok::RParen) {
                        self.i += 1;
                    } else {
                        loop {
                            args.push(self.or()?);
                            match self.peek() {
                                Some(Tok::Comma) => self.i += 1,
                                Some(Tok::RParen) => {
                                    self.i += 1;
                                    break;
                                }
                                _ => {
                                    return err(self.pos(), "expected , or ) in the argument list");
                                }
                            }
                        }
                    }
                    match FUNCTIONS.iter().find(|(n, _, _)| *n == name) {
                        None => err(pos, format!("unknown function {name:?}")),
                        Some((_, lo, hi)) if args.len() < *lo || args.len() > *hi => err(
                            pos,
                            format!("{name} takes {lo} to {hi} arguments, got {}", args.len()),
                        ),
                        Some(_) => Ok(Expr::Call(name, args)),
                    }
                }
                _ => {
                    if name.ends_with('.') || name.contains("..") {
                        return err(pos, format!("invalid field name {name:?}"));
                    }
                    Ok(Expr::Field(name))
                }
            },
            Tok::Op(o) => err(pos, format!("unexpected {o:?}")),
            Tok::RParen => err(pos, "unexpected )"),
            Tok::Comma => err(pos, "unexpected ,"),
        }
    }
}

/// Parses a rule.
pub fn parse(src: &str) -> Result<Expr, RuleError> {
    let toks = lex(src)?;
    let end = src.chars().count();
    if toks.is_empty() {
        return err(0, "rule is empty");
    }
    let mut p = Parser {
        toks,
        i: 0,
        end,
        depth: 0,
    };
    let e = p.or()?;
    if p.i < p.toks.len() {
        return err(p.pos(), "unexpected text after the end of the rule");
    }
    if tree_depth(&e) > MAX_TREE_DEPTH {
        return err(
            0,
            format!(
                "rule is too complex (more than {MAX_TREE_DEPTH} operations inside each other)"
            ),
        );
    }
    Ok(e)
}

/// Depth of an expression tree, without recursion.
fn tree_depth(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut todo = vec![(e, 1)];
    while let Some((e, d)) = todo.pop() {
        deepest = deepest.max(d);
        match e {
            Expr::Lit(_) | Expr::Field(_) => {}
            Expr::Not(x) | Expr::Neg(x) => todo.push((x, d + 1)),
            Expr::Binary(_, a, b) => {
                todo.push((a, d + 1));
                todo.push((b, d + 1));
            }
            Expr::Call(_, args) => todo.extend(args.iter().map(|a| (a, d + 1))),
        }
    }
    deepest
}

/// Where a rule reads its field values.
pub trait Fields {
    fn get(&self, path: &str) -> Value;
    fn today(&self) -> NaiveDate;
}

impl Fields for std::collections::HashMap<String, Value> {
    fn get(&self, path: &str) -> Value {
        std::collections::HashMap::get(self, path)
            .cloned()
            .unwrap_or(Value::Null)
    }
    fn today(&self) -> NaiveDate {
        chrono::Utc::now().date_naive()
    }
}

fn compare(op: BinOp, a: &Value, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Date(_), _) | (_, Value::Date(_)) => match (a.as_date(), b.as_date()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => None,
        },
        (Value::Num(_), Value::Text(_)) | (Value::Text(_), Value::Num(_)) => {
            match (a.as_num(), b.as_num()) {
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => None,
            }
        }
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    };
    match op {
        BinOp::Eq => match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            (Value::List(x), Value::List(y)) => x == y,
            _ => ord == Some(Ordering::Equal),
        },
        BinOp::Ne => !compare(BinOp::Eq, a, b),
        BinOp::Lt => ord == Some(Ordering::Less),
        BinOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        BinOp::Gt => ord == Some(Ordering::Greater),
        BinOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        _ => false,
    }
}

fn num_or_null(n: f64) -> Value {
    if n.is_finite() {
        Value::Num(n)
    } else {
        Value::Null
    }
}

/// IBAN check: ISO 13616 format and the ISO 7064 mod-97 check digits.
pub fn iban_valid(input: &str) -> bool {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if !(15..=34).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, tail) = s.split_at(4);
    if !head[..2].chars().all(|c| c.is_ascii_alphabetic())
        || !head[2..].chars().all(|c| c.is_ascii_digit())
    {
        return false;
    }
    if head.starts_with("DE") && s.len() != 22 {
        return false;
    }
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = c.to_digit(36).expect("alphanumeric");
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn call(name: &str, args: &[Value], env: &dyn Fields) -> Value {
    let num = |i: usize| args.get(i).and_then(Value::as_num);
    let list = |v: &Value| match v {
        Value::List(l) => l.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    };
    match name {
        "len" => match &args[0] {
            Value::Text(t) => Value::Num(t.chars().count() as f64),
            Value::List(l) => Value::Num(l.len() as f64),
            Value::Null => Value::Num(0.0),
            _ => Value::Null,
        },
        "empty" => {
            Value::Bool(!args[0].truthy() && !matches!(args[0], Value::Bool(false) | Value::Num(_)))
        }
        "not_empty" => Value::Bool(
            !(!args[0].truthy() && !matches!(args[0], Value::Bool(false) | Value::Num(_))),
        ),
        "today" => Value::Date(env.today()),
        "date" => args[0].as_date().map_or(Value::Null, Value::Date),
        "years_between" => match (args[0].as_date(), args[1].as_date()) {
            (Some(a), Some(b)) => {
                let (from, to, sign) = if a <= b { (a, b, 1.0) } else { (b, a, -1.0) };
                let mut years = to.year() - from.year();
                if (to.month(), to.day()) < (from.month(), from.day()) {
                    years -= 1;
                }
                Value::Num(sign * f64::from(years))
            }
            _ => Value::Null,
        },
        "days_between" => match (args[0].as_date(), args[1].as_date()) {
            (Some(a), Some(b)) => Value::Num((b - a).num_days() as f64),
            _ => Value::Null,
        },
        "sum" => num_or_null(list(&args[0]).iter().filter_map(Value::as_num).sum()),
        "count" => Value::Num(list(&args[0]).iter().filter(|v| v.truthy()).count() as f64),
        "min" | "max" => {
            let vals: Vec<f64> = args
                .iter()
                .flat_map(list)
                .filter_map(|v| v.as_num())
                .collect();
            let r = if name == "min" {
                vals.iter().copied().reduce(f64::min)
            } else {
                vals.iter().copied().reduce(f64::max)
            };
            r.map_or(Value::Null, num_or_null)
        }
        "contains" => match (&args[0], &args[1]) {
            (Value::Text(a), Value::Text(b)) => {
                Value::Bool(a.to_lowercase().contains(&b.to_lowercase()))
            }
            (Value::List(l), v) => Value::Bool(l.contains(v)),
            _ => Value::Bool(false),
        },
        "starts_with" => match (&args[0], &args[1]) {
            (Value::Text(a), Value::Text(b)) => {
                Value::Bool(a.to_lowercase().starts_with(&b.to_lowercase()))
            }
            _ => Value::Bool(false),
        },
        "iban_valid" => match &args[0] {
            Value::Text(t) => Value::Bool(iban_valid(t)),
            _ => Value::Bool(false),
        },
        "if" => unreachable!("evaluated lazily"),
        "round" => match num(0) {
            Some(x) => {
                let places = num(1).unwrap_or(0.0).clamp(0.0, 10.0) as i32;
                let f = 10f64.powi(places);
                num_or_null((x * f).round() / f)
            }
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Evaluates an expression. Never panics and always terminates.
pub fn eval(e: &Expr, env: &dyn Fields) -> Value {
    match e {
        Expr::Lit(v) => v.clone(),
        Expr::Field(p) => env.get(p),
        Expr::Not(x) => Value::Bool(!eval(x, env).truthy()),
        Expr::Neg(x) => match eval(x, env).as_num() {
            Some(n) => num_or_null(-n),
            None => Value::Null,
        },
        Expr::Binary(BinOp::And, a, b) => {
            Value::Bool(eval(a, env).truthy() && eval(b, env).truthy())
        }
        Expr::Binary(BinOp::Or, a, b) => {
            Value::Bool(eval(a, env).truthy() || eval(b, env).truthy())
        }
        Expr::Binary(
            op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
            a,
            b,
        ) => Value::Bool(compare(*op, &eval(a, env), &eval(b, env))),
        Expr::Binary(op, a, b) => {
            let (x, y) = (eval(a, env), eval(b, env));
            if let (BinOp::Add, Value::Text(s), Value::Text(t)) = (op, &x, &y) {
                return Value::Text(format!("{s}{t}"));
            }
            match (x.as_num(), y.as_num()) {
                (Some(m), Some(n)) => match op {
                    BinOp::Add => num_or_null(m + n),
                    BinOp::Sub => num_or_null(m - n),
                    BinOp::Mul => num_or_null(m * n),
                    BinOp::Div if n != 0.0 => num_or_null(m / n),
                    BinOp::Rem if n != 0.0 => num_or_null(m % n),
                    _ => Value::Null,
                },
                _ => Value::Null,
            }
        }
        Expr::Call(name, args) if name == "if" => {
            if eval(&args[0], env).truthy() {
                eval(&args[1], env)
            } else {
                eval(&args[2], env)
            }
        }
        Expr::Call(name, args) => {
            let vals: Vec<Value> = args.iter().map(|a| eval(a, env)).collect();
            call(name, &vals, env)
        }
    }
}

/// Field paths an expression reads (for dependency tracking).
pub fn fields_used(e: &Expr) -> Vec<String> {
    fn walk(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Field(p) => {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
            Expr::Not(x) | Expr::Neg(x) => walk(x, out),
            Expr::Binary(_, a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            Expr::Lit(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(e, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    struct Env(HashMap<String, Value>);
    impl Fields for Env {
        fn get(&self, p: &str) -> Value {
            self.0.get(p).cloned().unwrap_or(Value::Null)
        }
        fn today(&self) -> NaiveDate {
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        }
    }

    fn env() -> Env {
        let mut m = HashMap::new();
        m.insert("betrieb.mitarbeiter".into(), Value::Num(12.0));
        m.insert("rechtsform".into(), Value::Text("GmbH".into()));
        m.insert("geburtsdatum".into(), Value::Text("2000-11-23".into()));
        m.insert(
            "hunde".into(),
            Value::List(vec![Value::Text("Bello".into()), Value::Text("Rex".into())]),
        );
        m.insert(
            "iban".into(),
            Value::Text("DE89 3704 0044 0532 0130 00".into()),
        );
        Env(m)
    }

    fn run(src: &str) -> Value {
        eval(&parse(src).unwrap_or_else(|e| panic!("{src}: {e}")), &env())
    }

    #[test]
    fn conditions_and_computations() {
        assert_eq!(
            run("rechtsform == 'GmbH' and betrieb.mitarbeiter > 10"),
            Value::Bool(true)
        );
        assert_eq!(
            run("not (rechtsform == \"GmbH\") || betrieb.mitarbeiter <= 10"),
            Value::Bool(false)
        );
        assert_eq!(run("betrieb.mitarbeiter * 2 + 1"), Value::Num(25.0));
        assert_eq!(run("1 + 2 * 3 - 4 / 2"), Value::Num(5.0));
        assert_eq!(run("-(1 + 2) % 2"), Value::Num(-1.0));
        assert_eq!(
            run("years_between(geburtsdatum, today())"),
            Value::Num(25.0)
        );
        assert_eq!(
            run("years_between(geburtsdatum, today()) >= 18"),
            Value::Bool(true)
        );
        assert_eq!(
            run("count(hunde) * 90 + if(count(hunde) > 1, 60, 0)"),
            Value::Num(240.0)
        );
        assert_eq!(run("iban_valid(iban)"), Value::Bool(true));
        assert_eq!(run("date('22.11.2026') == today()"), Value::Bool(true));
        assert_eq!(run("round(10 / 3, 2)"), Value::Num(3.33));
        assert_eq!(
            run("contains(hunde, 'Rex') and starts_with(rechtsform, 'gm')"),
            Value::Bool(true)
        );
        assert_eq!(run("max(1, betrieb.mitarbeiter, 3)"), Value::Num(12.0));
    }

    #[test]
    fn null_semantics() {
        assert_eq!(run("fehlt == null"), Value::Bool(true));
        assert_eq!(run("fehlt > 3 or fehlt < 3"), Value::Bool(false));
        assert_eq!(run("fehlt + 1"), Value::Null);
        assert_eq!(run("1 / 0"), Value::Null);
        assert_eq!(
            run("empty(fehlt) and not_empty(rechtsform)"),
            Value::Bool(true)
        );
        assert_eq!(run("len(fehlt)"), Value::Num(0.0));
    }

    #[test]
    fn errors_name_the_position() {
        for (src, pos) in [
            ("a ==", 4),
            ("(a", 2),
            ("a = 1", 2),
            ("foo(1)", 0),
            ("len(1, 2)", 0),
            ("'offen", 0),
            ("a b", 2),
            ("", 0),
            ("1 +* 2", 3),
        ] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.pos, pos, "{src}: {e}");
        }
        assert!(parse(&"(".repeat(200)).is_err(), "deep nesting is refused");
        assert!(
            parse(&"a or ".repeat(2_000)).is_err(),
            "overlong rules are refused"
        );
        // Long chains are deep trees (evaluated and dropped recursively).
        for op in ["+", "-", "and", "or", "*", "/"] {
            let chain = format!("a{}", format!(" {op} a").repeat(200));
            let e = parse(&chain).unwrap_err();
            assert!(e.message.contains("too complex"), "{op}: {e}");
        }
        parse(&format!("a{}", " + a".repeat(100))).expect("a chain of 100 is fine");
    }

    #[test]
    fn iban_examples() {
        assert!(iban_valid("DE89370400440532013000"));
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_valid("DE89370400440532013001"));
        assert!(!iban_valid("DE8937040044053201300"));
        assert!(!iban_valid("nonsense"));
    }

    #[test]
    fn dependencies() {
        let e = parse("a > 1 and len(b.c) < a").unwrap();
        assert_eq!(fields_used(&e), ["a", "b.c"]);
    }

    fn expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            (-1000i32..1000).prop_map(|n| Expr::Lit(Value::Num(f64::from(n)))),
            "[a-z ]{0,6}".prop_map(|s| Expr::Lit(Value::Text(s))),
            any::<bool>().prop_map(|b| Expr::Lit(Value::Bool(b))),
            Just(Expr::Lit(Value::Null)),
            prop::sample::select(vec![
                "betrieb.mitarbeiter",
                "rechtsform",
                "fehlt",
                "hunde",
                "geburtsdatum"
            ])
            .prop_map(|f| Expr::Field(f.to_string())),
        ];
        leaf.prop_recursive(5, 48, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
                inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
                (
                    prop::sample::select(vec![
                        BinOp::Or,
                        BinOp::And,
                        BinOp::Eq,
                        BinOp::Ne,
                        BinOp::Lt,
                        BinOp::Le,
                        BinOp::Gt,
                        BinOp::Ge,
                        BinOp::Add,
                        BinOp::Sub,
                        BinOp::Mul,
                        BinOp::Div,
                        BinOp::Rem,
                    ]),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(|(op, a, b)| Expr::Binary(
                        op,
                        Box::new(a),
                        Box::new(b)
                    )),
                (
                    prop::sample::select(vec!["len", "empty", "count", "sum", "iban_valid"]),
                    inner.clone()
                )
                    .prop_map(|(f, a)| Expr::Call(f.to_string(), vec![a])),
                (inner.clone(), inner.clone(), inner)
                    .prop_map(|(a, b, c)| Expr::Call("if".into(), vec![a, b, c])),
            ]
        })
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(s in ".{0,200}") {
            let _ = parse(&s);
        }

        /// Rule-like text (what the `rules` fuzz target in `fuzz/` also drives):
        /// whatever parses evaluates, prints and parses back without a panic.
        #[test]
        fn rule_like_text_parses_evaluates_and_prints_without_panic(
            parts in prop::collection::vec(prop_oneof![
                prop::sample::select(vec![
                    "(", ")", ",", " ", "-", "+", "*", "/", "%", "!", "==", "!=", "<", "<=", ">",
                    ">=", "&&", "||", " and ", " or ", " not ", "true", "false", "null", "'",
                    "\"", "\\", "1", "0.5", "99999999999999999999", "1.2.3", "a", "hunde",
                    "betrieb.mitarbeiter", "x.", "len(", "if(", "round(", "date(", "today()",
                    "years_between(", "days_between(", "min(", "iban_valid(", "sum(", "count(",
                ]).prop_map(String::from),
                ".{0,3}",
            ], 0..120),
        ) {
            let src = parts.concat();
            if let Ok(e) = parse(&src) {
                let _ = eval(&e, &env());
                let _ = fields_used(&e);
                let _ = parse(&e.to_string());
            }
        }

        #[test]
        fn printed_rules_parse_back_to_the_same_tree(e in expr()) {
            let printed = e.to_string();
            let reparsed = parse(&printed).map_err(|err| TestCaseError::fail(format!("{printed}: {err}")))?;
            prop_assert_eq!(reparsed, e);
        }

        #[test]
        fn evaluation_never_panics_and_conditions_are_boolean(e in expr()) {
            let v = eval(&e, &env());
            let cond = eval(&Expr::Not(Box::new(Expr::Not(Box::new(e)))), &env());
            prop_assert_eq!(cond, Value::Bool(v.truthy()));
        }

        #[test]
        fn comparison_is_consistent(a in -100i32..100, b in -100i32..100) {
            let src = format!("{a} < {b} or {a} == {b} or {a} > {b}");
            prop_assert_eq!(run(&src.replace("--", "- -")), Value::Bool(true));
        }

        #[test]
        fn generated_ibans_check_out(bank in "[0-9]{8}", account in "[0-9]{10}") {
            // Compute the check digits the way a bank would, then verify.
            let bban = format!("{bank}{account}");
            let digits: String = format!("{bban}131400");
            let mut rem = 0u64;
            for c in digits.chars() { rem = (rem * 10 + u64::from(c.to_digit(10).unwrap())) % 97; }
            let check = 98 - rem;
            let iban = format!("DE{check:02}{bban}");
            prop_assert!(iban_valid(&iban), "{}", iban);
        }
    }
}
