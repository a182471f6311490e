//! A list or search over one resource type or several (`POST /.search` at
//! the root, RFC 7644 §3.4.3): each type's query, the one-name lookup a
//! provider makes before every create, and the ListResponse over whatever
//! matched.

use super::error::ScimError;
use super::filter::{CompValue, CompareOp, Filter};
use super::list::{ListQuery, filter_matches, list_response, page, parse_list_query};
use super::project::project;
use super::schema::ResourceKind;
use serde_json::Value;

/// Each of `kinds` with its parsed query. A filter that doesn't apply to a
/// type (it names an attribute the type lacks) leaves that type out rather
/// than failing the search; the search fails, with the first type's error,
/// only when no type takes the query.
pub fn parse_search(
    kinds: &[ResourceKind],
    pairs: &[(String, String)],
    max_count: usize,
) -> Result<Vec<(ResourceKind, ListQuery)>, ScimError> {
    let mut first_error = None;
    let mut queries = Vec::new();
    for &kind in kinds {
        match parse_list_query(kind, pairs, max_count) {
            Ok(query) => queries.push((kind, query)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if queries.is_empty() {
        return Err(first_error.unwrap_or_else(|| ScimError::internal("no resource type")));
    }
    Ok(queries)
}

/// The name a filter asks for when it is exactly `userName eq "…"` (or a
/// group's `displayName eq "…"`): the lookup providers make before every
/// create, which the server can answer with one indexed read instead of a
/// scan. The filter still has to be applied to what that read finds.
pub fn unique_name(kind: ResourceKind, filter: &Filter) -> Option<&str> {
    let Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompValue::Str(name),
    } = filter
    else {
        return None;
    };
    let key = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    (path.is_core() && path.sub.is_none() && path.name.eq_ignore_ascii_case(key))
        .then_some(name.as_str())
}

/// Whether `full` (a full representation of a `kind`) is one `query` asks
/// for.
pub fn wanted(kind: ResourceKind, query: &ListQuery, full: &Value) -> bool {
    query
        .filter
        .as_ref()
        .is_none_or(|f| filter_matches(kind, f, full))
}

/// The ListResponse over `matches` (full representations, in order): the
/// page the queries ask for (paging doesn't depend on the type, so the
/// first query's applies), each resource cut to its own type's
/// `attributes` and `excludedAttributes`.
pub fn search_response(
    queries: &[(ResourceKind, ListQuery)],
    matches: Vec<(ResourceKind, Value)>,
) -> Value {
    let (start_index, count) = queries
        .first()
        .map_or((1, 0), |(_, q)| (q.start_index, q.count));
    let total = matches.len();
    let resources = page(matches, start_index, count)
        .into_iter()
        .map(
            |(kind, full)| match queries.iter().find(|(k, _)| *k == kind) {
                Some((_, q)) => project(kind, &full, &q.attributes, &q.excluded),
                None => full,
            },
        )
        .collect();
    list_response(total, start_index, resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_search_leaves_out_the_types_its_filter_does_not_fit() {
        let both = [ResourceKind::User, ResourceKind::Group];
        let user_only =
            parse_search(&both, &pairs(&[("filter", "userName eq \"a\"")]), 50).unwrap();
        assert_eq!(user_only.len(), 1);
        assert_eq!(user_only[0].0, ResourceKind::User);
        let unfiltered = parse_search(&both, &pairs(&[("count", "5")]), 50).unwrap();
        assert_eq!(unfiltered.len(), 2);
        assert_eq!(unfiltered[1].1.count, 5);
        let err = parse_search(
            &both,
            &pairs(&[("filter", "nickName eq \"x\" and members pr")]),
            50,
        )
        .unwrap_err();
        assert_eq!((err.status, err.scim_type), (400, Some("invalidFilter")));
        let err = parse_search(&both, &pairs(&[("count", "many")]), 50).unwrap_err();
        assert_eq!((err.status, err.scim_type), (400, Some("invalidValue")));
    }

    #[test]
    fn only_an_exact_unique_name_filter_is_a_lookup() {
        let name = |kind, text: &str| {
            let filter = Filter::parse(text).unwrap();
            unique_name(kind, &filter).map(str::to_owned)
        };
        assert_eq!(
            name(ResourceKind::User, "USERNAME eq \"Bjensen\""),
            Some("Bjensen".to_owned())
        );
        assert_eq!(
            name(
                ResourceKind::User,
                "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"b\""
            ),
            Some("b".to_owned())
        );
        assert_eq!(
            name(ResourceKind::Group, "displayName eq \"Ops\""),
            Some("Ops".to_owned())
        );
        assert_eq!(name(ResourceKind::Group, "userName eq \"b\""), None);
        assert_eq!(name(ResourceKind::User, "userName co \"b\""), None);
        assert_eq!(
            name(ResourceKind::User, "userName eq \"b\" and active eq true"),
            None
        );
        assert_eq!(name(ResourceKind::User, "name.givenName eq \"b\""), None);
    }

    #[test]
    fn a_search_response_pages_then_projects_each_type_its_own_way() {
        let queries = parse_search(
            &[ResourceKind::User, ResourceKind::Group],
            &pairs(&[
                ("startIndex", "2"),
                ("count", "2"),
                ("attributes", "displayName"),
            ]),
            50,
        )
        .unwrap();
        let user = |id: &str| json!({"id": id, "userName": id, "displayName": id.to_uppercase()});
        let matches = vec![
            (ResourceKind::User, user("a")),
            (ResourceKind::User, user("b")),
            (
                ResourceKind::Group,
                json!({"id": "g", "displayName": "G", "members": []}),
            ),
            (ResourceKind::User, user("c")),
        ];
        let response = search_response(&queries, matches);
        assert_eq!(response["totalResults"], 4);
        assert_eq!(response["startIndex"], 2);
        assert_eq!(response["itemsPerPage"], 2);
        assert_eq!(
            response["Resources"],
            json!([{"id": "b", "displayName": "B"}, {"id": "g", "displayName": "G"}])
        );
        let query = &queries[0].1;
        assert!(wanted(ResourceKind::User, query, &user("a")));
        let filtered = parse_search(
            &[ResourceKind::User],
            &pairs(&[("filter", "userName eq \"b\"")]),
            50,
        )
        .unwrap();
        assert!(!wanted(ResourceKind::User, &filtered[0].1, &user("a")));
        assert!(wanted(ResourceKind::User, &filtered[0].1, &user("b")));
    }
}
