use super::*;
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use serde_json::json;

const ENT: &str = ENTERPRISE_USER_SCHEMA;

/// Microsoft Entra ID's user create, as its provisioning service sends
/// it with the default attribute mappings (Microsoft's SCIM guide).
fn entra_create() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENT],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
        "active": true,
        "addresses": [{
            "primary": true,
            "type": "work",
            "formatted": "Test_User_formatted",
            "streetAddress": "1 Microsoft Way",
            "locality": "Redmond",
            "region": "WA",
            "postalCode": "98052",
            "country": "US"
        }],
        "displayName": "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081",
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fa3c@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"familyName": "familyName", "givenName": "givenName"},
        "phoneNumbers": [
            {"type": "work", "value": "+1 425 555 0100", "primary": true},
            {"type": "mobile", "value": "+1 425 555 0101"}
        ],
        "title": "Test_User_Title",
        "preferredLanguage": "en-US",
        ENT: {
            "employeeNumber": "0001",
            "department": "Engineering",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "Boss"}
        }
    })
}

/// Okta's user create (Okta's SCIM 2.0 guide): a password when
/// password sync is on, `groups: []`, and the `locale` Okta maps.
fn okta_create() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": "isaac.brock@example.com",
        "name": {"givenName": "Isaac", "familyName": "Brock"},
        "emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}],
        "displayName": "Isaac Brock",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[test]
fn entra_create_round_trips() {
    let stored = normalize(ResourceKind::User, &entra_create()).unwrap();
    let mut expected = entra_create();
    let object = expected.as_object_mut().unwrap();
    object.remove("schemas");
    object.remove("meta");
    object[ENT]["manager"]
        .as_object_mut()
        .unwrap()
        .remove("displayName");
    assert_eq!(stored, expected);
    // Normalizing the stored form again changes nothing.
    let mut again = stored.clone();
    again["schemas"] = json!([USER_SCHEMA]);
    assert_eq!(normalize(ResourceKind::User, &again).unwrap(), stored);
}

#[test]
fn okta_create_drops_password_and_groups() {
    let stored = normalize(ResourceKind::User, &okta_create()).unwrap();
    assert_eq!(
        stored,
        json!({
            "userName": "isaac.brock@example.com",
            "name": {"givenName": "Isaac", "familyName": "Brock"},
            "emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}],
            "displayName": "Isaac Brock",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "active": true
        })
    );
    assert!(!stored.to_string().contains("1mz050nq"));
}

#[test]
fn group_creates_from_entra_and_okta() {
    let entra = json!({
        "schemas": [GROUP_SCHEMA],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"},
        "members": []
    });
    assert_eq!(
        normalize(ResourceKind::Group, &entra).unwrap(),
        json!({"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"})
    );
    let okta = json!({
        "schemas": [GROUP_SCHEMA],
        "displayName": "Test SCIMv2",
        "members": [
            {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "$ref": "https://x/Users/902c", "type": "User"}
        ]
    });
    assert_eq!(
        normalize(ResourceKind::Group, &okta).unwrap(),
        json!({
            "displayName": "Test SCIMv2",
            "members": [
                {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
                {"value": "902c246b-6245-4190-8e05-00816be7344a", "type": "User"}
            ]
        })
    );
}

#[test]
fn names_shown_on_the_dashboard_refuse_bidi_overrides_controls_and_floods() {
    let user = |attrs: Value| {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": "bjensen"});
        body.as_object_mut()
            .unwrap()
            .extend(attrs.as_object().unwrap().clone());
        normalize(ResourceKind::User, &body)
    };
    for (attrs, path, what) in [
        (
            json!({"displayName": "Babs \u{202E}nesnej"}),
            "displayName",
            "U+202E",
        ),
        (json!({"userName": "b\u{2066}jensen"}), "userName", "U+2066"),
        (
            json!({"name": {"givenName": "Bar\nbara"}}),
            "name.givenName",
            "one line",
        ),
        (
            json!({"userName": "u".repeat(300)}),
            "userName",
            "keep it to 256",
        ),
    ] {
        let e = user(attrs).unwrap_err();
        assert_eq!(e.status, 400, "{path}");
        assert!(
            e.detail.starts_with(path) && e.detail.contains(what),
            "{}",
            e.detail
        );
    }
    assert!(user(json!({"displayName": "Barbara Jensen \u{1F680}"})).is_ok());
    let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "ops\u{202E}"});
    assert!(normalize(ResourceKind::Group, &group).is_err());

    // A PATCH can't slip one in either.
    let stored = user(json!({})).unwrap();
    let patch = json!({
        "schemas": [crate::scim::PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": "x\u{202E}y"}]
    });
    let e = crate::scim::apply_patch(ResourceKind::User, &stored, &patch).unwrap_err();
    assert!(e.detail.contains("U+202E"), "{}", e.detail);
}

