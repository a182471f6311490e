//! A list or search over one resource type or several (`POST /.search` at
//! the root, RFC 7644 §3.4.3): each type's query, the one-name lookup a
//! provider makes before every create, and the ListResponse over whatever
//! matched.

use super::error::ScimError;
use super::filter::{AttrPath, CompValue, CompareOp, Filter};
use super::list::{ListQuery, filter_matches, list_response, parse_list_query};
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

/// An indexed read a filter can be narrowed to: the few resources it can
/// match are among those this key finds, so the server reads those instead
/// of scanning every resource. The filter is still applied to what the
/// read finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Narrowing<'a> {
    /// `id eq "…"` (case-exact).
    Id(&'a str),
    /// `userName eq "…"`, or a group's `displayName eq "…"`: unique, case
    /// aside. The lookup providers make before every create.
    Name(&'a str),
    /// `externalId eq "…"` (case-exact; Entra ID matches on it).
    ExternalId(&'a str),
}

/// The narrowing `filter` allows: an `eq` on `id`, the unique name or
/// `externalId`, alone or as one term of an `and` (Entra ID's membership
/// check is `id eq "…" and members[value eq "…"]`). Anything else (`or`,
/// `not`, other attributes or operators) needs every resource read.
pub fn narrowing(kind: ResourceKind, filter: &Filter) -> Option<Narrowing<'_>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(value),
        } if path.is_core() && path.sub.is_none() => {
            let name = path.name.as_str();
            let unique = match kind {
                ResourceKind::User => "userName",
                ResourceKind::Group => "displayName",
            };
            if name.eq_ignore_ascii_case("id") {
                Some(Narrowing::Id(value))
            } else if name.eq_ignore_ascii_case(unique) {
                Some(Narrowing::Name(value))
            } else if name.eq_ignore_ascii_case("externalId") {
                Some(Narrowing::ExternalId(value))
            } else {
                None
            }
        }
        Filter::And(items) => items.iter().find_map(|item| narrowing(kind, item)),
        _ => None,
    }
}

/// Which of a resource's related references (a person's groups, a
/// group's members) answering a query needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Related<'a> {
    /// None: the response leaves them out and the filter doesn't read them.
    Skip,
    /// All of them: the response shows them, or the filter reads them in a
    /// way only the whole list answers.
    All,
    /// Only those whose `value` (the id they point at) is one of these:
    /// the filter reads them only as `members[value eq "…"]`,
    /// `members.value eq "…"` or `members eq "…"` and the response leaves
    /// them out. Entra ID's membership test (`id eq "g" and members[value
    /// eq "u"]`, `excludedAttributes=members`) needs one row, not every
    /// member of a group of a hundred thousand.
    Only(Vec<&'a str>),
}

/// What answering `query` needs of each resource's related references.
///
/// Restricting them to `Only` those values changes no filter's outcome:
/// each allowed term asks whether a reference with one given value exists,
/// and every reference with that value is read.
pub fn related_needed<'a>(kind: ResourceKind, query: &'a ListQuery) -> Related<'a> {
    let key = related_key(kind);
    // What the projection keeps of a resource that has them.
    let probe = serde_json::json!({ "id": "probe", key: [{ "value": "probe" }] });
    if project(kind, &probe, &query.attributes, &query.excluded)
        .get(key)
        .is_some()
    {
        return Related::All;
    }
    let Some(filter) = &query.filter else {
        return Related::Skip;
    };
    let mut values = Vec::new();
    match values_read(filter, key, &mut values) {
        false => Related::All,
        true if values.is_empty() => Related::Skip,
        true => Related::Only(values),
    }
}

/// Collects the values `filter` tests `key` for; false when it reads `key`
/// any other way.
fn values_read<'a>(filter: &'a Filter, key: &str, values: &mut Vec<&'a str>) -> bool {
    let is_key = |path: &AttrPath| path.is_core() && path.name.eq_ignore_ascii_case(key);
    let is_value = |sub: Option<&String>| sub.is_some_and(|s| s.eq_ignore_ascii_case("value"));
    match filter {
        Filter::And(items) | Filter::Or(items) => {
            items.iter().all(|item| values_read(item, key, values))
        }
        Filter::Not(inner) => values_read(inner, key, values),
        Filter::Present { path } => !is_key(path),
        Filter::Compare { path, op, value } if is_key(path) => {
            match (op, value, path.sub.as_ref()) {
                (CompareOp::Eq, CompValue::Str(v), None) => {
                    values.push(v);
                    true
                }
                (CompareOp::Eq, CompValue::Str(v), sub) if is_value(sub) => {
                    values.push(v);
                    true
                }
                _ => false,
            }
        }
        Filter::Compare { .. } => true,
        Filter::ValuePath { path, filter } if is_key(path) => match filter.as_ref() {
            Filter::Compare {
                path: inner,
                op: CompareOp::Eq,
                value: CompValue::Str(v),
            } if inner.urn.is_none()
                && inner.sub.is_none()
                && inner.name.eq_ignore_ascii_case("value") =>
            {
                values.push(v);
                true
            }
            _ => false,
        },
        Filter::ValuePath { .. } => true,
    }
}

