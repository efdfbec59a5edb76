//! The store contract: behaviour every backend must have, as one function per case over a
//! [`Database`]. A backend runs the whole suite with one line in its tests,
//! `moja_store::store_contract!(MyDatabase::new());`, which makes a `#[tokio::test]` of each case.

use std::sync::Arc;

use crate::*;
use jiff::Timestamp;
use moja_core::calls::{Call, CallStatus, Change, FieldUpdates, TagOp};
use moja_core::money;
use moja_core::rate_limit::RateLimit;
use serde_json::{Value, json};

/// The node id the contract claims deliveries as.
const NODE: &str = "node-1";

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + seconds).unwrap()
}

/// A fresh, empty database of one backend, which a case may open more than once (to check what
/// survives a reopen).
#[async_trait::async_trait]
pub trait Database: Send + Sync {
    /// Opens (and on the first open, creates and migrates) the database.
    async fn open(&self) -> Arc<dyn Store>;
}

struct Fixture {
    store: Arc<dyn Store>,
}

/// The database opened and seeded with orgs `a` and `b`.
async fn fresh(database: &dyn Database) -> Fixture {
    let store = database.open().await;
    seed(store.as_ref()).await;
    Fixture { store }
}

fn org(id: &str) -> Org {
    Org {
        id: id.into(),
        name: format!("Org {id}"),
        default_region: "US".into(),
        currency: "USD".into(),
        disabled: false,
        created_at: t(0),
    }
}

fn key(org_id: &str, hash: &str) -> NewApiKey {
    NewApiKey {
        key: ApiKey {
            id: format!("key-{hash}"),
            org_id: org_id.into(),
            name: "default".into(),
            key_prefix: "mok_abcd".into(),
            created_at: t(0),
            revoked_at: None,
        },
        hash: hash.into(),
    }
}

fn webhook(org_id: &str, id: &str, kind: WebhookKind, policy: MatchPolicy) -> IncomingWebhook {
    IncomingWebhook {
        id: id.into(),
        org_id: org_id.into(),
        name: format!("hook {id}"),
        kind,
        campaign_ids: vec![],
        lookback_seconds: 7 * 86_400,
        match_policy: policy,
        rate_limit: RateLimit::default(),
        normalizer: PluginRef::platform("normalize-standard"),
        mapper: PluginRef::platform("map-standard"),
        plugin_config: vec![],
        enabled: true,
        created_at: t(0),
        updated_at: t(0),
    }
}

fn call(org_id: &str, id: &str, phone: &str, started: Timestamp) -> Call {
    let mut call = Call::ringing(id, org_id, started, "USD");
    call.campaign_id = Some("camp-1".into());
    call.caller_id = phone.into();
    call.caller_e164 = Some(phone.into());
    call.from_raw = phone.into();
    call
}

async fn seed(store: &dyn Store) {
    store
        .create_org(org("a"), key("a", "hash-a"))
        .await
        .unwrap();
    store
        .create_org(org("b"), key("b", "hash-b"))
        .await
        .unwrap();
}

async fn new_call(store: &dyn Store, org_id: &str, id: &str, phone: &str, started: Timestamp) {
    store
        .create_call(NewCall {
            call: call(org_id, id, phone, started),
            protected_keys: vec![],
            custom_tag_keys: vec!["lead_source".into()],
        })
        .await
        .unwrap();
}

fn log(id: &str) -> RequestLogEntry {
    RequestLogEntry {
        id: id.into(),
        org_id: Some("a".into()),
        webhook_id: Some("w".into()),
        received_at: t(100),
        method: "POST".into(),
        path: "/update-revenue".into(),
        query: String::new(),
        headers: vec![],
        body: b"{}".to_vec(),
        body_truncated: false,
        status: 0,
        response: Value::Null,
        latency_us: 0,
        details: json!({}),
    }
}

/// An inbound answer as the contract renders it: a status per outcome and the outcome's facts
/// as JSON (the host's real rendering is tested in the host).
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    body: Value,
    replayed: bool,
}

