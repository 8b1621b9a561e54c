//! Alerts raised on budgets and quota, and their webhook delivery log. An alert is unique per
//! subject, metric, threshold and window: replicas that see the same crossing race to insert
//! it and the losers learn it was raised already. The alert, its audit row and its first
//! delivery attempts commit together, so an alert is never announced without its record.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use crate::audit::{self, NewAuditEvent};
use crate::entities::alert_deliveries::{self, Model as Delivery};
use crate::entities::usage_alerts::{ActiveModel, Column, Entity, Model as Alert};
use crate::{Error, Result, Store};

/// Stores `alert` with its audit event and one pending delivery per webhook URL. None when the
/// same crossing was raised before (by this replica or another).
pub async fn raise(
    store: &Store,
    alert: Alert,
    event: NewAuditEvent,
    webhooks: &[String],
) -> Result<Option<Alert>> {
    let txn = store.begin_write().await?;
    // First statement of the transaction: on PostgreSQL a failed one ends it, and there is
    // nothing else to keep.
    match Entity::insert(ActiveModel::from(alert.clone()))
        .exec_without_returning(&txn)
        .await
    {
        Ok(_) => {}
        Err(err)
            if matches!(
                err.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(None);
        }
        Err(err) => return Err(Error::Db(err)),
    }
    audit::append(&txn, event).await?;
    for url in webhooks {
        alert_deliveries::ActiveModel::from(Delivery {
            id: uuid::Uuid::now_v7().to_string(),
            alert_id: alert.id.clone(),
            url: url.clone(),
            attempt: 1,
            status: "pending".into(),
            due_at: alert.raised_at,
            attempted_at: None,
            status_code: None,
            error: String::new(),
            duration_ms: 0,
            created_at: alert.raised_at,
        })
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Some(alert))
}

/// Which alerts a page holds.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this person's (token and user alerts; fleet alerts have no person).
    pub user_id: Option<String>,
    /// Only alerts not acknowledged whose window has not ended by this time.
    pub active_at: Option<i64>,
    /// After this (raised_at, id) position, newest first.
    pub before: Option<(i64, String)>,
}

pub async fn list(store: &Store, filter: &AlertFilter, limit: u64) -> Result<Vec<Alert>> {
    let mut q = Entity::find();
    if let Some(user) = &filter.user_id {
        q = q.filter(Column::UserId.eq(user.as_str()));
    }
    if let Some(at) = filter.active_at {
        q = q
            .filter(Column::AcknowledgedAt.is_null())
            .filter(Column::WindowEnd.gt(at));
    }
    if let Some((at, id)) = &filter.before {
        q = q.filter(
            Condition::any().add(Column::RaisedAt.lt(*at)).add(
                Condition::all()
                    .add(Column::RaisedAt.eq(*at))
                    .add(Column::Id.lt(id.as_str())),
            ),
        );
    }
    Ok(q.order_by_desc(Column::RaisedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}

/// The alert with the highest threshold of a subject's metric among windows ending within
/// `ends` (inclusive), if any.
pub async fn highest_in_window(
    store: &Store,
    scope: &str,
    subject_id: &str,
    metric: &str,
    ends: (i64, i64),
) -> Result<Option<Alert>> {
    Ok(Entity::find()
        .filter(Column::Scope.eq(scope))
        .filter(Column::SubjectId.eq(subject_id))
        .filter(Column::Metric.eq(metric))
        .filter(Column::WindowEnd.between(ends.0, ends.1))
        .order_by_desc(Column::Threshold)
        .one(store.db())
        .await?)
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Alert>> {
    Ok(Entity::find_by_id(id).one(store.db()).await?)
}

/// Marks an alert seen (the flag goes down); an alert acknowledged before keeps its first
/// acknowledgement. None when there is no such alert.
pub async fn acknowledge(
    store: &Store,
    id: &str,
    by: &str,
    at: i64,
    event: NewAuditEvent,
) -> Result<Option<Alert>> {
    let txn = store.begin_write().await?;
    let Some(alert) = Entity::find_by_id(id).one(&txn).await? else {
        return Ok(None);
    };
    if alert.acknowledged_at.is_some() {
        return Ok(Some(alert));
    }
    let mut active = ActiveModel::from(alert);
    active.acknowledged_at = Set(Some(at));
    active.acknowledged_by = Set(by.chars().take(64).collect());
    let saved = active.update(&txn).await?;
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(Some(saved))
}

/// Deliveries due by `now`, oldest first, with their alerts.
pub async fn due_deliveries(
    store: &Store,
    now: i64,
    limit: u64,
) -> Result<Vec<(Delivery, Option<Alert>)>> {
    Ok(alert_deliveries::Entity::find()
        .filter(alert_deliveries::Column::Status.eq("pending"))
        .filter(alert_deliveries::Column::DueAt.lte(now))
        .order_by_asc(alert_deliveries::Column::DueAt)
        .limit(limit)
        .find_also_related(Entity)
        .all(store.db())
        .await?)
}

/// What one attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    /// delivered, failed (a retry is due at `retry_at`) or abandoned.
    pub status: &'static str,
    pub attempted_at: i64,
    pub status_code: Option<i32>,
    pub error: String,
    pub duration_ms: i64,
    pub retry_at: Option<i64>,
}

/// Records an attempt on its row and, when it is retried, adds the next attempt's row.
pub async fn finish_delivery(
    store: &Store,
    delivery: Delivery,
    attempted: Attempted,
) -> Result<()> {
    let txn = store.begin_write().await?;
    let next = attempted.retry_at.map(|due| Delivery {
        id: uuid::Uuid::now_v7().to_string(),
        alert_id: delivery.alert_id.clone(),
        url: delivery.url.clone(),
        attempt: delivery.attempt.saturating_add(1),
        status: "pending".into(),
        due_at: due,
        attempted_at: None,
        status_code: None,
        error: String::new(),
        duration_ms: 0,
        created_at: attempted.attempted_at,
    });
    let mut row = alert_deliveries::ActiveModel::from(delivery);
    row.status = Set(attempted.status.into());
    row.attempted_at = Set(Some(attempted.attempted_at));
    row.status_code = Set(attempted.status_code);
    row.error = Set(attempted.error.chars().take(500).collect());
    row.duration_ms = Set(attempted.duration_ms);
    row.update(&txn).await?;
    if let Some(next) = next {
        alert_deliveries::ActiveModel::from(next)
            .insert(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The delivery log, newest first: every attempt of one alert, or of all of them.
pub async fn list_deliveries(
    store: &Store,
    alert_id: Option<&str>,
    before: Option<(i64, String)>,
    limit: u64,
) -> Result<Vec<Delivery>> {
    use alert_deliveries::Column as C;
    let mut q = alert_deliveries::Entity::find();
    if let Some(alert) = alert_id {
        q = q.filter(C::AlertId.eq(alert));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            Condition::any()
                .add(C::CreatedAt.lt(at))
                .add(Condition::all().add(C::CreatedAt.eq(at)).add(C::Id.lt(id))),
        );
    }
    Ok(q.order_by_desc(C::CreatedAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}
