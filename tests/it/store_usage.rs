//! Usage totals against brute force, on SQLite, PostgreSQL and MariaDB: random rows over ten
//! days (some repeated, which must count once), then random filters, ranges that cut days and
//! every grouping, each compared with sums computed from the rows in memory; repricing keeps
//! the sums equal to the rows, and so does the migration that sums stored rows per hour.

use std::collections::BTreeMap;

use codex_central_migration::{Migrator, MigratorTrait};
use codex_central_store::Store;
use codex_central_store::entities::usage_records::Model;
use codex_central_store::usage_queries::Filter;
use codex_central_store::usage_records::{self, DAY_MS};
use codex_central_store::usage_rollups::{self, Group, Sums};

use crate::on_all_backends;
use crate::testkit::{Backend, TestDb};

/// A small deterministic generator (no dependency, same rows every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const START: i64 = 1_795_000_000_000;

fn record(rng: &mut Lcg, i: u64) -> Model {
    let pick =
        |rng: &mut Lcg, list: &[&str]| list[rng.below(list.len() as u64) as usize].to_string();
    let input = rng.below(5000) as i64;
    let output = rng.below(800) as i64;
    Model {
        id: 0,
        ingest_id: String::new(),
        source: pick(rng, &["host", "gateway"]),
        kind: "structured".into(),
        host_id: None,
        user_id: pick(rng, &["", "u1", "u2"]),
        token_id: pick(rng, &["", "t1"]),
        provider_id: String::new(),
        model: pick(rng, &["gpt-5", "gpt-5-mini", "other"]),
        recorded_at: START + rng.below(10 * DAY_MS as u64) as i64,
        ingested_at: START,
        session_id: String::new(),
        turn_id: String::new(),
        response_id: String::new(),
        // One row in seven repeats the key of the row before it: stored once.
        dedupe_key: Some(format!("k{}", if i % 7 == 1 { i - 1 } else { i })),
        total_tokens: input + output,
        input_tokens: input,
        cached_input_tokens: rng.below(input as u64 + 1) as i64,
        cache_write_input_tokens: 0,
        output_tokens: output,
        reasoning_output_tokens: rng.below(output as u64 + 1) as i64,
        cost_micros: rng.below(10_000) as i64,
        unpriced: rng.below(4) == 0,
        incomplete: false,
        line: String::new(),
        client_ip: String::new(),
    }
}

fn key(g: Option<Group>, r: &Model) -> String {
    match g {
        None => String::new(),
        Some(Group::Host) => r.host_id.unwrap_or(0).to_string(),
        Some(Group::User) => r.user_id.clone(),
        Some(Group::Token) => r.token_id.clone(),
        Some(Group::Model) => r.model.clone(),
        Some(Group::Source) => r.source.clone(),
        Some(Group::Day) => r.recorded_at.div_euclid(DAY_MS).to_string(),
    }
}

fn brute(rows: &[Model], f: &Filter, g: Option<Group>) -> BTreeMap<String, Sums> {
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    for r in rows.iter().filter(|r| {
        f.user_id.as_ref().is_none_or(|u| *u == r.user_id)
            && f.token_id.as_ref().is_none_or(|t| *t == r.token_id)
            && f.model.as_ref().is_none_or(|m| *m == r.model)
            && f.source.as_ref().is_none_or(|s| *s == r.source)
            && f.since.is_none_or(|s| r.recorded_at >= s)
            && f.until.is_none_or(|u| r.recorded_at < u)
    }) {
        out.entry(key(g, r)).or_default().add(&Sums {
            row_count: 1,
            unpriced_rows: i64::from(r.unpriced),
            total_tokens: r.total_tokens,
            input_tokens: r.input_tokens,
            cached_input_tokens: r.cached_input_tokens,
            output_tokens: r.output_tokens,
            reasoning_output_tokens: r.reasoning_output_tokens,
            cost_micros: r.cost_micros,
        });
    }
    out
}