/// The contract's stand-in for the host's responder.
fn respond(outcome: &InboundOutcome) -> StoredResponse {
    let (status, body) = match outcome {
        InboundOutcome::Updated(applied) => {
            let mut body = serde_json::Map::new();
            body.insert("success".into(), json!(true));
            body.insert("call_log_ids".into(), json!(applied.call_log_ids));
            for (field, value) in &applied.updated {
                body.insert(field.clone(), value.clone());
            }
            let added: Vec<Value> = applied.added.iter().map(|(k, v)| json!({k: v})).collect();
            body.insert("added".into(), json!(added));
            body.insert("removed".into(), json!(applied.removed));
            body.insert(
                "active_call_log_ids".into(),
                json!(applied.active_call_log_ids),
            );
            body.insert("queued".into(), json!(applied.queued));
            if let Some(failed) = &applied.failed_call_log_ids {
                body.insert("failed_call_log_ids".into(), json!(failed));
            }
            (200, Value::Object(body))
        }
        InboundOutcome::CallDataStored { request_id, .. } => {
            (200, json!({"success": true, "request_id": request_id}))
        }
        InboundOutcome::Replayed(stored) => return stored.clone(),
        InboundOutcome::TransactionIdReused { .. } => (422, json!({"success": false})),
        InboundOutcome::InFlight { .. } => (409, json!({"success": false})),
        InboundOutcome::CallOfOtherOrg { .. } | InboundOutcome::CallOutsideCampaigns { .. } => {
            (403, json!({"success": false}))
        }
        InboundOutcome::CallNotFound { .. } | InboundOutcome::NoCallForPhone { .. } => {
            (404, json!({"success": false}))
        }
    };
    StoredResponse { status, body }
}

fn answer(outcome: InboundOutcome) -> Answer {
    let StoredResponse { status, body } = respond(&outcome);
    Answer {
        status,
        body,
        replayed: matches!(outcome, InboundOutcome::Replayed(_)),
    }
}

/// Inbound calls of the store, answered through [`respond`].
#[async_trait::async_trait]
trait Answers {
    async fn answer_update(&self, update: InboundUpdate, log: RequestLogEntry) -> Result<Answer>;
    async fn answer_call_data(&self, data: InboundCallData, log: RequestLogEntry)
    -> Result<Answer>;
}

#[async_trait::async_trait]
impl Answers for dyn Store {
    async fn answer_update(&self, update: InboundUpdate, log: RequestLogEntry) -> Result<Answer> {
        self.apply_update(update, log, respond).await.map(answer)
    }

    async fn answer_call_data(
        &self,
        data: InboundCallData,
        log: RequestLogEntry,
    ) -> Result<Answer> {
        self.store_call_data(data, log, respond).await.map(answer)
    }
}

fn revenue_update(hook: &IncomingWebhook, selector: Selector, request: &str) -> InboundUpdate {
    InboundUpdate {
        webhook: hook.clone(),
        request_id: request.into(),
        now: t(100),
        selector,
        transaction_id: None,
        fingerprint: "fp-1".into(),
        fields: FieldUpdates {
            revenue_paid_out: Change::Set(money::parse_amount("150.00").unwrap()),
            revenue_converts: true,
            ..FieldUpdates::default()
        },
        tag_ops: vec![TagOp::Add("lead_quality".into(), "high".into())],
        ignored_fields: vec![],
        plugins: json!({}),
    }
}

/// A contract case.
pub async fn orgs_keys_and_webhooks_round_trip(database: &dyn Database) {
    let f = fresh(database).await;
    let (found_key, found_org) = f.store.find_api_key("hash-a").await.unwrap().unwrap();
    assert_eq!(
        (found_key.org_id.as_str(), found_org.id.as_str()),
        ("a", "a")
    );
    assert!(
        !f.store
            .revoke_api_key("b", &found_key.id, t(5))
            .await
            .unwrap()
    );
    assert!(
        f.store
            .revoke_api_key("a", &found_key.id, t(5))
            .await
            .unwrap()
    );
    assert!(f.store.find_api_key("hash-a").await.unwrap().is_none());

    let hook = webhook(
        "a",
        "w1",
        WebhookKind::UpdateRevenue,
        MatchPolicy::MostRecent,
    );
    f.store
        .create_incoming_webhook(hook.clone(), "wh-hash")
        .await
        .unwrap();
    let (found, org) = f
        .store
        .find_incoming_webhook("wh-hash")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found, org.id), (hook.clone(), "a".to_owned()));
    assert!(
        f.store
            .get_incoming_webhook("b", "w1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.store
            .rotate_incoming_webhook_key("a", "w1", "wh-hash-2", t(9))
            .await
            .unwrap()
    );
    assert!(
        f.store
            .find_incoming_webhook("wh-hash")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.store
            .delete_incoming_webhook("a", "w1", t(10))
            .await
            .unwrap()
    );
    assert!(
        f.store
            .find_incoming_webhook("wh-hash-2")
            .await
            .unwrap()
            .is_none()
    );
}

