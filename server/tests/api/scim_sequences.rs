//! Provisioning as Okta and Microsoft Entra ID do it, request by request,
//! against Gantry with single sign-on to a real OpenID provider: people are
//! provisioned before they first sign in, sign-in links them, their roles
//! follow provisioned groups (not their ID token's), and deprovisioning a
//! signed-in person makes their very next request fail.

use crate::helpers::{Backend, TestApp, location, new_client};
use crate::oidc::{CLIENT_SECRET, Claims, Provider, me, sign_in, sign_in_error};
use crate::on_both_backends;
use crate::scim::{roles_of, scim};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(okta_provisions_then_deactivates_a_signed_in_person);
on_both_backends!(entra_provisions_by_group_object_id_then_deprovisions);

/// Entra ID's object id of the "Tour Guides" group (its ID tokens carry it).
const TOUR_GUIDES: &str = "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159";

async fn gantry(backend: Backend, provider: &Provider) -> (TestApp, String) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--oidc-issuer",
            &provider.url,
            "--oidc-client-id",
            "gantry",
            "--oidc-client-secret",
            CLIENT_SECRET,
            "--oidc-scopes",
            "openid,profile,email,groups",
            "--role-mapping",
            "sre=operator@dev,viewer@prod",
            "--role-mapping",
            &format!("{TOUR_GUIDES}=approver@prod"),
        ],
    )
    .await;
    let (status, created) = app
        .api_post("/tokens", json!({"name": "idp", "scim": true}))
        .await;
    assert_eq!(status, 201, "{created}");
    (app, created["secret"].as_str().unwrap().to_owned())
}

fn ok(resp: &crate::scim::ScimResponse, status: u16, what: &str) {
    assert_eq!(resp.status, status, "{what}: {}", resp.body);
}

fn patch(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

async fn okta_provisions_then_deactivates_a_signed_in_person(backend: Backend) {
    let provider = Provider::start(Claims::InIdToken).await;
    let (app, token) = gantry(backend, &provider).await;

    // Okta looks the person up first, then creates them.
    let lookup = scim(
        &app,
        Method::GET,
        "/Users?filter=userName%20eq%20%22dave%22&startIndex=1&count=100",
        &token,
        None,
    )
    .await;
    ok(&lookup, 200, "lookup");
    assert_eq!(lookup.body["totalResults"], 0);
    let created = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "dave",
            "name": {"givenName": "Dave", "familyName": "Dietz"},
            "emails": [{"primary": true, "value": "dave@example.test", "type": "work"}],
            "displayName": "Dave Dietz",
            "locale": "en-US",
            "externalId": "00u1dave",
            "groups": [],
            "password": {"value": "Okta-sends-one-1"},
            "active": true
        })),
    )
    .await;
    ok(&created, 201, "create");
    let id = created.body["id"].as_str().unwrap().to_owned();
    ok(
        &scim(&app, Method::GET, &format!("/Users/{id}"), &token, None).await,
        200,
        "read back",
    );

    // Push Groups: the group with dave in it.
    let group = scim(
        &app,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "sre",
            "members": [{"value": id, "display": "dave"}]
        })),
    )
    .await;
    ok(&group, 201, "push group");

    // Profile update: Okta replaces the whole person.
    let mut profile = created.body.clone();
    profile["title"] = json!("On-call lead");
    let replaced = scim(
        &app,
        Method::PUT,
        &format!("/Users/{id}"),
        &token,
        Some(profile),
    )
    .await;
    ok(&replaced, 200, "PUT");
    assert_eq!(replaced.body["title"], "On-call lead");

    // Dave signs in: linked by username, his roles from the pushed group.
    // His ID token also says `security`, which maps to nothing here, and
    // `sre`; neither counts now that Okta provisions him.
    let dave = new_client();
    let resp = sign_in(&app, &dave, "dave").await;
    assert_eq!(location(&resp), "/runs", "signed in");
    let (status, me_now) = me(&app, &dave).await;
    assert_eq!(status, 200);
    assert_eq!(me_now["id"], id.as_str(), "the provisioned account");
    assert_eq!(
        roles_of(&app, "dave").await,
        ["operator@dev from group:sre", "viewer@prod from group:sre"]
    );

    // Deactivation: his very next request fails, and he can't sign in.
    let deactivated = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(patch(
            json!([{"op": "replace", "value": {"active": false}}]),
        )),
    )
    .await;
    ok(&deactivated, 200, "deactivate");
    assert_eq!(me(&app, &dave).await.0, 401, "the open session is over");
    let again = new_client();
    let resp = sign_in(&app, &again, "dave").await;
    assert!(
        sign_in_error(&resp).contains("disabled"),
        "{}",
        location(&resp)
    );

    // Reactivation: back at his next sign-in, the old session stays over.
    let reactivated = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(patch(json!([{"op": "replace", "value": {"active": true}}]))),
    )
    .await;
    ok(&reactivated, 200, "reactivate");
    assert_eq!(me(&app, &dave).await.0, 401);
    let back = new_client();
    assert_eq!(location(&sign_in(&app, &back, "dave").await), "/runs");
    assert_eq!(me(&app, &back).await.0, 200);
}

