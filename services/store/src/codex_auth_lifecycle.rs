//! The canonical auth.json's refresh and validation state (one row, id = 1, created by the
//! migration). Claiming a refresh token is a compare-and-set, so two replicas never spend the
//! same token; the identity provider's answer is kept here before the new document is written,
//! so a crash between the two loses nothing.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter};

use crate::entities::codex_auth_lifecycle::{Column, Entity, Model};
use crate::{Error, Result};

const ROW_ID: i32 = 1;

pub async fn get(db: &impl ConnectionTrait) -> Result<Model> {
    Entity::find_by_id(ROW_ID)
        .one(db)
        .await?
        .ok_or_else(|| Error::Corrupt("the codex_auth_lifecycle row is missing".into()))
}

fn row() -> sea_orm::UpdateMany<Entity> {
    Entity::update_many().filter(Column::Id.eq(ROW_ID))
}

/// Claims the refresh token `token_sha` for `holder` when no attempt is in flight. Returns
/// whether the claim was taken; only the claimant may send the token.
pub async fn claim(
    db: &impl ConnectionTrait,
    token_sha: &str,
    holder: &str,
    now: i64,
) -> Result<bool> {
    let res = row()
        .col_expr(Column::InFlightTokenSha, Expr::value(token_sha))
        .col_expr(Column::InFlightHolder, Expr::value(holder))
        .col_expr(Column::InFlightAt, Expr::value(now))
        .col_expr(Column::LastAttemptAt, Expr::value(now))
        .filter(Column::InFlightTokenSha.eq(""))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Keeps the identity provider's answer (encrypted) for the token `token_sha`. Written whatever
/// happened to the claim meanwhile: the answer holds the only valid refresh token now.
pub async fn keep_answer(
    db: &impl ConnectionTrait,
    token_sha: &str,
    answer_enc: String,
    now: i64,
) -> Result<()> {
    row()
        .col_expr(Column::InFlightTokenSha, Expr::value(token_sha))
        .col_expr(Column::PendingAnswerEnc, Expr::value(answer_enc))
        .col_expr(Column::PendingAt, Expr::value(now))
        .exec(db)
        .await?;
    Ok(())
}

/// A refresh committed: the claim and the kept answer go, errors and backoff are cleared.
/// Call it in the transaction that writes the new document.
pub async fn succeeded(db: &impl ConnectionTrait, now: i64) -> Result<()> {
    release(row())
        .col_expr(Column::LastSuccessAt, Expr::value(now))
        .col_expr(Column::LastErrorCode, Expr::value(""))
        .col_expr(Column::LastError, Expr::value(""))
        .col_expr(Column::ConsecutiveFailures, Expr::value(0))
        .col_expr(Column::NextAttemptAt, Expr::value(Option::<i64>::None))
        .col_expr(Column::BlockedTokenSha, Expr::value(""))
        .exec(db)
        .await?;
    Ok(())
}

/// Why an attempt failed and what follows from it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: String,
    pub message: String,
    /// The token the server must not send again by itself (rejected, or possibly consumed).
    pub block_token_sha: Option<String>,
    /// No automatic attempt before this instant.
    pub next_attempt_at: Option<i64>,
}

/// An attempt failed: the claim and any kept answer go, the error is recorded.
pub async fn failed(db: &impl ConnectionTrait, failure: Failure) -> Result<()> {
    let mut update = release(row())
        .col_expr(Column::LastErrorCode, Expr::value(failure.code))
        .col_expr(Column::LastError, Expr::value(failure.message))
        .col_expr(
            Column::ConsecutiveFailures,
            Expr::col(Column::ConsecutiveFailures).add(1),
        )
        .col_expr(Column::NextAttemptAt, Expr::value(failure.next_attempt_at));
    if let Some(sha) = failure.block_token_sha {
        update = update.col_expr(Column::BlockedTokenSha, Expr::value(sha));
    }
    update.exec(db).await?;
    Ok(())
}

/// Drops the claim and a kept answer without recording anything (nothing was spent, or the
/// answer no longer applies because another document replaced the one it was for).
pub async fn abandon(db: &impl ConnectionTrait) -> Result<()> {
    release(row()).exec(db).await?;
    Ok(())
}

fn release(update: sea_orm::UpdateMany<Entity>) -> sea_orm::UpdateMany<Entity> {
    update
        .col_expr(Column::InFlightTokenSha, Expr::value(""))
        .col_expr(Column::InFlightHolder, Expr::value(""))
        .col_expr(Column::InFlightAt, Expr::value(Option::<i64>::None))
        .col_expr(Column::PendingAnswerEnc, Expr::value(""))
        .col_expr(Column::PendingAt, Expr::value(Option::<i64>::None))
}

/// The outcome of a validation, as shown to operators.
#[derive(Debug, Clone)]
pub struct Validation {
    pub state: String,
    pub reason: String,
    pub at: i64,
    pub latency_ms: i64,
    pub probe_ran: bool,
    pub applied: bool,
}

pub async fn validated(db: &impl ConnectionTrait, v: Validation) -> Result<()> {
    row()
        .col_expr(Column::ValidationState, Expr::value(v.state))
        .col_expr(Column::ValidationReason, Expr::value(v.reason))
        .col_expr(Column::ValidationAt, Expr::value(v.at))
        .col_expr(Column::ValidationLatencyMs, Expr::value(v.latency_ms))
        .col_expr(Column::ValidationProbeRan, Expr::value(v.probe_ran))
        .col_expr(Column::ValidationApplied, Expr::value(v.applied))
        .exec(db)
        .await?;
    Ok(())
}