#[test]
fn lenient_forms_are_folded_in() {
    let body = json!({
        "SCHEMAS": [USER_SCHEMA.to_uppercase()],
        "USERNAME": "bjensen",
        "Name": {"GivenName": "Barbara"},
        "name.familyName": "Jensen",
        "Active": "False",
        "emails": [{"Value": "b@x.com", "Primary": "True"}],
        "id": "client-chosen",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Tours",
        "urn:ietf:params:scim:schemas:core:2.0:User:title": "Guide",
        ENT: {"costCenter": "4130"},
        "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager": "m-1",
        "nickName": null,
        "phoneNumbers": [],
        "addresses": null
    });
    assert_eq!(
        normalize(ResourceKind::User, &body).unwrap(),
        json!({
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "active": false,
            "emails": [{"value": "b@x.com", "primary": true}],
            "title": "Guide",
            ENT: {"department": "Tours", "costCenter": "4130", "manager": {"value": "m-1"}}
        })
    );
}

#[test]
fn every_refusal_says_what_and_why() {
    let user = |extra: Value| {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": "u"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: &[(ResourceKind, Value, &str, &str)] = &[
        (
            ResourceKind::User,
            json!([]),
            "invalidSyntax",
            "the body must be a JSON object",
        ),
        (
            ResourceKind::User,
            json!({"userName": "u"}),
            "invalidSyntax",
            "schemas is missing; it must list urn:ietf:params:scim:schemas:core:2.0:User",
        ),
        (
            ResourceKind::User,
            json!({"schemas": USER_SCHEMA, "userName": "u"}),
            "invalidSyntax",
            "schemas must be an array of schema URNs",
        ),
        (
            ResourceKind::User,
            json!({"schemas": [GROUP_SCHEMA], "userName": "u"}),
            "invalidSyntax",
            "schemas must list urn:ietf:params:scim:schemas:core:2.0:User",
        ),
        (
            ResourceKind::User,
            json!({"schemas": [USER_SCHEMA]}),
            "invalidValue",
            "userName is required",
        ),
        (
            ResourceKind::User,
            json!({"schemas": [USER_SCHEMA], "userName": null}),
            "invalidValue",
            "userName is required",
        ),
        (
            ResourceKind::User,
            json!({"schemas": [USER_SCHEMA], "userName": "   "}),
            "invalidValue",
            "userName must not be blank",
        ),
        (
            ResourceKind::User,
            json!({"schemas": [USER_SCHEMA], "userName": 42}),
            "invalidValue",
            "userName must be a string",
        ),
        (
            ResourceKind::User,
            user(json!({"favouriteColour": "blue"})),
            "invalidSyntax",
            "unknown attribute \"favouriteColour\"",
        ),
        (
            ResourceKind::User,
            user(json!({"department": "x"})),
            "invalidSyntax",
            "unknown attribute \"department\"",
        ),
        (
            ResourceKind::User,
            user(json!({"name": {"givenName": "a", "nick": "b"}})),
            "invalidSyntax",
            "unknown attribute \"name.nick\"",
        ),
        (
            ResourceKind::User,
            user(json!({ENT: {"shoeSize": "9"}})),
            "invalidSyntax",
            "unknown attribute \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize\"",
        ),
        (
            ResourceKind::User,
            user(json!({"urn:example:custom:2.0:User:badge": "1"})),
            "invalidSyntax",
            "unknown attribute \"urn:example:custom:2.0:User:badge\"",
        ),
        (
            ResourceKind::User,
            user(json!({"bad key!": 1})),
            "invalidSyntax",
            "unknown attribute \"bad key!\"",
        ),
        (
            ResourceKind::User,
            user(json!({"name": {"givenName": 1}})),
            "invalidValue",
            "name.givenName must be a string",
        ),
        (
            ResourceKind::User,
            user(json!({"name": "Barbara"})),
            "invalidValue",
            "name must be an object",
        ),
        (
            ResourceKind::User,
            user(json!({"active": "yes"})),
            "invalidValue",
            "active must be a boolean (true or false)",
        ),
        (
            ResourceKind::User,
            user(json!({"emails": {"value": "a@b"}})),
            "invalidValue",
            "emails must be an array",
        ),
        (
            ResourceKind::User,
            user(json!({"emails": [5]})),
            "invalidValue",
            "emails must be an object",
        ),
        (
            ResourceKind::User,
            user(
                json!({"emails": [{"value": "a@b", "primary": true}, {"value": "c@d", "primary": true}]}),
            ),
            "invalidValue",
            "emails has 2 values with primary true; at most one may be primary",
        ),
        (
            ResourceKind::User,
            user(json!({"emails.value": "a@b"})),
            "invalidSyntax",
            "emails.value: send emails as an array of objects",
        ),
        (
            ResourceKind::User,
            user(json!({ENT: "Engineering"})),
            "invalidValue",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User must be an object",
        ),
        (
            ResourceKind::User,
            user(json!({ENT: {"manager": 7}})),
            "invalidValue",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager must be an object",
        ),
        (
            ResourceKind::User,
            user(json!({"members": []})),
            "invalidSyntax",
            "unknown attribute \"members\"",
        ),
        (
            ResourceKind::Group,
            json!({"schemas": [GROUP_SCHEMA]}),
            "invalidValue",
            "displayName is required",
        ),
        (
            ResourceKind::Group,
            json!({"schemas": [GROUP_SCHEMA], "displayName": ""}),
            "invalidValue",
            "displayName must not be blank",
        ),
        (
            ResourceKind::Group,
            json!({"schemas": [GROUP_SCHEMA], "displayName": "g", "members": [{"display": "x"}]}),
            "invalidValue",
            "members.value is required",
        ),
        (
            ResourceKind::Group,
            json!({"schemas": [GROUP_SCHEMA], "displayName": "g", "members": [{"value": 5}]}),
            "invalidValue",
            "members.value must be a string",
        ),
        (
            ResourceKind::Group,
            json!({"schemas": [GROUP_SCHEMA], "displayName": "g", "userName": "u"}),
            "invalidSyntax",
            "unknown attribute \"userName\"",
        ),
        (
            ResourceKind::Group,
            json!({"schemas": [GROUP_SCHEMA], "displayName": "g", ENT: {}}),
            "invalidSyntax",
            "unknown attribute \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
        ),
    ];
    for (kind, body, scim_type, detail) in cases {
        let e = normalize(*kind, body).unwrap_err();
        assert_eq!(
            (e.status, e.scim_type, e.detail.as_str()),
            (400, Some(*scim_type), *detail),
            "{body}"
        );
    }
}

