//! A client's User or Group (the body of `POST` and `PUT`) checked
//! against the schema and turned into the document Gantry stores.
//!
//! The stored document has the schema's attribute names in their canonical
//! spelling, extension attributes in an object under the extension's URN,
//! JSON booleans, and no `id`, `meta` or `schemas` (the server owns those
//! and adds them back in [`super::resource::with_meta`]).
//!
//! What clients send that is accepted and folded in:
//! - attribute names in any case (`USERNAME`, `username`), as RFC 7643 §2.1
//!   makes them case-insensitive;
//! - extension attributes as flat, URN-prefixed keys
//!   (`"urn:…:enterprise:2.0:User:department": "x"`), and sub-attributes
//!   as dotted keys (`"name.givenName"`), which some clients send;
//! - booleans as `"True"`/`"False"` (Microsoft Entra ID);
//! - a bare string where a complex value with a `value` sub-attribute is
//!   expected, standing for `{"value": "…"}` (Entra ID sends a manager as
//!   the manager's id);
//! - read-only attributes (`id`, `meta`, `groups`, `manager.displayName`,
//!   `members.$ref`): ignored, since clients echo what they read;
//! - `password`: ignored. Okta and Entra ID can send one on create, but
//!   the identity provider owns credentials: people sign in to Gantry
//!   through OIDC at that provider, so a password here would be a secret
//!   Gantry has no use for and must not keep;
//! - `null`, `[]` and `{}`: unassigned, so the attribute is left out.
//!
//! What is refused: a body without `schemas` naming the resource's core
//! schema, unknown attributes (400 `invalidSyntax`), values of the wrong
//! type, a missing or blank `userName` (Users) or `displayName` (Groups),
//! more than one `primary` value (400 `invalidValue`).

use super::error::ScimError;
use super::filter::attr_path;
use super::schema::{AttrDef, ResourceKind, SchemaDef, Target, display_name};
use super::value::{attr_value, unknown};
use serde_json::{Map, Value};

/// Checks a POST or PUT body and returns the document to store.
pub fn normalize(kind: ResourceKind, body: &Value) -> Result<Value, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))?;
    check_schemas(kind, object)?;
    let doc = normalize_doc(kind, object)?;
    check_labels(kind, &doc)?;
    Ok(Value::Object(doc))
}

/// Longest name Gantry shows for a person or group.
const MAX_LABEL_CHARS: usize = 256;

/// The names the dashboard shows for a person or group (`crate::text`): no
/// control or invisible formatting characters, and bounded, whatever the
/// provisioning client sends.
pub(super) fn check_labels(kind: ResourceKind, doc: &Map<String, Value>) -> Result<(), ScimError> {
    let labels: &[&str] = match kind {
        ResourceKind::User => &["userName", "displayName", "nickName", "title"],
        ResourceKind::Group => &["displayName"],
    };
    let name = doc.get("name").and_then(Value::as_object);
    let found = labels
        .iter()
        .map(|attr| ((*attr).to_owned(), doc.get(*attr)))
        .chain(
            ["formatted", "familyName", "givenName", "middleName"]
                .iter()
                .map(|sub| (format!("name.{sub}"), name.and_then(|n| n.get(*sub)))),
        );
    for (path, value) in found {
        if let Some(text) = value.and_then(Value::as_str)
            && let Err(why) = crate::text::check(text, MAX_LABEL_CHARS, crate::text::Lines::One)
        {
            return Err(ScimError::invalid_value(format!("{path} {why}")));
        }
    }
    Ok(())
}

/// The object's value for `name`, ignoring ASCII case.
pub(super) fn get_ci<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn check_schemas(kind: ResourceKind, object: &Map<String, Value>) -> Result<(), ScimError> {
    let core = kind.schema();
    let Some(schemas) = get_ci(object, "schemas") else {
        return Err(ScimError::invalid_syntax(format!(
            "schemas is missing; it must list {core}"
        )));
    };
    let Some(schemas) = schemas
        .as_array()
        .filter(|s| s.iter().all(Value::is_string))
    else {
        return Err(ScimError::invalid_syntax(
            "schemas must be an array of schema URNs",
        ));
    };
    if !schemas
        .iter()
        .filter_map(Value::as_str)
        .any(|s| s.eq_ignore_ascii_case(core))
    {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must list {core}"
        )));
    }
    Ok(())
}

