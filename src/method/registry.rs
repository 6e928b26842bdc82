//! Every method by name, with the options the front ends take. A method's
//! options are declared in its own file ([`Entry`]); the command line
//! (`--radius 20`) and the server's query (`?radius=20`) both collect what
//! the user gave into [`Values`], and `crate::options` turns those into an
//! `ExplainConfig` through serde.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::Method;
use crate::Error;

/// How an option's value is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Present or not (`--second-run`, `?second_run` or `?second_run=true`).
    Flag,
    Int,
    Float,
    Text,
    /// One of these words.
    Choice(&'static [&'static str]),
}

/// One option as the front ends show it.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    /// snake_case: the serde field, the query key; the command line writes `-` for `_`.
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    /// May be given several times.
    pub list: bool,
}

impl OptionSpec {
    pub const fn new(name: &'static str, kind: Kind, help: &'static str) -> Self {
        OptionSpec { name, help, kind, list: false }
    }

    pub const fn list(name: &'static str, kind: Kind, help: &'static str) -> Self {
        OptionSpec { name, help, kind, list: true }
    }
}

/// A method as the front ends know it.
pub struct Entry {
    /// The `--strategy` value (`window`).
    pub strategy: &'static str,
    /// The report name (`pami-window`), [`Method::name`].
    pub name: &'static str,
    pub help: &'static str,
    pub options: &'static [OptionSpec],
    /// The method from the options the user gave (the rest at their defaults).
    pub build: fn(&Values) -> Result<Arc<dyn Method>, Error>,
}

/// Every method, in the order help lists them.
pub fn entries() -> [&'static Entry; 9] {
    [
        &super::window::ENTRY,
        &super::segments::ENTRY,
        &super::occlusion::ENTRY,
        &super::rise::ENTRY,
        &super::ablation::ENTRY,
        &super::saliency::ENTRY,
        &super::integrated_gradients::ENTRY,
        &super::smoothgrad::ENTRY,
        &super::gradcam::ENTRY,
    ]
}

/// The method named `name`: its `--strategy` value or its report name.
pub fn entry(name: &str) -> Option<&'static Entry> {
    entries().into_iter().find(|e| e.strategy == name || e.name == name)
}

/// The options a user gave, by name, as the text they gave (repeats in order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<String, Vec<String>>);

impl Values {
    /// Adds `value` for `key` (`-` and `_` alike).
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        self.0.entry(key.replace('-', "_")).or_default().push(value.into());
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.0.get(key).map(Vec::as_slice)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The options of `specs` that were given, as `T` (serde, with `T`'s
    /// defaults for the rest); errors name `owner`.
    pub fn decode<T: DeserializeOwned>(&self, specs: &[OptionSpec], owner: &str) -> Result<T, Error> {
        let bad = |m: String| Error::InvalidParameter(format!("{owner}: {m}"));
        let mut object = serde_json::Map::new();
        for spec in specs {
            let Some(given) = self.0.get(spec.name) else { continue };
            let mut values = Vec::with_capacity(given.len());
            for text in given {
                values.push(json_value(spec, text).map_err(bad)?);
            }
            let value = if spec.list {
                serde_json::Value::Array(values)
            } else if values.len() == 1 {
                values.remove(0)
            } else {
                return Err(bad(format!("takes one --{}", spec.name.replace('_', "-"))));
            };
            object.insert(spec.name.to_owned(), value);
        }
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| bad(e.to_string()))
    }
}

/// `text` as the JSON value `spec` reads.
fn json_value(spec: &OptionSpec, text: &str) -> Result<serde_json::Value, String> {
    let flag = format!("--{}", spec.name.replace('_', "-"));
    Ok(match spec.kind {
        Kind::Flag => match text {
            "" | "true" => true.into(),
            "false" => false.into(),
            _ => return Err(format!("{flag} is a flag: `{text}` is neither true nor false")),
        },
        Kind::Int => text.trim().parse::<i64>().map_err(|_| format!("{flag}: `{text}` is not an integer"))?.into(),
        Kind::Float => {
            let v = text.trim().parse::<f64>().map_err(|_| format!("{flag}: `{text}` is not a number"))?;
            serde_json::Number::from_f64(v).ok_or_else(|| format!("{flag}: `{text}` is not a finite number"))?.into()
        }
        Kind::Text => text.into(),
        Kind::Choice(words) => {
            if !words.contains(&text) {
                return Err(format!("{flag}: `{text}` is not one of {}", words.join(", ")));
            }
            text.into()
        }
    })
}