async fn totals_equal_brute_force_sums(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    let mut rng = Lcg(7);
    let sent: Vec<Model> = (0..600).map(|i| record(&mut rng, i)).collect();
    let mut kept: Vec<Model> = Vec::new();
    for batch in sent.chunks(100) {
        let stored = usage_records::insert(&store, None, batch).await.unwrap();
        kept.extend(stored.inserted.iter().map(|&i| batch[i].clone()));
    }
    assert!(kept.len() < sent.len(), "repeated keys are stored once");
    let groups = [
        None,
        Some(Group::Host),
        Some(Group::User),
        Some(Group::Token),
        Some(Group::Model),
        Some(Group::Source),
        Some(Group::Day),
    ];
    let check = |rows: Vec<Model>, store: Store, mut rng: Lcg| async move {
        for round in 0..25 {
            let bound = |rng: &mut Lcg| {
                // Sometimes on a day or an hour boundary, usually inside an hour.
                let day = START.div_euclid(DAY_MS) + rng.below(12) as i64 - 1;
                let within = match rng.below(5) {
                    0 => 0,
                    1 => rng.below(24) as i64 * 3_600_000,
                    _ => rng.below(DAY_MS as u64) as i64,
                };
                day * DAY_MS + within
            };
            let mut since = (round % 3 != 0).then(|| bound(&mut rng));
            let mut until = (round % 4 != 0).then(|| bound(&mut rng));
            if let (Some(s), Some(u)) = (since, until)
                && s > u
            {
                (since, until) = (Some(u), Some(s));
            }
            let filter = Filter {
                user_id: (rng.below(3) == 0).then(|| "u1".to_string()),
                model: (rng.below(3) == 0).then(|| "gpt-5".to_string()),
                source: (rng.below(4) == 0).then(|| "gateway".to_string()),
                token_id: (rng.below(5) == 0).then(|| "t1".to_string()),
                since,
                until,
                ..Default::default()
            };
            for g in groups {
                let got = usage_rollups::aggregate(&store, &filter, g).await.unwrap();
                let want = brute(&rows, &filter, g);
                let got: BTreeMap<String, Sums> =
                    got.into_iter().filter(|(_, s)| s.row_count != 0).collect();
                assert_eq!(got, want, "group {g:?}, filter {filter:?}");
            }
        }
    };
    check(kept.clone(), store.clone(), Lcg(11)).await;

    // Rows stored before the per-hour sums existed are summed into them by their migration;
    // m0024 and m0025 (undone and done again first) keep every row, on SQLite through table
    // copies.
    Migrator::down(store.db(), Some(3)).await.unwrap();
    Migrator::up(store.db(), None).await.unwrap();
    check(kept.clone(), store.clone(), Lcg(12)).await;

    // Repricing moves the sums with the rows.
    let price = |r: &Model| (r.model == "gpt-5").then_some(r.input_tokens * 2);
    let done = usage_records::reprice(&store, price).await.unwrap();
    assert_eq!(done.examined, kept.len() as u64);
    let repriced: Vec<Model> = kept
        .into_iter()
        .map(|mut r| {
            match price(&r) {
                Some(c) => (r.cost_micros, r.unpriced) = (c, false),
                None => (r.cost_micros, r.unpriced) = (0, true),
            }
            r
        })
        .collect();
    check(repriced, store.clone(), Lcg(13)).await;
    store.close().await.unwrap();
}

on_all_backends!(totals_equal_brute_force_sums);

