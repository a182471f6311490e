//! Group commit of audit records appended on their own (`audit_batch.rs`):
//! appends that wait at the same moment share a transaction, yet each
//! caller gets its own record, in one gap-free verifiable chain, and a
//! record the database refuses fails only its own caller.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use gantry_core::audit::{Actor, AuditAction, AuditEvent};
use gantry_server::audit::verify::verify_store;
use gantry_server::store::{self, DatabaseUrl};

on_both_backends!(appends_waiting_together_chain_in_order_and_a_refused_one_fails_alone);

const APPENDS: usize = 64;

async fn appends_waiting_together_chain_in_order_and_a_refused_one_fails_alone(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let store = store::connect(&DatabaseUrl::parse(&app.db_url).unwrap(), 4)
        .await
        .unwrap();
    let before = app.count_sql("SELECT count(*) FROM audit_log").await;
    // PostgreSQL refuses a NUL in text: that record's group fails, and its
    // records are then tried alone. SQLite stores it. (The actor's name, as
    // the store gets it: the fields cut from requests have their NULs
    // replaced before they get here, `audit::clip`.)
    let refused = APPENDS / 2;
    let mut appends = tokio::task::JoinSet::new();
    for i in 0..APPENDS {
        let store = store.clone();
        appends.spawn(async move {
            let mut actor = Actor::system("test");
            if i == refused {
                actor.name = "bad\0name".to_owned();
            }
            let event = AuditEvent::new(
                chrono::Utc::now(),
                actor,
                AuditAction::RunTrigger,
                format!("workflow/w{i}"),
            )
            .detail("i", i);
            (i, store.append_audit(event).await)
        });
    }
    let mut seqs = Vec::new();
    while let Some(done) = appends.join_next().await {
        let (i, appended) = done.unwrap();
        match appended {
            Ok(record) => {
                // Each caller gets its own record back.
                assert_eq!(record.details["i"], i, "{record:?}");
                seqs.push(record.seq);
            }
            Err(e) => {
                assert!(
                    backend == Backend::Postgres && i == refused,
                    "append {i} failed: {e}"
                );
            }
        }
    }
    let written = match backend {
        Backend::Sqlite => APPENDS,
        Backend::Postgres => APPENDS - 1,
    };
    assert_eq!(seqs.len(), written);
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), written, "two callers got the same record");
    // Gap-free after what was there, and the chain verifies.
    let first = u64::try_from(before).unwrap() + 1;
    assert_eq!(seqs.first(), Some(&first));
    assert_eq!(seqs.last(), Some(&(first + written as u64 - 1)));
    let status = verify_store(&*store, None, chrono::Utc::now())
        .await
        .unwrap();
    assert!(status.is_intact(), "{status:?}");
    assert_eq!(
        app.count_sql("SELECT count(*) FROM audit_log").await,
        before + i64::try_from(written).unwrap()
    );
}
