//! SCIM lists as an import and Entra ID's checks read them (issue 20): an
//! unfiltered list counted and paged in the database, the `eq` filters on
//! indexed attributes (`externalId`, `id` with a membership test), and
//! groups listed without their members when the client leaves them out.

use crate::helpers::Backend;
use crate::on_both_backends;
use crate::scim::{okta_user, scim, scim_app};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(lists_page_in_the_database_and_indexed_filters_find_their_resources);

fn user_names(list: &Value) -> Vec<&str> {
    list["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no Resources in {list}"))
        .iter()
        .map(|r| r["userName"].as_str().unwrap_or("(a group)"))
        .collect()
}

async fn lists_page_in_the_database_and_indexed_filters_find_their_resources(backend: Backend) {
    let (app, token) = scim_app(backend, &[]).await;
    let get = |path: String| {
        let (app, token) = (&app, &token);
        async move {
            let resp = scim(app, Method::GET, &path, token, None).await;
            assert_eq!(resp.status, 200, "{path}: {}", resp.body);
            resp.body
        }
    };
    // Created out of order: the list is by userName all the same.
    let mut ids = std::collections::HashMap::new();
    for i in [3, 0, 6, 1, 5, 2, 4] {
        let name = format!("p{i}@example.com");
        let resp = scim(
            &app,
            Method::POST,
            "/Users",
            &token,
            Some(okta_user(&name, &format!("P{i}"), "Lee")),
        )
        .await;
        assert_eq!(resp.status, 201, "{}", resp.body);
        ids.insert(i, resp.body["id"].as_str().unwrap().to_owned());
    }

    let first = get("/Users?startIndex=1&count=3".into()).await;
    assert_eq!(first["totalResults"], 7);
    assert_eq!(first["itemsPerPage"], 3);
    assert_eq!(
        user_names(&first),
        ["p0@example.com", "p1@example.com", "p2@example.com"]
    );
    let second = get("/Users?startIndex=4&count=3".into()).await;
    assert_eq!(
        user_names(&second),
        ["p3@example.com", "p4@example.com", "p5@example.com"]
    );
    assert_eq!(second["startIndex"], 4);
    let last = get("/Users?startIndex=7&count=3".into()).await;
    assert_eq!(user_names(&last), ["p6@example.com"]);
    assert_eq!(last["totalResults"], 7);
    let past = get("/Users?startIndex=9".into()).await;
    assert_eq!(
        (past["totalResults"].clone(), past["itemsPerPage"].clone()),
        (json!(7), json!(0))
    );
    let counted = get("/Users?count=0".into()).await;
    assert_eq!(counted["totalResults"], 7);
    assert_eq!(counted["Resources"], json!([]));

    // externalId is case-exact (RFC 7643 §3.1).
    let by_external = get("/Users?filter=externalId%20eq%20%2200up3%22".into()).await;
    assert_eq!(user_names(&by_external), ["p3@example.com"]);
    assert_eq!(by_external["Resources"][0]["id"], ids[&3].as_str());
    let wrong_case = get("/Users?filter=externalId%20eq%20%2200UP3%22".into()).await;
    assert_eq!(wrong_case["totalResults"], 0);
    // An `and` narrowed by its externalId term still applies the rest.
    let inactive =
        get("/Users?filter=externalId%20eq%20%2200up3%22%20and%20active%20eq%20false".into()).await;
    assert_eq!(inactive["totalResults"], 0);
    // A filter that narrows nothing reads everyone and still pages.
    let scanned = get("/Users?filter=name.familyName%20eq%20%22Lee%22&startIndex=6".into()).await;
    assert_eq!(scanned["totalResults"], 7);
    assert_eq!(user_names(&scanned), ["p5@example.com", "p6@example.com"]);

    let group = |name: &str, external: &str, members: &[usize]| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "externalId": external,
            "members": members.iter().map(|i| json!({"value": ids[i]})).collect::<Vec<_>>(),
        })
    };
    let ops = scim(
        &app,
        Method::POST,
        "/Groups",
        &token,
        Some(group("Ops", "g-ops", &[1, 2])),
    )
    .await;
    assert_eq!(ops.status, 201, "{}", ops.body);
    let ops_id = ops.body["id"].as_str().unwrap().to_owned();
    let dev = scim(
        &app,
        Method::POST,
        "/Groups",
        &token,
        Some(group("Dev", "g-dev", &[3])),
    )
    .await;
    assert_eq!(dev.status, 201, "{}", dev.body);

    let groups = get("/Groups".into()).await;
    assert_eq!(groups["totalResults"], 2);
    assert_eq!(groups["Resources"][0]["displayName"], "Dev");
    assert_eq!(
        groups["Resources"][1]["members"].as_array().unwrap().len(),
        2
    );
    let bare = get("/Groups?excludedAttributes=members".into()).await;
    assert_eq!(bare["totalResults"], 2);
    for g in bare["Resources"].as_array().unwrap() {
        assert!(g.get("members").is_none(), "{g}");
        assert!(g.get("displayName").is_some(), "{g}");
    }
    let one = get(format!("/Groups/{ops_id}?excludedAttributes=members")).await;
    assert!(one.get("members").is_none(), "{one}");
    assert_eq!(one["displayName"], "Ops");
    let whole = get(format!("/Groups/{ops_id}")).await;
    assert_eq!(whole["members"].as_array().unwrap().len(), 2, "{whole}");
    assert_eq!(one["meta"]["version"], whole["meta"]["version"]);
    let by_external = get("/Groups?filter=externalId%20eq%20%22g-ops%22".into()).await;
    assert_eq!(by_external["totalResults"], 1);
    assert_eq!(by_external["Resources"][0]["id"], ops_id.as_str());

    // Entra ID's membership test: the group when the person is in it,
    // nothing when not, and no member list either way.
    let member_test = |person: &str| {
        format!(
            "/Groups?filter=id%20eq%20%22{ops_id}%22%20and%20members%5Bvalue%20eq%20%22{person}%22%5D&excludedAttributes=members"
        )
    };
    let member = get(member_test(&ids[&1])).await;
    assert_eq!(member["totalResults"], 1, "{member}");
    assert!(member["Resources"][0].get("members").is_none(), "{member}");
    let stranger = get(member_test(&ids[&3])).await;
    assert_eq!(stranger["totalResults"], 0, "{stranger}");
    // The groups someone is in, without and with their member lists: a
    // group shown with its members shows all of them, not just the one
    // the filter asked about.
    let of_p3 = format!("/Groups?filter=members%5Bvalue%20eq%20%22{}%22%5D", ids[&3]);
    let bare_of_p3 = get(format!("{of_p3}&excludedAttributes=members")).await;
    assert_eq!(bare_of_p3["totalResults"], 1, "{bare_of_p3}");
    assert_eq!(bare_of_p3["Resources"][0]["displayName"], "Dev");
    let of_p1 = get(format!(
        "/Groups?filter=members.value%20eq%20%22{}%22",
        ids[&1]
    ))
    .await;
    assert_eq!(of_p1["totalResults"], 1, "{of_p1}");
    assert_eq!(
        of_p1["Resources"][0]["members"].as_array().unwrap().len(),
        2
    );

    // A root search pages through the people, then the groups.
    let search = scim(
        &app,
        Method::POST,
        "/.search",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "startIndex": 6,
            "count": 3,
            "excludedAttributes": ["members"],
        })),
    )
    .await;
    assert_eq!(search.status, 200, "{}", search.body);
    assert_eq!(search.body["totalResults"], 9);
    assert_eq!(
        user_names(&search.body),
        ["p5@example.com", "p6@example.com", "(a group)"]
    );
    assert_eq!(search.body["Resources"][2]["displayName"], "Dev");
}