/// Every attribute, sub-attribute and spelling against odd values: no
/// panic, and whatever is accepted normalizes to itself again.
#[test]
fn any_value_anywhere_is_checked_and_normalizing_is_idempotent() {
    let mut deep = json!("x");
    for _ in 0..64 {
        deep = json!([{"value": deep}]);
    }
    let odd = [
        json!(null),
        json!(true),
        json!("False"),
        json!(""),
        json!(" "),
        json!("x"),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!([]),
        json!([null]),
        json!([1]),
        json!(["x"]),
        json!({}),
        json!({"value": "v"}),
        json!({"value": "v", "primary": "true", "type": "work"}),
        json!([{"value": "a", "primary": true}, {"value": "A", "primary": true}]),
        json!([{"value": "a", "type": "work"}, {"type": "home"}]),
        json!({"givenName": "g", "department": "d"}),
        deep,
    ];
    let mut accepted = 0;
    for kind in ResourceKind::ALL {
        let mut keys: Vec<String> = vec!["password".into(), "schemas".into(), "bogus".into()];
        for def in kind.core_attrs() {
            keys.push(def.name.to_owned());
            keys.push(def.name.to_uppercase());
            for sub in def.sub_attributes {
                keys.push(format!("{}.{}", def.name, sub.name));
            }
        }
        for ext in kind.extensions() {
            keys.push(ext.id.to_owned());
            for def in ext.attributes {
                keys.push(format!("{}:{}", ext.id, def.name));
            }
        }
        let required = if kind == ResourceKind::User {
            "userName"
        } else {
            "displayName"
        };
        for key in &keys {
            for value in &odd {
                let mut body = json!({"schemas": [kind.schema()], required: "r"});
                body[key.as_str()] = value.clone();
                let Ok(stored) = normalize(kind, &body) else {
                    continue;
                };
                accepted += 1;
                for gone in ["schemas", "id", "meta", "password", "groups"] {
                    assert!(stored.get(gone).is_none(), "{body} -> {stored}");
                }
                let mut again = stored.clone();
                again["schemas"] = json!([kind.schema()]);
                assert_eq!(normalize(kind, &again).as_ref(), Ok(&stored), "{body}");
            }
        }
    }
    assert!(accepted > 300, "{accepted}");
}

#[test]
fn hostile_bodies_are_refused_without_panicking() {
    let mut deep = json!("x");
    for _ in 0..100 {
        deep = json!({"value": [deep]});
    }
    let body = json!({"schemas": [USER_SCHEMA], "userName": "u", "emails": [deep.clone()]});
    assert_eq!(
        normalize(ResourceKind::User, &body).unwrap_err().detail,
        "emails.value must be a string"
    );
    let body = json!({"schemas": [USER_SCHEMA], "userName": deep});
    assert_eq!(
        normalize(ResourceKind::User, &body).unwrap_err().detail,
        "userName must be a string"
    );
    let long = "x".repeat(10_000);
    let mut body = json!({"schemas": [USER_SCHEMA], "userName": "u"});
    body[&long] = json!(1);
    let e = normalize(ResourceKind::User, &body).unwrap_err();
    assert!(e.detail.len() < 200, "{}", e.detail);
    let body = json!({"schemas": [USER_SCHEMA], "userName": "u", "\u{0}\u{202e}": 1});
    assert_eq!(
        normalize(ResourceKind::User, &body).unwrap_err().detail,
        "unknown attribute \"\\0\\u{202e}\""
    );
}
