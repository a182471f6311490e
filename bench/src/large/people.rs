//! SCIM with many people: the lists and lookups Okta and Entra ID make,
//! first with 1,000 people and then with `--scim-people` (100,000) in the
//! same database, in 100 groups (each person in one to three of them, so a
//! group grows from a few dozen members to a few thousand). People, groups
//! and memberships are bulk-inserted beside the store as the SCIM write
//! path leaves them (documents normalized by `gantry_core::scim`); how
//! they got there is not what is measured. Read with a SCIM token. The
//! goal: every p99 under 50 ms.

use super::{Auth, Client, Goal, LargeFigures, Request, Row};
use crate::alerts::sql::{RawPool, with_pool};
use crate::database::Database;
use crate::served::Served;
use crate::{Args, ENVIRONMENT};
use anyhow::{Result, ensure};
use chrono::{DateTime, Utc};
use gantry_core::scim::{self, ResourceKind};
use gantry_core::token::NewToken;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use std::path::Path;
use std::time::Instant;

/// The small size.
const SMALL: usize = 1_000;
const GROUPS: usize = 100;
/// People inserted per transaction.
const BATCH: usize = 20_000;
/// Rows per INSERT statement (12 binds each: under SQLite's 32,766).
const CHUNK: usize = 1_000;

/// Label and path of each request; `{name}`, `{user}`, `{external}`,
/// `{group}`, `{group_name}` and `{middle}` are filled in per size.
const KINDS: [(&str, &str); 9] = [
    (
        "userName eq (the lookup before every create)",
        "/scim/v2/Users?filter=userName eq \"{name}\"",
    ),
    (
        "externalId eq (Entra ID's matching)",
        "/scim/v2/Users?filter=externalId eq \"{external}\"",
    ),
    ("a person by id", "/scim/v2/Users/{user}"),
    (
        "people, first page of 100 (an import)",
        "/scim/v2/Users?startIndex=1&count=100",
    ),
    (
        "people, a page of 100 from the middle",
        "/scim/v2/Users?startIndex={middle}&count=100",
    ),
    (
        "group displayName eq, members left out (Entra ID)",
        "/scim/v2/Groups?filter=displayName eq \"{group_name}\"&excludedAttributes=members",
    ),
    (
        "a group by id, members left out (Entra ID)",
        "/scim/v2/Groups/{group}?excludedAttributes=members",
    ),
    (
        "membership test: id eq and members[value eq] (Entra ID)",
        "/scim/v2/Groups?filter=id eq \"{group}\" and members[value eq \"{user}\"]&excludedAttributes=members",
    ),
    (
        "groups, first page of 100, members left out",
        "/scim/v2/Groups?startIndex=1&count=100&excludedAttributes=members",
    ),
];

/// A person as the SCIM write path stores them.
struct Person {
    id: String,
    user_name: String,
    display_name: String,
    email: String,
    external_id: String,
    resource: Value,
}

/// Who the requests ask about at one size: the person in the middle of
/// the list and a group they are in.
struct Subject {
    name: String,
    user: String,
    external: String,
    group: String,
    group_name: String,
    middle: usize,
}

/// The section on `db` (see the module comment).
pub async fn measure(db: &Database, args: &Args, dir: &Path) -> Result<LargeFigures> {
    ensure!(
        args.scim_people > SMALL,
        "--scim-people must be more than {SMALL}"
    );
    let served = Served::start(
        &db.url,
        dir,
        ENVIRONMENT,
        &["--dev", "--no-demo", "--rate-limit", "scim=off"],
    )
    .await?;
    let token = served
        .engine(dir)?
        .token(NewToken {
            name: "bench-scim".into(),
            scim: true,
            ..Default::default()
        })
        .await?;
    let client = Client::signed_in(&served.url, token, None).await?;
    let pool = RawPool::open(db).await?;
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(21);

    let groups = seed_groups(&pool, now).await?;
    let mut memberships = Vec::new();
    seed_people(&pool, 0..SMALL, &groups, now, &mut rng, &mut memberships).await?;
    let small = client
        .sample_all(
            &requests(&subject(SMALL, &groups, &memberships)),
            args.large_samples,
        )
        .await?;

    let started = Instant::now();
    let mut seeded = SMALL;
    while seeded < args.scim_people {
        let end = (seeded + BATCH).min(args.scim_people);
        seed_people(&pool, seeded..end, &groups, now, &mut rng, &mut memberships).await?;
        seeded = end;
    }
    let seed_seconds = started.elapsed().as_secs_f64();
    let large = client
        .sample_all(
            &requests(&subject(seeded, &groups, &memberships)),
            args.large_samples,
        )
        .await?;
    pool.close().await;
    served.stop().await;

    let rows = KINDS
        .iter()
        .zip(small.into_iter().zip(large))
        .map(|((label, _), (small, large))| Row {
            label: (*label).to_owned(),
            small,
            large,
        })
        .collect();
    Ok(LargeFigures {
        title: "SCIM with many people",
        database: db.version().await?,
        unit: "people",
        small: SMALL,
        large: seeded,
        samples: args.large_samples,
        seed_seconds,
        reader: "a SCIM token",
        goal: Goal::UnderMs(50.0),
        rows,
    })
}

fn requests(s: &Subject) -> Vec<Request> {
    KINDS
        .iter()
        .map(|(label, path)| Request {
            label,
            path: path
                .replace("{name}", &s.name)
                .replace("{user}", &s.user)
                .replace("{external}", &s.external)
                .replace("{group_name}", &s.group_name)
                .replace("{group}", &s.group)
                .replace("{middle}", &s.middle.to_string()),
            auth: Auth::Bearer,
        })
        .collect()
}