async fn entra_provisions_by_group_object_id_then_deprovisions(backend: Backend) {
    let provider = Provider::start(Claims::InIdToken).await;
    let (app, token) = gantry(backend, &provider).await;

    // Entra's create, with the enterprise extension.
    let created = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "externalId": "alice",
            "userName": "alice",
            "active": true,
            "displayName": "Alice Anders",
            "emails": [{"primary": true, "type": "work", "value": "alice@example.test"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Alice Anders", "familyName": "Anders", "givenName": "Alice"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "SRE"}
        })),
    )
    .await;
    ok(&created, 201, "create");
    let id = created.body["id"].as_str().unwrap().to_owned();

    // Entra's updates: capitalized ops, a filtered path, no path at all.
    let updated = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(patch(json!([
            {"op": "Replace", "path": "displayName", "value": "Alice A. Anders"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "alice.anders@example.test"},
            {"op": "Replace", "value": {"title": "SRE", "active": "True"}}
        ]))),
    )
    .await;
    ok(&updated, 200, "patch");
    assert_eq!(updated.body["displayName"], "Alice A. Anders");
    assert_eq!(
        updated.body["emails"][0]["value"],
        "alice.anders@example.test"
    );
    assert_eq!(updated.body["active"], true);

    // The group arrives empty, keyed by its object id; members follow.
    let group = scim(
        &app,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": TOUR_GUIDES,
            "displayName": "Tour Guides",
            "members": []
        })),
    )
    .await;
    ok(&group, 201, "group");
    let group_id = group.body["id"].as_str().unwrap().to_owned();
    let added = scim(
        &app,
        Method::PATCH,
        &format!("/Groups/{group_id}"),
        &token,
        Some(patch(
            json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]),
        )),
    )
    .await;
    ok(&added, 200, "add member");
    // Entra repeats itself; removing someone absent changes nothing.
    let absent = scim(
        &app,
        Method::PATCH,
        &format!("/Groups/{group_id}"),
        &token,
        Some(patch(json!([{"op": "Remove", "path": "members",
                            "value": [{"value": "00000000-0000-0000-0000-000000000000"}]}]))),
    )
    .await;
    ok(&absent, 200, "remove an absent member");
    assert_eq!(
        roles_of(&app, "alice").await,
        [format!("approver@prod from group:{TOUR_GUIDES}")]
    );

    // Alice signs in: linked by username; her token's `sre` group is not
    // what counts, her provisioned group is.
    let alice = new_client();
    assert_eq!(location(&sign_in(&app, &alice, "alice").await), "/runs");
    let (_, me_now) = me(&app, &alice).await;
    assert_eq!(me_now["id"], id.as_str());
    let roles: Vec<String> = me_now["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["role"].as_str().unwrap(),
                r["environment"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(roles, ["approver@prod"]);

    // Soft delete (string boolean), then hard delete.
    let off = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(patch(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )),
    )
    .await;
    ok(&off, 200, "soft delete");
    assert_eq!(me(&app, &alice).await.0, 401, "her next request fails");
    let gone = scim(&app, Method::DELETE, &format!("/Users/{id}"), &token, None).await;
    ok(&gone, 204, "hard delete");
    assert!(
        roles_of(&app, "alice").await.is_empty(),
        "memberships dropped"
    );
    let members = scim(
        &app,
        Method::GET,
        &format!("/Groups/{group_id}"),
        &token,
        None,
    )
    .await;
    assert!(members.body.get("members").is_none(), "{}", members.body);
}
