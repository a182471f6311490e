use super::*;
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// RFC 7643 §8.2's full user, trimmed, as Entra ID provisions it
/// (enterprise extension, `active` as the string Entra sends).
fn bjensen() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara"
        },
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": "True",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "groups": [],
        "loginCount": 42,
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z"
        },
        ENTERPRISE: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "department": "Tour Operations",
            "manager": {
                "value": "26118915-6090-4610-87e4-49d8ca9f808d",
                "displayName": "John Smith"
            }
        }
    })
}

/// As Okta provisions a user: no extension, real booleans, few fields.
fn okta_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
        "userName": "isaac.brock@example.com",
        "name": {"givenName": "Isaac", "familyName": "O'Malley"},
        "emails": [{"primary": true, "value": "isaac.brock@example.org", "type": "work"}],
        "ims": [{"value": "isaac@foo.com", "type": "xmpp"}],
        "displayName": "Isaac Brock",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userType": "Intern",
        "title": "",
        "active": true,
        "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34.500+02:00"}
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
        ],
        "meta": {"resourceType": "Group"}
    })
}

fn check(resource: &Value, cases: &[(&str, bool)]) {
    for (text, expected) in cases {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(filter.matches(resource), *expected, "{text}");
    }
}

#[test]
fn rfc_examples_against_bjensen_and_an_okta_user() {
    // (filter, bjensen, okta user)
    let cases: &[(&str, bool, bool)] = &[
        (r#"userName eq "bjensen@example.com""#, true, false),
        (r#"userName eq "BJensen@Example.com""#, true, false),
        (r#"name.familyName co "O'Malley""#, false, true),
        (r#"userName sw "J""#, false, false),
        (r#"userName sw "b""#, true, false),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "I""#,
            false,
            true,
        ),
        ("title pr", true, false),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            false,
            false,
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            true,
            false,
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            false,
            true,
        ),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true, true),
        (r#"title pr and userType eq "Employee""#, true, false),
        (r#"title pr or userType eq "Intern""#, true, true),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            true,
            false,
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            true,
            false,
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            false,
            false,
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com")"#,
            false,
            true,
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            true,
            false,
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            true,
            false,
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            true,
            true,
        ),
    ];
    let (b, o) = (bjensen(), okta_user());
    for (text, on_b, on_o) in cases {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            (filter.matches(&b), filter.matches(&o)),
            (*on_b, *on_o),
            "{text}"
        );
    }
}

#[test]
fn every_operator_on_strings_numbers_and_booleans() {
    check(
        &bjensen(),
        &[
            (r#"displayName eq "babs jensen""#, true),
            (r#"displayName ne "babs jensen""#, false),
            (r#"displayName ne "Barbara""#, true),
            (r#"displayName co "S JEN""#, true),
            (r#"displayName sw "babs""#, true),
            (r#"displayName ew "JENSEN""#, true),
            (r#"displayName ew "Babs""#, false),
            (r#"displayName gt "Babs""#, true),
            (r#"displayName ge "babs jensen""#, true),
            (r#"displayName lt "c""#, true),
            (r#"displayName le "Babs Jensem""#, false),
            ("loginCount eq 42", true),
            ("loginCount eq 42.0", true),
            ("loginCount ne 42", false),
            ("loginCount gt 41", true),
            ("loginCount gt 41.5", true),
            ("loginCount ge 42", true),
            ("loginCount lt -1", false),
            ("loginCount le 4.2e1", true),
            ("loginCount gt 18446744073709551615", false),
            ("loginCount co 4", false),
            // Entra's "True" is a boolean when compared with one.
            ("active eq true", true),
            ("active eq false", false),
            ("active ne false", true),
            ("active gt false", false),
            ("emails.primary eq true", true),
            ("emails.primary eq false", false),
            (r#"emails.primary eq "TRUE""#, true),
            // Mismatched types never match, and never fail.
            (r#"loginCount eq "42""#, false),
            ("userName eq 1", false),
            ("name eq 1", false),
            ("userName eq true", false),
            ("meta gt 1", false),
        ],
    );
}

#[test]
fn dates_compare_chronologically_across_formats() {
    // 04:42:34.500+02:00 is 02:42:34.5Z, before 04:42:34Z.
    check(
        &okta_user(),
        &[
            (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, true),
            (r#"meta.lastModified eq "2011-05-13T02:42:34.5Z""#, true),
            (r#"meta.lastModified gt "2011-05-13T02:42:34Z""#, true),
            (r#"meta.lastModified sw "2011-05-13T04""#, true),
            (r#"meta.lastModified gt "2011""#, true),
        ],
    );
}

#[test]
fn ne_and_null_on_missing_and_empty_attributes() {
    check(
        &okta_user(),
        &[
            // nickName is missing: ne does not match, not (eq) does.
            (r#"nickName ne "x""#, false),
            (r#"not (nickName eq "x")"#, true),
            ("nickName eq null", true),
            ("nickName ne null", false),
            ("nickName pr", false),
            // title is "": no value for pr and null, but a string for ne.
            ("title pr", false),
            ("title eq null", true),
            (r#"title eq """#, true),
            (r#"title ne "x""#, true),
            ("userName ne null", true),
            ("userName eq null", false),
            ("userName gt null", false),
            // ne on a multi-valued attribute: some value differs.
            (r#"emails.type ne "work""#, false),
            (r#"emails.type ne "home""#, true),
        ],
    );
    check(
        &bjensen(),
        &[
            (r#"emails.type ne "work""#, true),
            (r#"not (emails.type eq "work")"#, false),
            ("groups pr", false),
            ("groups eq null", true),
            ("name pr", true),
        ],
    );
    let sparse = json!({
        "nickName": null,
        "emails": [null, {"value": null}, {}],
        "name": {"givenName": "", "middleName": null},
        "x509Certificates": [[]]
    });
    check(
        &sparse,
        &[
            ("nickName pr", false),
            ("nickName eq null", true),
            (r#"nickName ne "x""#, false),
            ("emails pr", false),
            ("emails.value pr", false),
            ("name pr", false),
            ("name.givenName pr", false),
            ("x509Certificates pr", false),
        ],
    );
}

#[test]
fn names_ignore_case_and_urns_find_extensions() {
    check(
        &bjensen(),
        &[
            (r#"USERNAME EQ "bjensen@example.com""#, true),
            (r#"Name.FamilyName Eq "jensen""#, true),
            (r#"EMAILS[TYPE EQ "WORK"]"#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "barbara""#,
                true,
            ),
            (
                r#"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName pr"#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw "tour""#,
                true,
            ),
            // The core schema may be omitted; extensions may not.
            (r#"employeeNumber eq "701984""#, false),
            (r#"manager.value pr"#, false),
            // A URN the resource does not have finds nothing.
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName pr"#,
                false,
            ),
            (r#"urn:example:other:1.0:User:userName pr"#, false),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr"#,
                false,
            ),
        ],
    );
    // Without `schemas`, core URNs still find core attributes.
    let bare = json!({"userName": "x"});
    check(
        &bare,
        &[
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
                true,
            ),
            (r#"urn:example:other:1.0:User:userName eq "x""#, false),
        ],
    );
}

#[test]
fn value_filters_select_one_element() {
    check(
        &bjensen(),
        &[
            (r#"emails[type eq "work"]"#, true),
            (r#"emails[type eq "home" and value ew "jensen.org"]"#, true),
            // Both conditions must hold for the same element…
            (
                r#"emails[type eq "home" and value co "example.com"]"#,
                false,
            ),
            // …unlike two separate comparisons.
            (
                r#"emails.type eq "home" and emails.value co "example.com""#,
                true,
            ),
            (r#"emails[primary eq true]"#, true),
            (r#"emails[not (primary pr)]"#, true),
            (r#"emails[type eq "other" or value sw "BABS"]"#, true),
            (r#"ims[type eq "xmpp"]"#, false),
            (r#"phoneNumbers[type eq "work"]"#, false),
            (r#"not (phoneNumbers[type pr])"#, true),
            // A single complex attribute is one element.
            (r#"name[givenName eq "barbara"]"#, true),
            (r#"userName[value pr]"#, false),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName sw "john"]"#,
                true,
            ),
        ],
    );
}

#[test]
fn groups_as_entra_and_okta_query_them() {
    check(
        &group(),
        &[
            (r#"displayName eq "tour guides""#, true),
            (r#"displayName eq "Tour""#, false),
            // Entra ID: "is this user a member?"
            (
                r#"id eq "abf4dd94-a4c0-4f67-89c9-76b03340cb9b" and members eq "902c246b-6245-4190-8e05-00816be7344a""#,
                true,
            ),
            (
                r#"members eq "00000000-0000-0000-0000-000000000000""#,
                false,
            ),
            (
                r#"members[value eq "2819C223-7F76-453A-919D-413861904646"]"#,
                true,
            ),
            (
                r#"members.value eq "902c246b-6245-4190-8e05-00816be7344a""#,
                true,
            ),
            (r#"members[type eq "Group"]"#, false),
            (r#"members[display co "mandy"]"#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName pr"#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:displayName pr"#,
                false,
            ),
            (r#"meta.resourceType eq "group""#, true),
        ],
    );
}

#[test]
fn case_exact_attributes_follow_the_hook() {
    // The core defaults: id and externalId are caseExact.
    check(
        &okta_user(),
        &[
            (r#"externalId eq "00ujl29u0le5T6Aj10h7""#, true),
            (r#"externalId eq "00UJL29U0LE5T6AJ10H7""#, false),
            (r#"id eq "23A35C27-23D3-4C03-B4C5-6443C09E7173""#, false),
            (r#"id eq "23a35c27-23d3-4c03-b4c5-6443c09e7173""#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:externalId sw "00UJ""#,
                false,
            ),
            (r#"userName eq "ISAAC.BROCK@EXAMPLE.COM""#, true),
        ],
    );
    let user = okta_user();
    let everything_exact = |_: &AttrPath| true;
    let nothing_exact = |_: &AttrPath| false;
    let f = |text: &str| Filter::parse(text).unwrap();
    assert!(!f(r#"userName eq "ISAAC.BROCK@EXAMPLE.COM""#).matches_with(&user, &everything_exact));
    assert!(
        f(r#"id eq "23A35C27-23D3-4C03-B4C5-6443C09E7173""#).matches_with(&user, &nothing_exact)
    );

    // Inside brackets the hook sees the full path.
    let seen = std::cell::RefCell::new(Vec::new());
    let recording = |p: &AttrPath| {
        seen.borrow_mut().push(p.to_string());
        p.sub.as_deref() == Some("value")
    };
    let filter = f(r#"emails[type eq "WORK" and value eq "ISAAC.BROCK@EXAMPLE.ORG"]"#);
    assert!(!filter.matches_with(&user, &recording));
    assert_eq!(seen.borrow().as_slice(), ["emails.type", "emails.value"]);
}

#[test]
fn matches_element_evaluates_the_bracketed_part() {
    let filter = Filter::parse(r#"type eq "work" and primary eq true"#).unwrap();
    let emails = AttrPath::new("emails");
    let cases = [
        (json!({"type": "Work", "primary": true}), true),
        (json!({"type": "work", "primary": "True"}), true),
        (json!({"type": "work"}), false),
        (json!("work"), false),
    ];
    for (element, expected) in cases {
        assert_eq!(
            filter.matches_element(&emails, &element, &CoreCaseExact),
            expected,
            "{element}"
        );
    }
}

#[test]
fn odd_resources_never_match_and_never_panic() {
    let resources = [
        json!(null),
        json!("userName"),
        json!([{"userName": "x"}]),
        json!({"userName": {"userName": "x"}}),
        json!({"userName": [[["x"]]]}),
        json!({"schemas": "not a list", "userName": "x"}),
        json!({"userName": "X", "username": "x"}),
    ];
    let filter = Filter::parse(r#"userName eq "x""#).unwrap();
    let results: Vec<bool> = resources.iter().map(|r| filter.matches(r)).collect();
    // The last has an exact-case key `userName` = "X": case-insensitive eq.
    assert_eq!(results, [false, false, false, false, false, true, true]);
}