/// A contract case.
pub async fn calls_pick_up_call_data_for_custom_tags_only(database: &dyn Database) {
    let f = fresh(database).await;
    let data_hook = webhook("a", "cd", WebhookKind::CallData, MatchPolicy::All);
    let response = f
        .store
        .answer_call_data(
            InboundCallData {
                webhook: data_hook,
                request_id: "req-cd".into(),
                now: t(10),
                caller_e164: "+13105559876".into(),
                transaction_id: None,
                fingerprint: "fp".into(),
                fields: vec![
                    ("lead_source".into(), "google_ads".into()),
                    ("ad_campaign".into(), "medicare_q1".into()),
                    ("state".into(), "CA".into()),
                ],
                custom_tag_keys: vec!["lead_source".into()],
                max_call_duration: jiff::SignedDuration::from_hours(4),
            },
            log("req-cd"),
        )
        .await
        .unwrap();
    assert_eq!(
        response.body,
        json!({"success": true, "request_id": "req-cd"})
    );
    new_call(f.store.as_ref(), "a", "call-1", "+13105559876", t(20)).await;
    let CallLookup::Found(stored) = f.store.get_call("a", "call-1").await.unwrap() else {
        panic!("found")
    };
    assert_eq!(
        stored.tags,
        vec![("lead_source".into(), "google_ads".into())]
    );
    assert_eq!(stored.state.as_deref(), Some("CA"));
    assert_eq!(stored.original_state.as_deref(), Some("CA"));
    let timeline = f.store.timeline("a", "call-1").await.unwrap().unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["call.incoming", "call_data.applied"]);
    assert_eq!(
        f.store.get_call("b", "call-1").await.unwrap(),
        CallLookup::OtherOrg
    );
    assert!(f.store.timeline("b", "call-1").await.unwrap().is_none());
}

