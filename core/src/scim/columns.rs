//! What the server reads out of a normalized SCIM document to keep beside
//! it: a person's username, display name, e-mail address and state (the
//! account Gantry signs in), a group's name and members (rows of their
//! own, which the group-to-role mapping reads).

use super::error::ScimError;
use serde_json::Value;

/// A person's account fields, taken from their normalized document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserColumns<'a> {
    pub username: &'a str,
    pub display_name: String,
    pub email: Option<&'a str>,
    pub external_id: Option<&'a str>,
    /// A person the provider doesn't mark inactive is active (RFC 7643
    /// §4.1.1 leaves the default to the server).
    pub active: bool,
}

/// A group's fields, and its document without the members.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupColumns<'a> {
    /// The document as stored: members are rows of their own.
    pub document: Value,
    pub display_name: &'a str,
    pub external_id: Option<&'a str>,
    /// User ids, with the label the provider gave each (if any).
    pub members: Vec<(String, Option<String>)>,
}

fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

/// A normalized User document's account fields. `userName` is required.
pub fn user_columns(doc: &Value) -> Result<UserColumns<'_>, ScimError> {
    let username =
        text(doc, "userName").ok_or_else(|| ScimError::invalid_value("userName is required"))?;
    Ok(UserColumns {
        username,
        display_name: display_name(doc, username),
        email: primary_email(doc),
        external_id: text(doc, "externalId"),
        active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
    })
}

/// A normalized Group document's fields. `displayName` is required; a
/// member without a `value` (an id) is no one and is dropped.
pub fn group_columns(doc: &Value) -> Result<GroupColumns<'_>, ScimError> {
    let display_name = text(doc, "displayName")
        .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
    let members = doc
        .get("members")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| {
                    let id = text(m, "value")?;
                    Some((id.to_owned(), text(m, "display").map(str::to_owned)))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut document = doc.clone();
    if let Some(object) = document.as_object_mut() {
        object.remove("members");
    }
    Ok(GroupColumns {
        document,
        display_name,
        external_id: text(doc, "externalId"),
        members,
    })
}

/// What to call a person: displayName, else the formatted or given and
/// family name, else their userName.
fn display_name(doc: &Value, username: &str) -> String {
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let name = doc.get("name");
    text(doc.get("displayName"))
        .or_else(|| text(name.and_then(|n| n.get("formatted"))))
        .or_else(|| {
            let given = text(name.and_then(|n| n.get("givenName")));
            let family = text(name.and_then(|n| n.get("familyName")));
            match (given, family) {
                (Some(g), Some(f)) => Some(format!("{g} {f}")),
                (g, f) => g.or(f),
            }
        })
        .unwrap_or_else(|| username.to_owned())
}

/// The primary e-mail address, else the first.
fn primary_email(doc: &Value) -> Option<&str> {
    let emails = doc.get("emails")?.as_array()?;
    emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| emails.first())
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_user_is_called_by_the_best_name_it_has() {
        let name = |doc: Value| user_columns(&doc).unwrap().display_name;
        assert_eq!(
            name(json!({"userName": "u", "displayName": " Babs ", "name": {"formatted": "F"}})),
            "Babs"
        );
        assert_eq!(
            name(json!({"userName": "u", "displayName": " ", "name": {"formatted": "Ms B J"}})),
            "Ms B J"
        );
        assert_eq!(
            name(
                json!({"userName": "u", "name": {"givenName": "Barbara", "familyName": "Jensen"}})
            ),
            "Barbara Jensen"
        );
        assert_eq!(
            name(json!({"userName": "u", "name": {"familyName": "Jensen"}})),
            "Jensen"
        );
        assert_eq!(name(json!({"userName": "bjensen"})), "bjensen");
    }

    #[test]
    fn a_users_email_is_the_primary_one_else_the_first() {
        let email = |emails: Value| {
            let doc = json!({"userName": "u", "emails": emails});
            user_columns(&doc).unwrap().email.map(str::to_owned)
        };
        assert_eq!(
            email(json!([{"value": "a@x"}, {"value": "b@x", "primary": true}])),
            Some("b@x".to_owned())
        );
        assert_eq!(
            email(json!([{"value": "a@x"}, {"value": "b@x"}])),
            Some("a@x".to_owned())
        );
        assert_eq!(email(json!([])), None);
    }

    #[test]
    fn a_user_is_active_unless_said_otherwise_and_needs_a_username() {
        let doc = json!({"userName": "u", "externalId": "e1"});
        let columns = user_columns(&doc).unwrap();
        assert!(columns.active);
        assert_eq!(columns.external_id, Some("e1"));
        let inactive = json!({"userName": "u", "active": false});
        assert!(!user_columns(&inactive).unwrap().active);
        let err = user_columns(&json!({"displayName": "x"})).unwrap_err();
        assert_eq!((err.status, err.scim_type), (400, Some("invalidValue")));
    }

    #[test]
    fn a_groups_members_become_rows_and_leave_the_document() {
        let doc = json!({
            "displayName": "Ops",
            "externalId": "e",
            "members": [{"value": "u1", "display": "Barbara"}, {"value": "u2"}, {"display": "no id"}]
        });
        let columns = group_columns(&doc).unwrap();
        assert_eq!(columns.display_name, "Ops");
        assert_eq!(columns.external_id, Some("e"));
        assert_eq!(
            columns.members,
            vec![
                ("u1".to_owned(), Some("Barbara".to_owned())),
                ("u2".to_owned(), None)
            ]
        );
        assert_eq!(
            columns.document,
            json!({"displayName": "Ops", "externalId": "e"})
        );
        let err = group_columns(&json!({"members": []})).unwrap_err();
        assert_eq!((err.status, err.scim_type), (400, Some("invalidValue")));
    }
}
