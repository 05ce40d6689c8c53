//! The configuration file's JSON reader: takes keys of an object one by one, converts values
//! (JSON numbers and booleans or strings holding them, as the original FMI writes them), and
//! names the key path of anything unknown or of the wrong type.

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A JSON object being read, remembering its key path and which keys were consumed.
pub(super) struct Obj<'a> {
    prefix: String,
    map: &'a Map<String, Value>,
    used: BTreeSet<String>,
}

impl<'a> Obj<'a> {
    pub(super) fn new(prefix: String, map: &'a Map<String, Value>) -> Self {
        Obj {
            prefix,
            map,
            used: BTreeSet::new(),
        }
    }

    pub(super) fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    pub(super) fn take(&mut self, key: &str) -> Option<&'a Value> {
        self.used.insert(key.to_string());
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn wrong(&self, key: &str, want: &str, got: &Value) -> Error {
        Error::config(format!("{}: expected {want}, got {got}", self.path(key)))
    }

    pub(super) fn object(&mut self, key: &str) -> Result<Option<Obj<'a>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj::new(self.path(key), m))),
            Some(v) => Err(self.wrong(key, "an object", v)),
        }
    }

    pub(super) fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(v) => Err(self.wrong(key, "a string", v)),
        }
    }

    pub(super) fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(v) => Err(self.wrong(key, "true or false", v)),
        }
    }

    pub(super) fn f64(&mut self, key: &str) -> Result<Option<f64>> {
        let v = match self.take(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        match v {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
            _ => Err(self.wrong(key, "a non-negative number", &self.map[key])),
        }
    }

    pub(super) fn u64(&mut self, key: &str) -> Result<Option<u64>> {
        let v = match self.take(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match v {
            Some(x) => Ok(Some(x)),
            None => Err(self.wrong(key, "a non-negative integer", &self.map[key])),
        }
    }

    pub(super) fn port(&mut self, key: &str) -> Result<Option<u16>> {
        match self.u64(key)? {
            None => Ok(None),
            Some(p) if (1..=65535).contains(&p) => Ok(Some(p as u16)),
            Some(p) => Err(Error::config(format!(
                "{}: port {p} out of range 1..65535",
                self.path(key)
            ))),
        }
    }

    /// `enabled` (required in the original; absent means disabled here).
    pub(super) fn enabled(&mut self) -> Result<bool> {
        Ok(self.bool("enabled")?.unwrap_or(false))
    }

    pub(super) fn required<T>(&self, v: Option<T>, key: &str) -> Result<T> {
        v.ok_or_else(|| {
            Error::config(format!(
                "{}: missing (required when enabled)",
                self.path(key)
            ))
        })
    }

    /// Fails on the first key that was never read: an unknown key.
    pub(super) fn finish(self) -> Result<()> {
        for k in self.map.keys() {
            if !self.used.contains(k) {
                return Err(Error::config(format!("{}: unknown key", self.path(k))));
            }
        }
        Ok(())
    }
}