/// Reports stored together (the ingest writer's group commit) and concurrently: every key is
/// stored once, each report learns which of its records were stored and which were already
/// there (before, earlier in the group, or by a concurrent writer), and the per-day sums and
/// envelopes count exactly the rows stored.
async fn grouped_and_concurrent_reports_store_each_key_once(backend: Backend) {
    use codex_central_store::entities::usage_ingests;
    use codex_central_store::usage_records::Report;
    use sea_orm::{EntityTrait, PaginatorTrait};

    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    let mut rng = Lcg(11);
    let rows = |keys: &[&str], rng: &mut Lcg| -> Vec<Model> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| {
                let mut r = record(rng, i as u64);
                r.dedupe_key = (!k.is_empty()).then(|| k.to_string());
                r
            })
            .collect()
    };
    let report = |id: &str, records: Vec<Model>| Report {
        envelope: Some(usage_ingests::Model {
            id: id.into(),
            source: "host".into(),
            ..Default::default()
        }),
        records,
    };
    let first = usage_records::insert(&store, None, &rows(&["a", "b"], &mut rng))
        .await
        .unwrap();
    assert_eq!(first.inserted, vec![0, 1]);
    let group = vec![
        report("r1", rows(&["b", "c", "", "c"], &mut rng)),
        report("r2", rows(&["c", "d", "a", ""], &mut rng)),
    ];
    let stored = usage_records::insert_reports(&store, &group).await.unwrap();
    assert_eq!(stored[0].inserted, vec![1, 2]);
    assert_eq!(stored[0].duplicates, vec![0, 3]);
    assert_eq!(stored[1].inserted, vec![1, 3]);
    assert_eq!(stored[1].duplicates, vec![0, 2]);
    let envelope = usage_ingests::Entity::find_by_id("r1")
        .one(store.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((envelope.row_count, envelope.duplicate_count), (2, 2));
    let r1 = &group[0].records;
    assert_eq!(
        envelope.total_tokens,
        r1[1].total_tokens + r1[2].total_tokens
    );

    // Two writers racing with overlapping keys: each key lands once, for one of them.
    let keys: Vec<String> = (0..300).map(|i| format!("race{i}")).collect();
    let mut left_keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let right_keys: Vec<&str> = left_keys.iter().rev().copied().collect();
    left_keys.truncate(200);
    let left = vec![report("left", rows(&left_keys, &mut rng))];
    let right = vec![report("right", rows(&right_keys[..200], &mut rng))];
    let (l, r) = tokio::join!(
        usage_records::insert_reports(&store, &left),
        usage_records::insert_reports(&store, &right)
    );
    let (l, r) = (l.unwrap(), r.unwrap());
    assert_eq!(l[0].inserted.len() + r[0].inserted.len(), 300);
    assert_eq!(l[0].duplicates.len() + r[0].duplicates.len(), 100);
    let stored_rows = codex_central_store::entities::usage_records::Entity::find()
        .count(store.db())
        .await
        .unwrap();
    assert_eq!(stored_rows, 2 + 4 + 300);
    let all = usage_rollups::aggregate(&store, &Filter::default(), None)
        .await
        .unwrap();
    let counted: i64 = all.values().map(|s| s.row_count).sum();
    assert_eq!(counted, 306, "the sums count exactly the rows stored");
    store.close().await.unwrap();
}

on_all_backends!(grouped_and_concurrent_reports_store_each_key_once);

/// A deleted host's records and envelopes keep its id (neither references `hosts` since m0024
/// and m0025), so totals read from either still agree; undoing both migrations gives them a
/// NULL host, as the references they restore would have.
async fn a_deleted_hosts_usage_keeps_its_id(backend: Backend) {
    use codex_central_store::entities::usage_ingests;
    use codex_central_store::usage_records::Report;
    use sea_orm::EntityTrait;

    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    let host = codex_central_store::hosts::insert(
        store.db(),
        crate::testkit::host_row("gone.example.com", 'g'),
    )
    .await
    .unwrap();
    let mut rng = Lcg(5);
    let mut row = record(&mut rng, 0);
    row.host_id = Some(host.id);
    row.ingest_id = "gone".into();
    let report = Report {
        envelope: Some(usage_ingests::Model {
            id: "gone".into(),
            source: "host".into(),
            host_id: Some(host.id),
            ..Default::default()
        }),
        records: vec![row],
    };
    usage_records::insert_reports(&store, &[report])
        .await
        .unwrap();
    assert!(
        codex_central_store::hosts::delete(store.db(), host.id)
            .await
            .unwrap()
    );
    let hosts_of = |store: Store| async move {
        let envelope = usage_ingests::Entity::find_by_id("gone")
            .one(store.db())
            .await
            .unwrap()
            .unwrap();
        let records = codex_central_store::entities::usage_records::Entity::find()
            .all(store.db())
            .await
            .unwrap();
        assert_eq!(records.len(), 1, "the row is kept");
        (envelope.host_id, records[0].host_id)
    };
    assert_eq!(
        hosts_of(store.clone()).await,
        (Some(host.id), Some(host.id))
    );
    Migrator::down(store.db(), Some(2)).await.unwrap();
    assert_eq!(hosts_of(store.clone()).await, (None, None));
    Migrator::up(store.db(), None).await.unwrap();
    assert_eq!(hosts_of(store.clone()).await, (None, None));
    store.close().await.unwrap();
}

on_all_backends!(a_deleted_hosts_usage_keeps_its_id);
