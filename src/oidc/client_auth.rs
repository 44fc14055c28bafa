//! Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
//! `client_secret_post`, or `none` (a `client_id` alone, for public clients).
use super::error::{ErrorCode, OAuthError};
use crate::crypto::secret::{self, Secret};
use crate::ctx::Ctx;
use crate::store::apps::{AppType, Application};
use crate::store::{Db, Kv};

/// The parameters of a token-endpoint request, as the face decoded them from its form body;
/// parameters other than `resource` must not repeat (§3.2).
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// Parses an `application/x-www-form-urlencoded` body of at most
    /// [`super::authorize::MAX_PARAMS`] parameters.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
            .take(super::authorize::MAX_PARAMS + 1)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.len() > super::authorize::MAX_PARAMS {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "at most {} parameters are accepted",
                    super::authorize::MAX_PARAMS
                ),
            ));
        }
        Ok(Self { pairs })
    }

    /// The single value of `name`; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                format!("{name} must not be repeated"),
            ));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// An authenticated client.
#[derive(Debug)]
pub enum Client {
    /// The bootstrap machine-to-machine app from `ADMIN_CLIENT_ID` / `ADMIN_CLIENT_SECRET`.
    Admin {
        id: String,
    },
    App(Application),
}

impl Client {
    pub fn id(&self) -> &str {
        match self {
            Client::Admin { id } => id,
            Client::App(a) => &a.id,
        }
    }

    pub fn app_type(&self) -> AppType {
        match self {
            Client::Admin { .. } => AppType::MachineToMachine,
            Client::App(a) => a.app_type,
        }
    }
}

/// The credentials a client presented: an HTTP Basic `Authorization` header (decoded by
/// the face, §2.3.1) and the form's `client_id` / `client_secret`.
pub enum Presented {
    Basic { id: String, secret: Secret },
    Post { id: String, secret: Secret },
    None { id: String },
}

fn invalid_client(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

impl Presented {
    /// One authentication method only (§2.3): Basic, or the form's secret, or a bare
    /// `client_id` for a public client.
    pub fn from_parts(basic: Option<(String, Secret)>, form: &Form) -> Result<Self, OAuthError> {
        let form_id = form.get("client_id")?;
        let form_secret = form.get("client_secret")?;
        if let Some((id, secret)) = basic {
            if form_secret.is_some() {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "use only one client authentication method",
                ));
            }
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "client_id does not match the authorization header",
                ));
            }
            return Ok(Presented::Basic { id, secret });
        }
        match (form_id, form_secret) {
            (Some(id), Some(secret)) => Ok(Presented::Post {
                id: id.to_owned(),
                secret: Secret::new(secret),
            }),
            (Some(id), None) => Ok(Presented::None { id: id.to_owned() }),
            (None, _) => Err(invalid_client("client authentication is required")),
        }
    }
}

/// Authenticates the client of a token request.
pub async fn authenticate<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    presented: Presented,
) -> Result<Client, OAuthError> {
    let failed = || invalid_client("client authentication failed");
    // The account pages' own app signs people in and never redeems what comes back: a code
    // it was issued gets no tokens, whoever holds it.
    let (Presented::Basic { id, .. } | Presented::Post { id, .. } | Presented::None { id }) =
        &presented;
    if id == super::clients::ACCOUNT_APP {
        return Err(failed());
    }
    match presented {
        Presented::Basic { id, secret } | Presented::Post { id, secret } => {
            if id == ctx.config.admin_client_id {
                let ok = secret::constant_time_eq(
                    secret.expose().as_bytes(),
                    ctx.config.admin_client_secret.as_bytes(),
                );
                return if ok {
                    Ok(Client::Admin { id })
                } else {
                    Err(failed())
                };
            }
            let app = super::clients::find(ctx, &id).await?.ok_or_else(failed)?;
            match &app.secret_hash {
                Some(stored) if secret::verify(&secret, stored) => Ok(Client::App(app)),
                _ => Err(failed()),
            }
        }
        Presented::None { id } => {
            let app = super::clients::find(ctx, &id).await?.ok_or_else(failed)?;
            if app.app_type.is_confidential() {
                return Err(invalid_client(
                    "this client must authenticate with its secret",
                ));
            }
            Ok(Client::App(app))
        }
    }
}