fn related_key(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

/// Whether `full` (a full representation of a `kind`) is one `query` asks
/// for.
pub fn wanted(kind: ResourceKind, query: &ListQuery, full: &Value) -> bool {
    query
        .filter
        .as_ref()
        .is_none_or(|f| filter_matches(kind, f, full))
}

/// One page over the matches of several queries in turn (a search over
/// users and groups pages through the users first): each query's matches
/// are counted, and the page takes its window of them, so a query whose
/// matches are counted in the database reads only the rows on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    /// Matches still to pass over before the page starts.
    skip: usize,
    /// Room left on the page.
    room: usize,
    total: usize,
    start_index: usize,
}

impl Pager {
    /// The page `queries` ask for (paging doesn't depend on the type, so
    /// the first query's applies).
    pub fn new(queries: &[(ResourceKind, ListQuery)]) -> Self {
        let (start_index, count) = queries
            .first()
            .map_or((1, 0), |(_, q)| (q.start_index, q.count));
        Pager {
            skip: start_index.saturating_sub(1),
            room: count,
            total: 0,
            start_index,
        }
    }

    /// Counts `n` more matches; the `(offset, limit)` window of them that
    /// falls on the page, if any.
    pub fn take(&mut self, n: usize) -> Option<(usize, usize)> {
        self.total += n;
        let window = (self.room > 0 && self.skip < n).then(|| {
            let limit = self.room.min(n - self.skip);
            (self.skip, limit)
        });
        if let Some((_, limit)) = window {
            self.room -= limit;
        }
        self.skip = self.skip.saturating_sub(n);
        window
    }

    /// Takes the page's share of `matches`, all of them counted.
    pub fn take_from<T>(&mut self, matches: Vec<T>) -> Vec<T> {
        match self.take(matches.len()) {
            Some((offset, limit)) => matches.into_iter().skip(offset).take(limit).collect(),
            None => Vec::new(),
        }
    }

    /// The ListResponse: `page` (full representations, in order), each cut
    /// to its own type's `attributes` and `excludedAttributes`.
    pub fn response(
        &self,
        queries: &[(ResourceKind, ListQuery)],
        page: Vec<(ResourceKind, Value)>,
    ) -> Value {
        let resources = page
            .into_iter()
            .map(
                |(kind, full)| match queries.iter().find(|(k, _)| *k == kind) {
                    Some((_, q)) => project(kind, &full, &q.attributes, &q.excluded),
                    None => full,
                },
            )
            .collect();
        list_response(self.total, self.start_index, resources)
    }
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
    fn only_an_eq_on_an_indexed_attribute_narrows_a_filter() {
        let narrowed = |kind, text: &str| {
            let filter = Filter::parse(text).unwrap();
            narrowing(kind, &filter).map(|n| format!("{n:?}"))
        };
        let user = ResourceKind::User;
        let group = ResourceKind::Group;
        assert_eq!(
            narrowed(user, "USERNAME eq \"Bjensen\"").as_deref(),
            Some("Name(\"Bjensen\")")
        );
        assert_eq!(
            narrowed(
                user,
                "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"b\""
            )
            .as_deref(),
            Some("Name(\"b\")")
        );
        assert_eq!(
            narrowed(group, "displayName eq \"Ops\"").as_deref(),
            Some("Name(\"Ops\")")
        );
        assert_eq!(
            narrowed(user, "externalId eq \"00u1\"").as_deref(),
            Some("ExternalId(\"00u1\")")
        );
        assert_eq!(
            narrowed(group, "id eq \"g1\" and members[value eq \"u1\"]").as_deref(),
            Some("Id(\"g1\")")
        );
        assert_eq!(
            narrowed(user, "active eq true and userName eq \"b\"").as_deref(),
            Some("Name(\"b\")")
        );
        // A user's displayName is not unique; a group has no userName.
        assert_eq!(narrowed(user, "displayName eq \"B\""), None);
        assert_eq!(narrowed(group, "userName eq \"b\""), None);
        assert_eq!(narrowed(user, "userName co \"b\""), None);
        assert_eq!(
            narrowed(user, "userName eq \"a\" or userName eq \"b\""),
            None
        );
        assert_eq!(narrowed(user, "not (userName eq \"b\")"), None);
        assert_eq!(narrowed(user, "name.givenName eq \"b\""), None);
        assert_eq!(narrowed(user, "emails[value eq \"b@x\"]"), None);
    }