/// A contract case.
pub async fn updates_by_id_phone_and_batch(database: &dyn Database) {
    let f = fresh(database).await;
    let store = f.store.as_ref();
    new_call(store, "a", "old", "+13105559876", t(-86_400)).await;
    new_call(store, "a", "new", "+13105559876", t(0)).await;
    new_call(store, "b", "theirs", "+13105559876", t(0)).await;
    let recent = webhook(
        "a",
        "w",
        WebhookKind::UpdateRevenue,
        MatchPolicy::MostRecent,
    );

    let response = store
        .answer_update(
            revenue_update(&recent, Selector::Phone("+13105559876".into()), "r1"),
            log("r1"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body["call_log_ids"], json!(["new"]));
    assert_eq!(response.body["revenue_paid_out"].to_string(), "150.00");
    assert_eq!(response.body["active_call_log_ids"], json!(["new"]));

    let all = webhook("a", "w", WebhookKind::UpdateTags, MatchPolicy::All);
    let response = store
        .answer_update(
            revenue_update(&all, Selector::Phone("+13105559876".into()), "r2"),
            log("r2"),
        )
        .await
        .unwrap();
    assert_eq!(response.body["call_log_ids"], json!(["new", "old"]));
    assert_eq!(response.body["added"], json!([{"lead_quality": "high"}]));

    let response = store
        .answer_update(
            revenue_update(
                &recent,
                Selector::Batch(vec!["new".into(), "theirs".into(), "nope".into()]),
                "r3",
            ),
            log("r3"),
        )
        .await
        .unwrap();
    assert_eq!(response.body["call_log_ids"], json!(["new"]));
    assert_eq!(
        response.body["failed_call_log_ids"],
        json!(["theirs", "nope"])
    );

    let response = store
        .answer_update(
            revenue_update(&recent, Selector::One("theirs".into()), "r4"),
            log("r4"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 403);
    let response = store
        .answer_update(
            revenue_update(&recent, Selector::One("NEW".into()), "r5"),
            log("r5"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 404, "ids are case-sensitive");

    // Outside the lookback window nothing matches.
    let mut short = recent.clone();
    short.lookback_seconds = 60;
    let mut update = revenue_update(&short, Selector::Phone("+13105559876".into()), "r6");
    update.now = t(61);
    let response = store.answer_update(update, log("r6")).await.unwrap();
    assert_eq!(response.status, 404);

    let logged = store
        .list_requests(
            "a",
            RequestFilter {
                limit: 2,
                ..RequestFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(logged.items.len(), 2);
    let rest = store
        .list_requests(
            "a",
            RequestFilter {
                cursor: logged.next_cursor.clone(),
                limit: 50,
                ..RequestFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(logged.items.len() + rest.items.len(), 6);
    assert!(rest.next_cursor.is_none());
}

/// A contract case.
pub async fn idempotency_replays_refuses_reuse_and_frees_failures(database: &dyn Database) {
    let f = fresh(database).await;
    let store = f.store.as_ref();
    new_call(store, "a", "c1", "+13105559876", t(0)).await;
    let hook = webhook(
        "a",
        "w",
        WebhookKind::UpdateRevenue,
        MatchPolicy::MostRecent,
    );
    let mut update = revenue_update(&hook, Selector::One("c1".into()), "r1");
    update.transaction_id = Some("txn-1".into());
    let first = store
        .answer_update(update.clone(), log("r1"))
        .await
        .unwrap();
    let replay = store
        .answer_update(update.clone(), log("r2"))
        .await
        .unwrap();
    assert!(replay.replayed);
    assert_eq!((replay.status, &replay.body), (first.status, &first.body));
    let timeline = store.timeline("a", "c1").await.unwrap().unwrap();
    assert_eq!(
        timeline
            .iter()
            .filter(|e| e.kind == "webhook.update_revenue")
            .count(),
        1
    );

    let mut other = update.clone();
    other.fingerprint = "fp-other".into();
    let reused = store.answer_update(other, log("r3")).await.unwrap();
    assert_eq!(reused.status, 422);

    // A failed request does not keep its id.
    let mut missing = revenue_update(&hook, Selector::One("missing".into()), "r4");
    missing.transaction_id = Some("txn-2".into());
    assert_eq!(
        store
            .answer_update(missing, log("r4"))
            .await
            .unwrap()
            .status,
        404
    );
    let mut retry = revenue_update(&hook, Selector::One("c1".into()), "r5");
    retry.transaction_id = Some("txn-2".into());
    let retried = store.answer_update(retry, log("r5")).await.unwrap();
    assert_eq!(retried.status, 200);
    assert!(!retried.replayed);
}

/// A contract case.
pub async fn lifecycle_with_queued_fields_and_campaign_rule(database: &dyn Database) {
    let f = fresh(database).await;
    let store = f.store.as_ref();
    store
        .create_campaign(Campaign {
            id: "camp-1".into(),
            org_id: "a".into(),
            name: "Medicare".into(),
            conversion_min_duration_s: Some(30),
            buyer_revenue: Some(money::parse_amount("35").unwrap()),
            publisher_payout: Some(money::parse_amount("12.5").unwrap()),
            currency: "USD".into(),
            created_at: t(0),
            updated_at: t(0),
        })
        .await
        .unwrap();
    new_call(store, "a", "c1", "+13105559876", t(0)).await;
    let connected = store
        .transition(
            "a",
            "c1",
            TransitionRequest::Connected {
                target: None,
                buyer: None,
            },
            t(5),
        )
        .await
        .unwrap();
    assert!(
        matches!(connected, TransitionResult::Done { ref events, .. } if events == &vec!["call.connected"])
    );

    let hook = webhook("a", "w", WebhookKind::UpdateFields, MatchPolicy::MostRecent);
    let mut update = revenue_update(&hook, Selector::One("c1".into()), "r1");
    update.fields = FieldUpdates {
        publisher_paid_out: Change::Set(money::parse_amount("9").unwrap()),
        ..FieldUpdates::default()
    };
    let response = store.answer_update(update, log("r1")).await.unwrap();
    assert_eq!(response.body["queued"], json!(["publisher_paid_out"]));

    let hung_up = store
        .transition(
            "a",
            "c1",
            TransitionRequest::Hangup {
                terminated_by: "caller".into(),
            },
            t(65),
        )
        .await
        .unwrap();
    let TransitionResult::Done { call, events } = hung_up else {
        panic!("done")
    };
    assert_eq!(
        events,
        vec!["call.hangup", "call.converted", "call.completed"]
    );
    assert!(call.converted);
    assert_eq!(
        money::format_plain(&call.revenue_paid_out.unwrap()),
        "35.00"
    );
    assert_eq!(
        money::format_plain(&call.publisher_paid_out.unwrap()),
        "9.00"
    );

    let again = store
        .transition(
            "a",
            "c1",
            TransitionRequest::Hangup {
                terminated_by: "caller".into(),
            },
            t(66),
        )
        .await
        .unwrap();
    assert!(matches!(again, TransitionResult::Done { ref events, .. } if events.is_empty()));
    let impossible = store
        .transition(
            "a",
            "c1",
            TransitionRequest::Connected {
                target: None,
                buyer: None,
            },
            t(67),
        )
        .await
        .unwrap();
    assert!(matches!(impossible, TransitionResult::Invalid(_)));
    assert_eq!(
        store
            .transition(
                "b",
                "c1",
                TransitionRequest::Failure {
                    reason: "busy".into()
                },
                t(67)
            )
            .await
            .unwrap(),
        TransitionResult::NotFound
    );
}

/// A contract case.
pub async fn concurrent_writes_all_commit_and_survive_reopen(database: &dyn Database) {
    {
        let store = database.open().await;
        seed(store.as_ref()).await;
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    new_call(store.as_ref(), "a", &format!("c{i}"), "+13105559876", t(i)).await;
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }
    let reopened = database.open().await;
    let page = reopened
        .list_calls(
            "a",
            CallFilter {
                limit: 200,
                ..CallFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 200);
    assert_eq!(page.items[0].id, "c199", "newest first");
    let taken = reopened
        .create_call(NewCall {
            call: call("b", "c1", "+13105559876", t(0)),
            protected_keys: vec![],
            custom_tag_keys: vec![],
        })
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))));
}

/// A contract case.
pub async fn sweeper_completes_stale_live_calls(database: &dyn Database) {
    let f = fresh(database).await;
    new_call(f.store.as_ref(), "a", "stale", "+13105559876", t(0)).await;
    new_call(f.store.as_ref(), "a", "fresh", "+13105559876", t(5 * 3600)).await;
    let swept = f
        .store
        .sweep_live_calls(t(4 * 3600), t(5 * 3600 + 1))
        .await
        .unwrap();
    assert_eq!(swept, vec!["stale"]);
    let CallLookup::Found(call) = f.store.get_call("a", "stale").await.unwrap() else {
        panic!()
    };
    assert_eq!(
        (call.status, call.terminated_by.as_deref()),
        (CallStatus::Completed, Some("system"))
    );
}

/// A contract case.
pub async fn purge_drops_what_retention_and_validity_let_go(database: &dyn Database) {
    let f = fresh(database).await;
    let store = f.store.as_ref();
    new_call(store, "a", "c1", "+13105559876", t(0)).await;
    let hook = webhook(
        "a",
        "w",
        WebhookKind::UpdateRevenue,
        MatchPolicy::MostRecent,
    );
    let mut update = revenue_update(&hook, Selector::One("c1".into()), "r1");
    update.transaction_id = Some("txn-old".into());
    store
        .answer_update(update.clone(), log("r1"))
        .await
        .unwrap();
    let mut data_hook = webhook("a", "cd", WebhookKind::CallData, MatchPolicy::All);
    data_hook.lookback_seconds = 60;
    store
        .answer_call_data(
            InboundCallData {
                webhook: data_hook,
                request_id: "cd1".into(),
                now: t(100),
                caller_e164: "+13105550000".into(),
                transaction_id: None,
                fingerprint: "fp".into(),
                fields: vec![("lead_source".into(), "x".into())],
                custom_tag_keys: vec![],
                max_call_duration: jiff::SignedDuration::from_hours(4),
            },
            log("cd1"),
        )
        .await
        .unwrap();

    // Nothing is old enough yet.
    assert_eq!(store.purge(t(0), t(0), t(100)).await.unwrap(), 0);
    // Past retention: the idempotency record and both log entries go, and the call data expired.
    let removed = store.purge(t(101), t(101), t(161)).await.unwrap();
    assert_eq!(removed, 4);
    assert!(store.get_request("a", "r1").await.unwrap().is_none());
    // The id is free again, and the call itself is never purged.
    let again = store.answer_update(update, log("r2")).await.unwrap();
    assert!(!again.replayed);
    assert!(matches!(
        store.get_call("a", "c1").await.unwrap(),
        CallLookup::Found(_)
    ));
}

fn outgoing(id: &str, event: moja_core::events::EventType, campaigns: &[&str]) -> OutgoingWebhook {
    OutgoingWebhook {
        id: id.into(),
        org_id: "a".into(),
        name: format!("out {id}"),
        event_type: event,
        method: "POST".into(),
        url: "https://example.com/hook".into(),
        headers_sealed: "sealed".into(),
        header_names: vec![],
        body: r#"{"id": "[CALL_ID]"}"#.into(),
        body_format: BodyFormat::Json,
        campaign_ids: campaigns.iter().map(|c| c.to_string()).collect(),
        renderer: PluginRef::platform("render-template"),
        plugin_config: vec![],
        enabled: true,
        secret_sealed: None,
        created_at: t(0),
        updated_at: t(0),
    }
}

async fn claim(store: &dyn Store, now: Timestamp, limit: usize) -> Vec<ClaimedDelivery> {
    store
        .claim_deliveries(ClaimRequest {
            node: NODE.into(),
            now,
            lease_until: now + jiff::SignedDuration::from_secs(70),
            limit,
            per_webhook_limit: 2,
            in_flight: Default::default(),
            in_hand: Default::default(),
        })
        .await
        .unwrap()
}

fn attempt_of(
    claimed: &ClaimedDelivery,
    at: Timestamp,
    outcome: &str,
    status: u16,
) -> AttemptRecord {
    AttemptRecord {
        id: format!(
            "att-{}-{}",
            claimed.delivery.id,
            claimed.delivery.attempts + 1
        ),
        org_id: claimed.delivery.org_id.clone(),
        delivery_id: claimed.delivery.id.clone(),
        webhook_id: claimed.webhook.id.clone(),
        event_type: claimed.delivery.event_type,
        call_id: claimed.delivery.call_id.clone(),
        attempt: claimed.delivery.attempts + 1,
        started_at: at,
        request: json!({"method": "POST"}),
        response_status: Some(status),
        response_headers: vec![],
        response_body: String::new(),
        response_truncated: false,
        latency_us: 1000,
        error: None,
        outcome: outcome.into(),
        next_attempt_at: None,
    }
}

/// A contract case.
pub async fn the_outbox_queues_subscribed_events_in_the_changing_transaction(
    database: &dyn Database,
) {
    use moja_core::events::EventType;
    let f = fresh(database).await;
    let store = f.store.as_ref();
    store
        .create_campaign(Campaign {
            id: "camp-1".into(),
            org_id: "a".into(),
            name: "Solar".into(),
            conversion_min_duration_s: Some(10),
            buyer_revenue: Some(money::parse_amount("40").unwrap()),
            publisher_payout: None,
            currency: "USD".into(),
            created_at: t(0),
            updated_at: t(0),
        })
        .await
        .unwrap();
    for webhook in [
        outgoing("in", EventType::Incoming, &[]),
        outgoing("done-other", EventType::Completed, &["camp-2"]),
        outgoing("done", EventType::Completed, &["camp-1"]),
        outgoing("mark5", EventType::On5SecsMark, &[]),
        outgoing("mark30", EventType::On30SecsMark, &[]),
        OutgoingWebhook {
            enabled: false,
            ..outgoing("off", EventType::Incoming, &[])
        },
    ] {
        store.create_outgoing_webhook(webhook).await.unwrap();
    }

    // An event nobody subscribes to queues nothing; one others subscribe to queues one each.
    new_call(store, "a", "c1", "+13105550001", t(10)).await;
    let claimed = claim(store, t(10), 10).await;
    assert_eq!(claimed.len(), 1, "one enabled webhook for call.incoming");
    let first = &claimed[0];
    assert_eq!(first.webhook.id, "in");
    assert_eq!(first.event.call_id.as_deref(), Some("c1"));
    let tag = |name: &str| {
        first
            .event
            .tags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(tag("CALL_ID"), Some(Some("c1".into())));
    assert_eq!(tag("CAMPAIGN_NAME"), Some(Some("Solar".into())));
    assert_eq!(tag("CONVERTED"), Some(None), "not applicable on incoming");
    assert!(claim(store, t(10), 10).await.is_empty(), "claimed: leased");

    // A retry is due at its time, not before.
    store
        .finish_attempt(
            attempt_of(first, t(11), "retrying", 503),
            DeliveryNext::RetryAt(t(20)),
        )
        .await
        .unwrap();
    assert!(claim(store, t(15), 10).await.is_empty());
    let again = claim(store, t(20), 10).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery.attempts, 1);
    assert_eq!(
        again[0].delivery.id, first.delivery.id,
        "the same delivery id"
    );
    store
        .finish_attempt(
            attempt_of(&again[0], t(21), "succeeded", 200),
            DeliveryNext::Succeeded,
        )
        .await
        .unwrap();
    let timeline = store.timeline("a", "c1").await.unwrap().unwrap();
    assert!(timeline.iter().any(|e| e.kind == "delivery.succeeded"));

    // Marks: scheduled at connect for subscribed marks only; the hang-up cancels later ones,
    // while one already due still fires.
    let connected = TransitionRequest::Connected {
        target: None,
        buyer: None,
    };
    store
        .transition("a", "c1", connected, t(100))
        .await
        .unwrap();
    let hangup = TransitionRequest::Hangup {
        terminated_by: "caller".into(),
    };
    store.transition("a", "c1", hangup, t(120)).await.unwrap();
    let done = claim(store, t(120), 10).await;
    assert_eq!(
        done.iter()
            .map(|d| d.webhook.id.as_str())
            .collect::<Vec<_>>(),
        vec!["done"],
        "call.completed to the webhook of its campaign only"
    );
    let done = &done[0];
    let value = |name: &str| done.event.tags.iter().find(|(n, _)| n == name).cloned();
    assert_eq!(
        value("CONVERTED"),
        Some(("CONVERTED".into(), Some("true".into())))
    );
    assert_eq!(
        value("REVENUE_PAID_OUT"),
        Some(("REVENUE_PAID_OUT".into(), Some("40.00".into())))
    );
    store
        .finish_attempt(
            attempt_of(done, t(121), "succeeded", 204),
            DeliveryNext::Succeeded,
        )
        .await
        .unwrap();
    assert_eq!(store.fire_scheduled_events(t(104), 10).await.unwrap(), 0);
    assert_eq!(store.fire_scheduled_events(t(500), 10).await.unwrap(), 1);
    assert_eq!(store.fire_scheduled_events(t(500), 10).await.unwrap(), 0);
    let marks = claim(store, t(500), 10).await;
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].webhook.id, "mark5");
    assert_eq!(marks[0].event.occurred_at, t(105));

    // A failed delivery can be resent (same id, fresh schedule); a pending one cannot.
    let failed = attempt_of(&marks[0], t(501), "failed", 410);
    store
        .finish_attempt(failed.clone(), DeliveryNext::Failed)
        .await
        .unwrap();
    let log = store
        .list_attempts(
            "a",
            AttemptFilter {
                failed: true,
                ..AttemptFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.items.len(), 2, "the 503 and the 410");
    assert!(
        store
            .list_attempts("b", AttemptFilter::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    match store.resend("a", &failed.id, t(600)).await.unwrap() {
        Resend::Queued(delivery) => {
            assert_eq!(delivery.id, marks[0].delivery.id);
            assert_eq!(delivery.state, DeliveryState::Pending);
        }
        other => panic!("expected a resend, got {other:?}"),
    }
    assert!(matches!(
        store.resend("a", &failed.id, t(600)).await.unwrap(),
        Resend::StillPending(_)
    ));
    assert_eq!(
        store.resend("b", &failed.id, t(600)).await.unwrap(),
        Resend::NotFound
    );
    let stats = store.queue_stats(t(700)).await.unwrap();
    assert_eq!((stats.pending, stats.due), (1, 1), "the resend");

    // The per-webhook bound, and claims released after a restart.
    for i in 0..3 {
        new_call(store, "a", &format!("n{i}"), "+13105550002", t(700)).await;
    }
    let bounded = claim(store, t(700), 10).await;
    let to_in = bounded.iter().filter(|d| d.webhook.id == "in").count();
    assert_eq!(to_in, 2, "at most two in hand per webhook");
    assert!(
        claim(store, t(700), 10)
            .await
            .iter()
            .all(|d| d.webhook.id == "in")
    );
    assert!(store.release_leases(NODE).await.unwrap() >= 3);
    assert!(!claim(store, t(700), 10).await.is_empty());

    // A disabled webhook's queued deliveries fail instead of being sent.
    new_call(store, "a", "d1", "+13105550003", t(750)).await;
    let mut disabled = store
        .get_outgoing_webhook("a", "in")
        .await
        .unwrap()
        .unwrap();
    disabled.enabled = false;
    assert!(
        store
            .update_outgoing_webhook(disabled.clone())
            .await
            .unwrap()
    );
    store.release_leases(NODE).await.unwrap();
    assert!(
        claim(store, t(760), 10)
            .await
            .iter()
            .all(|d| d.webhook.id != "in")
    );
    let attempts = store
        .list_attempts(
            "a",
            AttemptFilter {
                call_id: Some("d1".into()),
                ..AttemptFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(attempts.items.is_empty(), "nothing was attempted");
    disabled.enabled = true;
    assert!(store.update_outgoing_webhook(disabled).await.unwrap());
    store.release_leases(NODE).await.unwrap();
    assert!(
        claim(store, t(770), 10)
            .await
            .iter()
            .all(|d| d.delivery.call_id.as_deref() != Some("d1")),
        "failed, not merely skipped: enabling again does not send it"
    );

    // Deleting a webhook fails its pending deliveries.
    assert!(
        store
            .delete_outgoing_webhook("a", "in", t(800))
            .await
            .unwrap()
    );
    store.release_leases(NODE).await.unwrap();
    assert!(
        claim(store, t(800), 10)
            .await
            .iter()
            .all(|d| d.webhook.id != "in")
    );
}

/// A contract case: a node releases only the leases it holds, so a restarted node never takes
/// another live node's deliveries away from it.
pub async fn leases_are_released_by_their_own_node(database: &dyn Database) {
    let f = fresh(database).await;
    let store = f.store.as_ref();
    store
        .create_outgoing_webhook(outgoing("in", moja_core::events::EventType::Incoming, &[]))
        .await
        .unwrap();
    new_call(store, "a", "c1", "+13105550001", t(10)).await;
    assert_eq!(claim(store, t(10), 10).await.len(), 1);
    assert_eq!(store.release_leases("another-node").await.unwrap(), 0);
    assert!(claim(store, t(11), 10).await.is_empty(), "still leased");
    assert_eq!(store.release_leases(NODE).await.unwrap(), 1);
    assert_eq!(claim(store, t(12), 10).await.len(), 1, "free again");
}

/// A contract case: call data reaches a live call from that caller however long the call has
/// been live, within the longest a call may stay live (`max_call_duration`), and no further.
pub async fn call_data_reaches_calls_live_up_to_the_longest_call(database: &dyn Database) {
    let f = fresh(database).await;
    let store = f.store.as_ref();
    new_call(store, "a", "long-live", "+13105559876", t(0)).await;
    let data = |now: Timestamp, request: &str, hours: i64| InboundCallData {
        webhook: webhook("a", "cd", WebhookKind::CallData, MatchPolicy::All),
        request_id: request.into(),
        now,
        caller_e164: "+13105559876".into(),
        transaction_id: None,
        fingerprint: request.into(),
        fields: vec![("lead_source".into(), request.into())],
        custom_tag_keys: vec!["lead_source".into()],
        max_call_duration: jiff::SignedDuration::from_hours(hours),
    };
    let outcome = store
        .store_call_data(data(t(30 * 3600), "cd-1", 48), log("cd-1"), respond)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        InboundOutcome::CallDataStored {
            request_id: "cd-1".into(),
            live_calls_updated: vec!["long-live".into()],
        },
        "a call live for 30 h when calls may last 48 h"
    );
    let outcome = store
        .store_call_data(data(t(30 * 3600), "cd-2", 12), log("cd-2"), respond)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        InboundOutcome::CallDataStored {
            request_id: "cd-2".into(),
            live_calls_updated: vec![],
        },
        "older than the longest call: not looked at"
    );
}

/// Runs every contract case on a backend: `store_contract!(expr)` makes one `#[tokio::test]` per
/// case, each on a fresh `expr` (a [`Database`]).
#[macro_export]
macro_rules! store_contract {
    ($database:expr) => {
        $crate::store_contract!(@cases $database; orgs_keys_and_webhooks_round_trip, calls_pick_up_call_data_for_custom_tags_only, updates_by_id_phone_and_batch, idempotency_replays_refuses_reuse_and_frees_failures, lifecycle_with_queued_fields_and_campaign_rule, concurrent_writes_all_commit_and_survive_reopen, sweeper_completes_stale_live_calls, purge_drops_what_retention_and_validity_let_go, the_outbox_queues_subscribed_events_in_the_changing_transaction, leases_are_released_by_their_own_node, call_data_reaches_calls_live_up_to_the_longest_call);
    };
    (@cases $database:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let database = $database;
                $crate::contract::$case(&database).await;
            }
        )*
    };
}
