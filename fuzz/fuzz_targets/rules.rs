//! The rule language: parse arbitrary text; a rule that parses is
//! evaluated (never panics, always terminates) and printed.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use rathaus_domain::rules::{self, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = rules::parse(src) {
        let mut env: HashMap<String, Value> = HashMap::new();
        env.insert("a".into(), Value::Num(3.0));
        env.insert("b".into(), Value::Text("2024-02-29".into()));
        env.insert(
            "l".into(),
            Value::List(vec![Value::Num(1.0), Value::Text("x".into())]),
        );
        let _ = rules::eval(&expr, &env);
        let _ = rules::fields_used(&expr);
        let _ = expr.to_string();
    }
});
