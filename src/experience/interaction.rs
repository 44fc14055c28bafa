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
use crate::store::{Db, Kv, Statement, StoreError};

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
        // A state this version cannot read (saved by an older one) is an expired interaction.
        Some(s) => crate::store::parse_object(s).map_err(|_| Failure::NoInteraction)?,
        None => State::default(),
    };
    Ok(Current {
        interaction_id: found.row.id,
        client_id: found.app.id,
        app_name: found.app.name,
        request: found.request,
        state,
        settings: load_settings(ctx).await?,
    })
}

pub async fn save<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, c: &Current) -> Result<(), Failure> {
    crate::store::transaction(ctx.db, &[save_statement(c)?]).await?;
    Ok(())
}

/// [`save`] as a statement, for a transaction of the caller's.
pub fn save_statement(c: &Current) -> Result<Statement, Failure> {
    let raw = serde_json::to_string(&c.state).map_err(|e| StoreError::Decode(e.to_string()))?;
    Ok(repo::experience_statement(&c.interaction_id, &raw))
}

/// `PUT /experience`: registration and sign-in are refused by every route when disabled.
pub fn start(c: &mut Current, event: Event) -> Result<(), Failure> {
    policy::event_open(&c.settings, event)?;
    c.state.start(event);
    Ok(())
}

/// `PUT /experience/interaction-event`: switches the event, keeping a checked social
/// identity.
pub fn switch(c: &mut Current, event: Event) -> Result<(), Failure> {
    policy::event_open(&c.settings, event)?;
    c.state.switch(event);
    Ok(())
}

/// The hosted form's terms checkbox: required by the settings for this event, it must be
/// ticked before anything is sent or created; the answer is kept for the submission.
pub fn agree_to_terms(c: &mut Current, agreed: bool) -> Result<(), Failure> {
    let registering = c.state.event == Some(Event::Register);
    if c.settings.terms_required(registering) && !agreed {
        return Err(Failure::TermsNotAgreed);
    }
    c.state.agreed_terms = agreed;
    Ok(())
}

/// The first step of an identifier-first sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstStep {
    /// Send a one-time code to the address.
    SendCode,
    /// Check the password.
    Password,
}

/// Identifier first: an email address or phone number without a password gets a code where
/// codes are a way in for it; everything else is a password sign-in.
pub fn first_step(
    c: &Current,
    kind: crate::identity::Identifier,
    password_given: bool,
) -> FirstStep {
    let code_way = kind.channel().map(|channel| policy::Way::Code {
        event: Event::SignIn,
        channel,
        completing: false,
    });
    if !password_given && code_way.is_some_and(|w| c.allow(w).is_ok()) {
        FirstStep::SendCode
    } else {
        FirstStep::Password
    }
}

/// The language for this interaction: `ui_locales`, then the browser's languages (if the
/// settings auto-detect), then the settings' fallback.
pub fn language(c: &Current, accepted: &[String]) -> Lang {
    let accept: &[String] = if c.settings.language_info.auto_detect {
        accepted
    } else {
        &[]
    };
    Lang::pick(
        c.request.ui_locales.as_deref(),
        accept,
        &c.settings.language_info.fallback_language,
    )
}
