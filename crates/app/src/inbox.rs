//! The in-app inbox: delivering due notifications from the outbox, reading them, marking them read.
use crate::jobs::LEASE_MS;
use crate::keys::BATCH;
use crate::{App, Ctx, Result};
use shouhou_store::inbox::{self, Notification};
use shouhou_store::outbox;
use shouhou_store::{Page, PageRequest};

// ---------- the outbox ----------

/// Deliver what the outbox holds for the `inbox` channel and is due: the notification row is
/// itself the delivery, so dispatching stamps `dispatched_at`. Other channels get their own
/// dispatcher with the same claim–deliver–mark steps. Answers how many rows were dispatched.
#[tracing::instrument(skip_all, fields(instance = instance))]
pub async fn dispatch_outbox(app: &App, instance: &str) -> Result<u64> {
    let mut dispatched = 0;
    loop {
        let now = app.now();
        let claimed = {
            let mut tx = app.db.begin().await?;
            let rows = outbox::claim_outbox(&mut tx.conn(), "inbox", now, instance, LEASE_MS, BATCH).await?;
            tx.commit().await?;
            rows
        };
        if claimed.is_empty() {
            break;
        }
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        for row in &claimed {
            if outbox::mark_dispatched(&mut c, row.id, instance, now).await? {
                dispatched += 1;
            }
        }
        tx.commit().await?;
        if (claimed.len() as i64) < BATCH {
            break;
        }
    }
    Ok(dispatched)
}

// ---------- the inbox ----------

/// The caller's delivered notifications, newest first.
#[tracing::instrument(skip_all)]
pub async fn inbox(app: &App, ctx: &Ctx, page: PageRequest) -> Result<Page<Notification>> {
    let me = ctx.actor()?.id.0;
    let mut rd = app.db.read().await?;
    Ok(inbox::inbox(&mut rd.conn(), me, app.now(), page).await?)
}

/// Delivered, unread notifications of the caller: the counter in the page header.
#[tracing::instrument(skip_all)]
pub async fn unread_count(app: &App, ctx: &Ctx) -> Result<i64> {
    let me = ctx.actor()?.id.0;
    let mut rd = app.db.read().await?;
    Ok(inbox::unread_count(&mut rd.conn(), me, app.now()).await?)
}

/// Mark one of the caller's notifications read; 404 for anyone else's and for one not yet
/// delivered. Personal reading state, so not audited.
#[tracing::instrument(skip_all)]
pub async fn mark_read(app: &App, ctx: &Ctx, id: i64) -> Result<()> {
    let me = ctx.actor()?.id.0;
    let mut tx = app.db.begin().await?;
    inbox::mark_read(&mut tx.conn(), me, id, app.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Mark all of the caller's delivered notifications read; answers how many were unread.
#[tracing::instrument(skip_all)]
pub async fn mark_all_read(app: &App, ctx: &Ctx) -> Result<u64> {
    let me = ctx.actor()?.id.0;
    let mut tx = app.db.begin().await?;
    let n = inbox::mark_all_read(&mut tx.conn(), me, app.now()).await?;
    tx.commit().await?;
    Ok(n)
}

/// Put a (not urgent) inbox notification for each of `users`, due now, in the caller's transaction.
pub(crate) async fn notify_users(
    c: &mut shouhou_store::Conn<'_>,
    users: &[i64],
    kind: &str,
    title: &str,
    body: &str,
    link: &str,
    now: i64,
) -> Result<()> {
    notify(c, users, kind, title, body, link, false, now).await
}

/// [`notify_users`], urgent or not (an urgent one is also pushed to the user's other channels).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn notify(
    c: &mut shouhou_store::Conn<'_>,
    users: &[i64],
    kind: &str,
    title: &str,
    body: &str,
    link: &str,
    urgent: bool,
    now: i64,
) -> Result<()> {
    for user in users {
        let n =
            inbox::NewNotification { user_id: *user, kind, title, body, link: Some(link), urgent, deliver_after: now };
        inbox::insert_notification(c, &n, &["inbox"], now).await?;
    }
    Ok(())
}