/// Person `n` (of `people` seeded so far, in username order) and one of
/// their groups.
fn subject(people: usize, groups: &[(String, String)], memberships: &[(usize, usize)]) -> Subject {
    let n = people / 2;
    let group = memberships
        .iter()
        .find(|(person, _)| *person == n)
        .map_or(0, |(_, group)| *group);
    Subject {
        name: user_name(n),
        user: person_id(n),
        external: external_id(n),
        group: groups[group].0.clone(),
        group_name: groups[group].1.clone(),
        middle: n,
    }
}

fn user_name(n: usize) -> String {
    format!("person{n:06}@example.com")
}

/// Ids a seeded person can be found again by, without keeping 100,000
/// strings: a UUID made of their number.
fn person_id(n: usize) -> String {
    uuid::Uuid::from_u128(0x5c1e_0000_0000_4000_8000_0000_0000_0000 | n as u128).to_string()
}

fn external_id(n: usize) -> String {
    format!("00u{n:07x}")
}

fn person(n: usize) -> Result<Person> {
    let user_name = user_name(n);
    let body = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": user_name,
        "externalId": external_id(n),
        "name": {"givenName": format!("Person{n}"), "familyName": "Example"},
        "displayName": format!("Person{n} Example"),
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "locale": "en-US",
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "department": format!("dept-{}", n % 40)
        }
    });
    let resource = scim::normalize(ResourceKind::User, &body)
        .map_err(|e| anyhow::anyhow!("the seeded person is not valid SCIM: {e}"))?;
    let columns = scim::user_columns(&resource)
        .map_err(|e| anyhow::anyhow!("the seeded person's columns: {e}"))?;
    Ok(Person {
        id: person_id(n),
        display_name: columns.display_name,
        email: columns.email.unwrap_or_default().to_owned(),
        external_id: columns.external_id.unwrap_or_default().to_owned(),
        user_name,
        resource,
    })
}

/// The groups, empty: `(id, displayName)`, in display-name order.
async fn seed_groups(pool: &RawPool, now: DateTime<Utc>) -> Result<Vec<(String, String)>> {
    let mut groups = Vec::with_capacity(GROUPS);
    let mut documents = Vec::with_capacity(GROUPS);
    for g in 0..GROUPS {
        let name = format!("team-{g:03}");
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "externalId": format!("00g{g:05}"),
        });
        let document = scim::normalize(ResourceKind::Group, &body)
            .map_err(|e| anyhow::anyhow!("the seeded group is not valid SCIM: {e}"))?;
        groups.push((uuid::Uuid::new_v4().to_string(), name));
        documents.push(document);
    }
    with_pool!(pool, p => {
        let mut q = QueryBuilder::new(
            "INSERT INTO scim_groups (id, display_name, external_id, resource, version, \
             created_at, updated_at) ",
        );
        q.push_values(groups.iter().zip(&documents), |mut b, ((id, name), doc)| {
            b.push_bind(id)
                .push_bind(name)
                .push_bind(doc["externalId"].as_str().unwrap_or_default().to_owned())
                .push_bind(Json(doc.clone()))
                .push_bind(1i64)
                .push_bind(now)
                .push_bind(now);
        });
        q.build().execute(p).await?;
    });
    Ok(groups)
}

/// People numbered `range`, each in one to three groups (appended to
/// `memberships` as `(person, group)`), in transactions of [`CHUNK`]-row
/// statements.
async fn seed_people(
    pool: &RawPool,
    range: std::ops::Range<usize>,
    groups: &[(String, String)],
    now: DateTime<Utc>,
    rng: &mut StdRng,
    memberships: &mut Vec<(usize, usize)>,
) -> Result<()> {
    let people: Vec<(usize, Person)> = range
        .map(|n| person(n).map(|p| (n, p)))
        .collect::<Result<_>>()?;
    let from = memberships.len();
    for (n, _) in &people {
        let k = rng.random_range(1..=3);
        memberships.extend(sample(rng, groups.len(), k).into_iter().map(|g| (*n, g)));
    }
    let joined = &memberships[from..];
    with_pool!(pool, p => {
        let mut tx = p.begin().await?;
        for chunk in people.chunks(CHUNK) {
            let mut q = QueryBuilder::new(
                "INSERT INTO users (id, username, display_name, email, source, disabled, \
                 created_at, updated_at, external_id, scim_resource, scim_version, \
                 provisioned_at) ",
            );
            q.push_values(chunk, |mut b, (_, person)| {
                b.push_bind(&person.id)
                    .push_bind(&person.user_name)
                    .push_bind(&person.display_name)
                    .push_bind(&person.email)
                    .push_bind("scim")
                    .push_bind(false)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(&person.external_id)
                    .push_bind(Json(&person.resource))
                    .push_bind(1i64)
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in joined.chunks(CHUNK) {
            let mut q =
                QueryBuilder::new("INSERT INTO scim_group_members (group_id, user_id) ");
            q.push_values(chunk, |mut b, (person, group)| {
                b.push_bind(&groups[*group].0).push_bind(person_id(*person));
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    if let RawPool::Postgres(p) = pool {
        // What autovacuum does after a bulk insert (see `vacuum_analyze`).
        for table in ["users", "scim_groups", "scim_group_members"] {
            sqlx::query(&format!("VACUUM ANALYZE {table}"))
                .execute(p)
                .await?;
        }
    }
    Ok(())
}
