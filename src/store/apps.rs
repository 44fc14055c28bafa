//! Applications (OIDC clients) in D1.
use super::{query_as, query_one, Db, StoreError, Value};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AppType {
    Traditional,
    #[serde(rename = "SPA")]
    Spa,
    Native,
    MachineToMachine,
}
crate::column_enum!(AppType {
    Traditional = "Traditional",
    Spa = "SPA",
    Native = "Native",
    MachineToMachine = "MachineToMachine",
});

impl AppType {
    pub fn as_str(self) -> &'static str {
        match self {
            AppType::Traditional => "Traditional",
            AppType::Spa => "SPA",
            AppType::Native => "Native",
            AppType::MachineToMachine => "MachineToMachine",
        }
    }

    /// Confidential clients hold a secret; public ones (SPA, Native) cannot keep one.
    pub fn is_confidential(self) -> bool {
        matches!(self, AppType::Traditional | AppType::MachineToMachine)
    }
}

// Stored JSON, read column by column (`store::FromRow`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcClientMetadata {
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
}
impl super::FromRow for OidcClientMetadata {
    fn from_row(r: &super::Row) -> Result<Self, StoreError> {
        crate::cols!(r, OidcClientMetadata { redirect_uris = "redirectUris": or_default, post_logout_redirect_uris = "postLogoutRedirectUris": or_default, backchannel_logout_uri = "backchannelLogoutUri", backchannel_logout_session_required = "backchannelLogoutSessionRequired": or_default })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomClientMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl_in_days: Option<u32>,
}
crate::from_row!(CustomClientMetadata { refresh_token_ttl_in_days = "refreshTokenTtlInDays" });

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub app_type: AppType,
    pub secret_hash: Option<String>,
    pub oidc: OidcClientMetadata,
    pub custom: CustomClientMetadata,
    pub is_third_party: bool,
    pub created_at: i64,
}

struct AppRow {
    id: String,
    name: String,
    description: Option<String>,
    app_type: String,
    secret_hash: Option<String>,
    oidc_client_metadata: String,
    custom_client_metadata: String,
    is_third_party: i64,
    created_at: i64,
}
crate::from_row!(AppRow { id, name, description, app_type = "type", secret_hash, oidc_client_metadata, custom_client_metadata, is_third_party, created_at });

impl TryFrom<AppRow> for Application {
    type Error = StoreError;
    fn try_from(r: AppRow) -> Result<Self, StoreError> {
        let decode = |e: StoreError| StoreError::Decode(format!("application {}: {e}", r.id));
        Ok(Application {
            app_type: super::Column::column(Some(&serde_json::Value::String(r.app_type.clone())))
                .ok_or_else(|| StoreError::Decode(format!("application {}: type", r.id)))?,
            oidc: super::parse_object(&r.oidc_client_metadata).map_err(decode)?,
            custom: super::parse_object(&r.custom_client_metadata).map_err(decode)?,
            is_third_party: r.is_third_party != 0,
            id: r.id,
            name: r.name,
            description: r.description,
            secret_hash: r.secret_hash,
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str = "id, name, description, type, secret_hash, oidc_client_metadata, \
                       custom_client_metadata, is_third_party, created_at";

fn json(v: &impl Serialize) -> Result<Value, StoreError> {
    serde_json::to_string(v)
        .map(Value::Text)
        .map_err(|e| StoreError::Decode(e.to_string()))
}

fn params(a: &Application) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        a.id.as_str().into(),
        a.name.as_str().into(),
        a.description.clone().into(),
        a.app_type.as_str().into(),
        a.secret_hash.clone().into(),
        json(&a.oidc)?,
        json(&a.custom)?,
        a.is_third_party.into(),
        a.created_at.into(),
    ])
}

pub async fn insert(db: &impl Db, a: &Application) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO applications (id, name, description, type, secret_hash, oidc_client_metadata, \
         custom_client_metadata, is_third_party, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &params(a)?,
    )
    .await
    .map(|_| ())
}

/// Writes every mutable column of `a`; false if it no longer exists.
pub async fn update(db: &impl Db, a: &Application) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "UPDATE applications SET name = ?2, description = ?3, type = ?4, secret_hash = ?5, \
             oidc_client_metadata = ?6, custom_client_metadata = ?7, is_third_party = ?8, \
             created_at = ?9 WHERE id = ?1",
            &params(a)?,
        )
        .await?;
    Ok(n > 0)
}

pub async fn get(db: &impl Db, id: &str) -> Result<Option<Application>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = ?1");
    query_one::<AppRow>(db, &sql, &[id.into()])
        .await?
        .map(Application::try_from)
        .transpose()
}

/// One page, newest first, and the total count.
pub async fn list(
    db: &impl Db,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Application>, i64), StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications ORDER BY created_at DESC, id LIMIT ?1 OFFSET ?2"
    );
    let rows = query_as::<AppRow>(db, &sql, &[limit.into(), offset.into()]).await?;
    let apps = rows
        .into_iter()
        .map(Application::try_from)
        .collect::<Result<_, _>>()?;
    Ok((
        apps,
        super::count(db, "SELECT COUNT(*) AS n FROM applications", &[]).await?,
    ))
}

pub async fn delete(db: &impl Db, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute("DELETE FROM applications WHERE id = ?1", &[id.into()])
        .await?
        > 0)
}
crate::to_value_via_serde!(AppType, OidcClientMetadata, CustomClientMetadata);