/// The raw values gathered for one container (the resource, or one
/// extension object), by attribute, before checking.
#[derive(Default)]
struct Raw(Vec<(&'static AttrDef, Value)>);

impl Raw {
    fn slot(&mut self, def: &'static AttrDef) -> &mut Value {
        let index = match self.0.iter().position(|(d, _)| std::ptr::eq(*d, def)) {
            Some(index) => index,
            None => {
                self.0.push((def, Value::Null));
                self.0.len() - 1
            }
        };
        &mut self.0[index].1
    }

    /// Records `value` for `def` (or for its sub-attribute `sub`),
    /// merging objects given in parts (`manager` and `manager.value`).
    fn put(
        &mut self,
        extension: Option<&SchemaDef>,
        def: &'static AttrDef,
        sub: Option<&'static AttrDef>,
        value: &Value,
    ) -> Result<(), ScimError> {
        if def.is_read_only() || sub.is_some_and(AttrDef::is_read_only) {
            return Ok(());
        }
        let slot = self.slot(def);
        let Some(sub) = sub else {
            match (&mut *slot, value) {
                (Value::Object(old), Value::Object(new)) if !def.multi_valued => {
                    old.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                (slot, value) => *slot = value.clone(),
            }
            return Ok(());
        };
        let label = display_name(extension, def, Some(sub));
        if def.multi_valued {
            return Err(ScimError::invalid_syntax(format!(
                "{label}: send {} as an array of objects",
                def.name
            )));
        }
        if slot.is_null() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(object) => {
                object.insert(sub.name.to_owned(), value.clone());
                Ok(())
            }
            _ => Err(ScimError::invalid_value(format!(
                "{} must be an object",
                display_name(extension, def, None)
            ))),
        }
    }

    /// Checks every gathered attribute; the stored form of each that has a
    /// value.
    fn finish(self, extension: Option<&SchemaDef>) -> Result<Map<String, Value>, ScimError> {
        let mut out = Map::new();
        for (def, value) in self.0 {
            let label = display_name(extension, def, None);
            if let Some(v) = attr_value(def, &value, &label)? {
                out.insert(def.name.to_owned(), v);
            }
        }
        Ok(out)
    }
}

/// [`normalize`] without the `schemas` check: also what a PATCH result
/// and a stored document go through.
pub(super) fn normalize_doc(
    kind: ResourceKind,
    object: &Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    let mut core = Raw::default();
    let mut extensions: Vec<(&'static SchemaDef, Raw)> = kind
        .extensions()
        .iter()
        .map(|ext| (*ext, Raw::default()))
        .collect();
    for (key, value) in object {
        // `schemas` was checked by the caller and is the server's to write
        // back. A `password` is dropped unread: the identity provider owns
        // credentials and people sign in to Gantry through OIDC there, so
        // Gantry neither needs nor keeps one.
        if key.eq_ignore_ascii_case("schemas") || key.eq_ignore_ascii_case("password") {
            continue;
        }
        let target = attr_path(key, 0).ok().and_then(|p| kind.resolve(&p));
        match target {
            None => return Err(unknown(key)),
            Some(Target::Extension(ext)) => {
                let raw = extension_raw(&mut extensions, ext);
                match value {
                    Value::Null => {}
                    Value::Object(attrs) => {
                        for (name, v) in attrs {
                            let def = ext
                                .attr(name)
                                .ok_or_else(|| unknown(&format!("{}:{name}", ext.id)))?;
                            raw.put(Some(ext), def, None, v)?;
                        }
                    }
                    _ => {
                        return Err(ScimError::invalid_value(format!(
                            "{} must be an object",
                            ext.id
                        )));
                    }
                }
            }
            Some(Target::Attr(r)) => {
                let raw = match r.extension {
                    Some(ext) => extension_raw(&mut extensions, ext),
                    None => &mut core,
                };
                raw.put(r.extension, r.attr, r.sub, value)?;
            }
        }
    }
    let mut out = core.finish(None)?;
    for (ext, raw) in extensions {
        let attrs = raw.finish(Some(ext))?;
        if !attrs.is_empty() {
            out.insert(ext.id.to_owned(), Value::Object(attrs));
        }
    }
    check_required(kind, &out)?;
    Ok(out)
}

fn extension_raw<'a>(
    extensions: &'a mut [(&'static SchemaDef, Raw)],
    ext: &SchemaDef,
) -> &'a mut Raw {
    let index = extensions
        .iter()
        .position(|(e, _)| std::ptr::eq(*e, ext))
        .unwrap_or_default();
    &mut extensions[index].1
}

fn check_required(kind: ResourceKind, doc: &Map<String, Value>) -> Result<(), ScimError> {
    if let Some(def) = kind
        .core_attrs()
        .find(|d| d.required && !doc.contains_key(d.name))
    {
        return Err(ScimError::invalid_value(format!(
            "{} is required",
            def.name
        )));
    }
    for ext in kind.extensions() {
        let attrs = doc.get(ext.id).and_then(Value::as_object);
        if let Some(def) = ext
            .attributes
            .iter()
            .find(|d| d.required && !attrs.is_some_and(|a| a.contains_key(d.name)))
        {
            return Err(ScimError::invalid_value(format!(
                "{} is required",
                display_name(Some(ext), def, None)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