    #[test]
    fn related_references_are_read_only_as_far_as_shown_or_filtered_on() {
        let needed = |kind, list: &[(&str, &str)]| {
            let query = parse_search(&[kind], &pairs(list), 50).unwrap().remove(0).1;
            format!("{:?}", related_needed(kind, &query))
        };
        let group = ResourceKind::Group;
        let bare = ("excludedAttributes", "members");
        assert_eq!(needed(group, &[]), "All");
        assert_eq!(needed(group, &[bare]), "Skip");
        assert_eq!(
            needed(
                group,
                &[(
                    "excludedAttributes",
                    "urn:ietf:params:scim:schemas:core:2.0:Group:members"
                )]
            ),
            "Skip"
        );
        assert_eq!(needed(group, &[("attributes", "displayName")]), "Skip");
        assert_eq!(
            needed(group, &[("attributes", "displayName,members.value")]),
            "All"
        );
        // Entra ID's membership test reads one member.
        assert_eq!(
            needed(
                group,
                &[("filter", "id eq \"g\" and members[value eq \"u\"]"), bare]
            ),
            "Only([\"u\"])"
        );
        assert_eq!(
            needed(
                group,
                &[
                    ("filter", "members.value eq \"u\" or members eq \"v\""),
                    bare
                ]
            ),
            "Only([\"u\", \"v\"])"
        );
        assert_eq!(
            needed(group, &[("filter", "displayName eq \"Ops\""), bare]),
            "Skip"
        );
        // Other reads of the members need them all.
        for filter in [
            "members pr",
            "members[display eq \"Kim\"]",
            "members[value eq \"u\" and display eq \"Kim\"]",
            "members.value sw \"u\"",
            "not (members ne \"u\")",
        ] {
            assert_eq!(
                needed(group, &[("filter", filter), bare]),
                "All",
                "{filter}"
            );
        }
        // Shown, they are read whatever the filter.
        assert_eq!(
            needed(group, &[("filter", "members[value eq \"u\"]")]),
            "All"
        );
        let user = ResourceKind::User;
        assert_eq!(needed(user, &[]), "All");
        assert_eq!(needed(user, &[("excludedAttributes", "groups")]), "Skip");
        assert_eq!(
            needed(
                user,
                &[
                    ("filter", "groups[value eq \"g\"]"),
                    ("excludedAttributes", "groups")
                ]
            ),
            "Only([\"g\"])"
        );
    }

    #[test]
    fn a_pager_takes_each_querys_share_of_one_page() {
        let queries = parse_search(
            &[ResourceKind::User, ResourceKind::Group],
            &pairs(&[("startIndex", "4"), ("count", "3")]),
            50,
        )
        .unwrap();
        let mut pager = Pager::new(&queries);
        // Five users: the page starts at the fourth and takes two.
        assert_eq!(pager.take(5), Some((3, 2)));
        // Then one of four groups, from the first.
        assert_eq!(pager.take(4), Some((0, 1)));
        assert_eq!(pager.take(7), None);
        let response = pager.response(&queries, Vec::new());
        assert_eq!(response["totalResults"], 16);
        assert_eq!(response["startIndex"], 4);

        // Past the first query's matches: all counted, none taken.
        let mut pager = Pager::new(
            &parse_search(&[ResourceKind::User], &pairs(&[("startIndex", "11")]), 50).unwrap(),
        );
        assert_eq!(pager.take(9), None);
        assert_eq!(pager.take_from(vec![1, 2]), vec![2]);
        let mut pager = Pager::new(
            &parse_search(
                &[ResourceKind::User],
                &pairs(&[("startIndex", &u64::MAX.to_string())]),
                50,
            )
            .unwrap(),
        );
        assert_eq!(pager.take_from(vec![1, 2]), Vec::<i32>::new());
        // count=0 asks for the total only.
        let mut pager = Pager::new(
            &parse_search(&[ResourceKind::User], &pairs(&[("count", "0")]), 50).unwrap(),
        );
        assert_eq!(pager.take(9), None);
        assert_eq!(pager.response(&[], Vec::new())["totalResults"], 9);
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
        let mut pager = Pager::new(&queries);
        let page = pager.take_from(matches);
        let response = pager.response(&queries, page);
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
