//! Fixed one-minute windows counting requests and tokens per subject (a token id). Increments
//! are single upserts (`count + n`), so every replica counts into the same row atomically.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entities::rate_windows::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

pub const WINDOW_MS: i64 = 60_000;

/// The start of the window holding `now`.
pub fn window_of(now: i64) -> i64 {
    now - now.rem_euclid(WINDOW_MS)
}

/// Adds `requests` and `tokens` to the subject's current window; returns the window after it.
pub async fn add(
    store: &Store,
    subject: &str,
    now: i64,
    requests: i64,
    tokens: i64,
) -> Result<Model> {
    let window = window_of(now);
    Entity::insert(ActiveModel {
        subject: Set(subject.to_string()),
        window_start: Set(window),
        requests: Set(requests),
        tokens: Set(tokens),
    })
    .on_conflict(
        OnConflict::columns([Column::Subject, Column::WindowStart])
            .value(
                Column::Requests,
                Expr::col((Entity, Column::Requests)).add(requests),
            )
            .value(
                Column::Tokens,
                Expr::col((Entity, Column::Tokens)).add(tokens),
            )
            .to_owned(),
    )
    .exec(store.db())
    .await?;
    Ok(Entity::find_by_id((subject.to_string(), window))
        .one(store.db())
        .await?
        .unwrap_or(Model {
            subject: subject.to_string(),
            window_start: window,
            requests,
            tokens,
        }))
}

/// Counts one request for the subject's current window if that keeps it within `max` (or
/// always, without a maximum). The increment and the check are one conditional `UPDATE`, so
/// concurrent callers on any replica never let more than `max` through. Returns whether the
/// request was counted, and the window as read afterwards.
pub async fn try_take(
    store: &Store,
    subject: &str,
    now: i64,
    max: Option<i64>,
) -> Result<(bool, Model)> {
    let window = window_of(now);
    Entity::insert(ActiveModel {
        subject: Set(subject.to_string()),
        window_start: Set(window),
        requests: Set(0),
        tokens: Set(0),
    })
    // "Already there" is fine; a no-op update keeps this portable (MySQL has no DO NOTHING).
    .on_conflict(
        OnConflict::columns([Column::Subject, Column::WindowStart])
            .update_column(Column::Subject)
            .to_owned(),
    )
    .exec(store.db())
    .await?;
    let mut q = Entity::update_many()
        .col_expr(Column::Requests, Expr::col(Column::Requests).add(1))
        .filter(Column::Subject.eq(subject))
        .filter(Column::WindowStart.eq(window));
    if let Some(max) = max {
        q = q.filter(Column::Requests.lt(max));
    }
    let taken = q.exec(store.db()).await?.rows_affected == 1;
    let row = Entity::find_by_id((subject.to_string(), window))
        .one(store.db())
        .await?
        .unwrap_or(Model {
            subject: subject.to_string(),
            window_start: window,
            requests: 0,
            tokens: 0,
        });
    Ok((taken, row))
}

/// Deletes windows that ended before `before`.
pub async fn prune(store: &Store, before: i64) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::WindowStart.lt(before - WINDOW_MS))
        .exec(store.db())
        .await?
        .rows_affected)
}
