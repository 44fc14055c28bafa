//! Message connectors and the development mailbox in D1.
use super::{query_as, query_one, Db, StoreError, Value};

#[derive(Debug, Clone)]
pub struct ConnectorRow {
    pub id: String,
    pub connector_id: String,
    pub channel: String,
    pub config: String,
    /// Logto's `metadata` as JSON text (`{target, name, logo}` for a social connector).
    pub metadata: String,
    /// A social connector's `metadata.target`, unique among them.
    pub target: Option<String>,
    pub created_at: i64,
}
crate::from_row!(ConnectorRow { id, connector_id, channel = "type", config, metadata, target, created_at });

const CONNECTOR: &str =
    "SELECT id, connector_id, type, config, metadata, target, created_at FROM connectors";

/// Inserts a connector; a social target another connector has fails on its unique index.
pub async fn insert_connector(db: &impl Db, c: &ConnectorRow) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO connectors (id, connector_id, type, config, metadata, target, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            c.id.as_str().into(),
            c.connector_id.as_str().into(),
            c.channel.as_str().into(),
            c.config.as_str().into(),
            c.metadata.as_str().into(),
            c.target.as_deref().into(),
            c.created_at.into(),
        ],
    )
    .await
    .map(|_| ())
}

/// Replaces a connector's config and metadata.
pub async fn update_connector(db: &impl Db, c: &ConnectorRow) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE connectors SET config = ?2, metadata = ?3, target = ?4 WHERE id = ?1",
            &[
                c.id.as_str().into(),
                c.config.as_str().into(),
                c.metadata.as_str().into(),
                c.target.as_deref().into(),
            ],
        )
        .await?
        > 0)
}

pub async fn connector(db: &impl Db, id: &str) -> Result<Option<ConnectorRow>, StoreError> {
    query_one(db, &format!("{CONNECTOR} WHERE id = ?1"), &[id.into()]).await
}

pub async fn connectors(db: &impl Db) -> Result<Vec<ConnectorRow>, StoreError> {
    query_as(db, &format!("{CONNECTOR} ORDER BY created_at, id"), &[]).await
}

/// The connector for a channel (`Email` or `Sms`): the newest one.
pub async fn connector_for(
    db: &impl Db,
    channel: &str,
) -> Result<Option<ConnectorRow>, StoreError> {
    query_one(
        db,
        &format!("{CONNECTOR} WHERE type = ?1 ORDER BY created_at DESC, id LIMIT 1"),
        &[channel.into()],
    )
    .await
}

pub async fn delete_connector(db: &impl Db, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute("DELETE FROM connectors WHERE id = ?1", &[id.into()])
        .await?
        > 0)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MailRow {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub usage: String,
    pub created_at: i64,
}
crate::from_row!(MailRow {
    id,
    channel,
    recipient,
    subject,
    body,
    usage,
    created_at
});

pub async fn deliver_to_mailbox(db: &impl Db, m: &MailRow) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO dev_mailbox (id, channel, recipient, subject, body, usage, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            m.id.as_str().into(), m.channel.as_str().into(), m.recipient.as_str().into(), m.subject.as_str().into(),
            m.body.as_str().into(), m.usage.as_str().into(), m.created_at.into(),
        ],
    )
    .await
    .map(|_| ())
}

/// The newest messages first, optionally for one recipient.
pub async fn mailbox(
    db: &impl Db,
    recipient: Option<&str>,
    limit: i64,
) -> Result<Vec<MailRow>, StoreError> {
    query_as(
        db,
        "SELECT id, channel, recipient, subject, body, usage, created_at FROM dev_mailbox \
         WHERE (?1 IS NULL OR recipient = ?1) ORDER BY created_at DESC, rowid DESC LIMIT ?2",
        &[Value::from(recipient), limit.into()],
    )
    .await
}
