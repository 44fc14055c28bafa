//! The interaction an experience step works on: the browser's `/oidc/auth` request, its
//! app, the experience state saved with it, and the settings in force.
use super::settings::Settings;
use super::state::{Event, State};
use super::{load_settings, policy, Failure};
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::error::FlowError;
use crate::oidc::interaction::current_interaction;
use crate::store::interactions as repo;
use crate::store::oidc::from_json;
use crate::store::{Db, Kv, StoreError};

/// The interaction of this browser and its experience state.
pub struct Current {
    pub interaction_id: String,
    pub client_id: String,
    pub app_name: String,
    pub request: AuthRequest,
    pub state: State,
    pub settings: Settings,
}

impl Current {
    /// Whether `way` is open for this interaction (settings and the request's `identifier`).
    pub fn allow(&self, way: policy::Way) -> Result<(), Failure> {
        Ok(policy::allow(
            &self.settings,
            &self.request.identifiers,
            way,
        )?)
    }
}

/// The interaction with id `interaction_id` (from the browser's cookie), if it is live.
pub async fn load<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    interaction_id: Option<&str>,
) -> Result<Current, Failure> {
    let found = match current_interaction(ctx, interaction_id).await {
        Ok(found) => found,
        Err(FlowError::Internal(e)) => return Err(Failure::Internal(e)),
        Err(FlowError::Show(_)) => return Err(Failure::NoInteraction),
    };
    let state = match &found.row.experience {
        Some(s) => from_json(s)?,
        None => State::default(),
    };
    Ok(Current {
        interaction_id: found.row.id,
        client_id: found.app.id,
        app_name: found.app.name,
        request: found.request,
        state,
        settings: load_settings(ctx.db).await?,
    })
}

pub async fn save<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, c: &Current) -> Result<(), Failure> {
    let raw = serde_json::to_string(&c.state).map_err(|e| StoreError::Decode(e.to_string()))?;
    repo::set_interaction_experience(ctx.db, &c.interaction_id, &raw).await?;
    Ok(())
}

/// `PUT /experience`: registration and sign-in are refused by every route when disabled.
pub fn start(c: &mut Current, event: Event) -> Result<(), Failure> {
    match event {
        Event::Register if !c.settings.registration_allowed() => {
            return Err(policy::Refusal::RegistrationClosed.into())
        }
        Event::SignIn | Event::ForgotPassword if !c.settings.sign_in_allowed() => {
            return Err(policy::Refusal::SignInClosed.into())
        }
        _ => {}
    }
    c.state.start(event);
    Ok(())
}

/// The language for this interaction: `ui_locales`, then `Accept-Language` (if the settings
/// auto-detect), then the settings' fallback.
pub fn language(c: &Current, accept_language: Option<&str>) -> Lang {
    let accept = if c.settings.language_info.auto_detect {
        accept_language
    } else {
        None
    };
    Lang::pick(
        c.request.ui_locales.as_deref(),
        accept,
        &c.settings.language_info.fallback_language,
    )
}
