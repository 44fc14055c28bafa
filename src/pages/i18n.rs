//! The hosted pages' words, in English and German. The language comes from `ui_locales`,
//! then `Accept-Language`, then the sign-in experience's fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_', ';'])
            .next()?
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    /// `ui_locales` (space-separated, in order of preference), then `Accept-Language` (by
    /// q-value), then `fallback`.
    pub fn pick(ui_locales: Option<&str>, accept_language: Option<&str>, fallback: &str) -> Lang {
        if let Some(l) = ui_locales.and_then(|u| u.split(' ').find_map(Lang::from_tag)) {
            return l;
        }
        if let Some(header) = accept_language {
            let mut tags: Vec<(f32, &str)> = header
                .split(',')
                .map(|part| {
                    let mut it = part.split(";q=");
                    let tag = it.next().unwrap_or_default();
                    let q = it.next().and_then(|q| q.trim().parse().ok()).unwrap_or(1.0);
                    (q, tag)
                })
                .collect();
            tags.sort_by(|a, b| b.0.total_cmp(&a.0));
            if let Some(l) = tags
                .iter()
                .filter(|(q, _)| *q > 0.0)
                .find_map(|(_, t)| Lang::from_tag(t))
            {
                return l;
            }
        }
        Lang::from_tag(fallback).unwrap_or(Lang::En)
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
        }
    }
}

pub struct Text {
    pub sign_in: &'static str,
    pub to_continue: &'static str,
    pub identifier: &'static str,
    pub password: &'static str,
    pub submit_sign_in: &'static str,
    pub no_account: &'static str,
    pub create_account: &'static str,
    pub register: &'static str,
    pub username: &'static str,
    pub new_password: &'static str,
    pub submit_register: &'static str,
    pub have_account: &'static str,
    pub agree_prefix: &'static str,
    pub terms: &'static str,
    pub privacy: &'static str,
    pub and: &'static str,
    pub wrong_credentials: &'static str,
    pub locked: &'static str,
    pub username_taken: &'static str,
    pub invalid_username: &'static str,
    pub weak_password: &'static str,
    pub terms_required: &'static str,
    pub registration_closed: &'static str,
    pub sign_in_closed: &'static str,
    pub something_wrong: &'static str,
    pub email: &'static str,
    pub send_code: &'static str,
    pub sign_in_with_code: &'static str,
    pub use_password: &'static str,
    pub forgot_password: &'static str,
    pub reset_title: &'static str,
    pub reset_intro: &'static str,
    pub verify_title: &'static str,
    pub verify_intro: &'static str,
    pub code: &'static str,
    pub continue_: &'static str,
    pub new_password_title: &'static str,
    pub save_password: &'static str,
    pub password_changed: &'static str,
    pub wrong_code: &'static str,
    pub code_expired: &'static str,
    pub resend_wait: &'static str,
    pub cannot_send: &'static str,
    pub no_account_found: &'static str,
    pub email_taken: &'static str,
    pub invalid_email: &'static str,
    pub email_or_phone: &'static str,
    pub phone: &'static str,
    pub code_hint: &'static str,
    pub consent_heading: &'static str,
    pub signed_in_as: &'static str,
    pub consent_intro: &'static str,
    pub cancel: &'static str,
    pub authorize: &'static str,
    pub sign_out: &'static str,
    pub sign_out_question: &'static str,
    pub sign_out_of: &'static str,
    pub stay_signed_in: &'static str,
    pub signed_out: &'static str,
    pub still_signed_in: &'static str,
    pub close_window: &'static str,
    pub scopes: [&'static str; 9],
    pub other_scope: &'static str,
    pub add_email: &'static str,
    pub add_email_intro: &'static str,
    pub add_username: &'static str,
    pub add_username_intro: &'static str,
}

const EN: Text = Text {
    sign_in: "Sign in",
    to_continue: "to continue to",
    identifier: "Username or email",
    password: "Password",
    submit_sign_in: "Sign in",
    no_account: "No account yet?",
    create_account: "Create account",
    register: "Create your account",
    username: "Username",
    new_password: "Password",
    submit_register: "Create account",
    have_account: "Already have an account?",
    agree_prefix: "I agree to the",
    terms: "Terms of use",
    privacy: "Privacy policy",
    and: "and the",
    wrong_credentials: "The username, email or password is incorrect.",
    locked: "Too many failed attempts. Try again in {n} minutes.",
    username_taken: "This username is already in use.",
    invalid_username: "Use letters, digits and _ for the username, not starting with a digit.",
    weak_password: "Choose a stronger password:",
    terms_required: "Please agree to the terms to continue.",
    registration_closed: "Creating accounts is not possible here.",
    sign_in_closed: "Signing in is not possible here; create an account instead.",
    something_wrong: "Something went wrong. Please try again.",
    email: "Email",
    send_code: "Send code",
    sign_in_with_code: "Sign in with an email code",
    use_password: "Sign in with a password",
    forgot_password: "Forgot your password?",
    reset_title: "Reset your password",
    reset_intro: "Enter your email address and we will send you a code.",
    verify_title: "Enter your code",
    verify_intro: "We sent a 6-digit code to",
    code: "Code",
    continue_: "Continue",
    new_password_title: "Choose a new password",
    save_password: "Save password",
    password_changed: "Your password has been changed. Sign in with your new password.",
    wrong_code: "This code is wrong. Check it and try again.",
    code_expired: "This code is no longer valid. Ask for a new one.",
    resend_wait: "Please wait {n} seconds before asking for another code.",
    cannot_send: "We cannot send codes right now.",
    no_account_found: "No account uses this email address.",
    email_taken: "This email address is already in use.",
    invalid_email: "Enter a valid email address.",
    email_or_phone: "Email or phone number",
    phone: "Phone number",
    code_hint: "No password? Leave it empty to get a code by email or SMS.",
    consent_heading: "{app} wants to access your account",
    signed_in_as: "Signed in as",
    consent_intro: "If you allow it, {app} will be able to:",
    cancel: "Cancel",
    authorize: "Authorize",
    sign_out: "Sign out",
    sign_out_question: "Do you want to sign out?",
    sign_out_of: "Do you want to sign out of {app}?",
    stay_signed_in: "Stay signed in",
    signed_out: "You are signed out",
    still_signed_in: "You are still signed in",
    close_window: "You can close this window.",
    scopes: [
        "Know who you are",
        "See your name, username and profile picture",
        "See your email address",
        "See your phone number",
        "See your address",
        "Stay signed in and access your data while you are away",
        "See the custom data of your account",
        "See the social accounts linked to your account",
        "See your roles",
    ],
    other_scope: "Use the permission “{scope}”",
    add_email: "Add your email address",
    add_email_intro: "Your account needs an email address to continue. We will send you a code.",
    add_username: "Choose a username",
    add_username_intro: "Your account needs a username to continue.",
};

const DE: Text = Text {
    sign_in: "Anmelden",
    to_continue: "um fortzufahren zu",
    identifier: "Benutzername oder E-Mail",
    password: "Passwort",
    submit_sign_in: "Anmelden",
    no_account: "Noch kein Konto?",
    create_account: "Konto erstellen",
    register: "Konto erstellen",
    username: "Benutzername",
    new_password: "Passwort",
    submit_register: "Konto erstellen",
    have_account: "Schon ein Konto?",
    agree_prefix: "Ich stimme den",
    terms: "Nutzungsbedingungen",
    privacy: "Datenschutzhinweisen",
    and: "und den",
    wrong_credentials: "Benutzername, E-Mail oder Passwort ist falsch.",
    locked: "Zu viele Fehlversuche. Versuche es in {n} Minuten erneut.",
    username_taken: "Dieser Benutzername ist bereits vergeben.",
    invalid_username: "Der Benutzername darf Buchstaben, Ziffern und _ enthalten und nicht mit einer Ziffer beginnen.",
    weak_password: "Wähle ein sichereres Passwort:",
    terms_required: "Bitte stimme den Bedingungen zu, um fortzufahren.",
    registration_closed: "Hier können keine Konten erstellt werden.",
    sign_in_closed: "Anmelden ist hier nicht möglich; erstelle stattdessen ein Konto.",
    something_wrong: "Etwas ist schiefgelaufen. Bitte versuche es erneut.",
    email: "E-Mail",
    send_code: "Code senden",
    sign_in_with_code: "Mit E-Mail-Code anmelden",
    use_password: "Mit Passwort anmelden",
    forgot_password: "Passwort vergessen?",
    reset_title: "Passwort zurücksetzen",
    reset_intro: "Gib deine E-Mail-Adresse ein, dann senden wir dir einen Code.",
    verify_title: "Code eingeben",
    verify_intro: "Wir haben einen 6-stelligen Code gesendet an",
    code: "Code",
    continue_: "Weiter",
    new_password_title: "Neues Passwort wählen",
    save_password: "Passwort speichern",
    password_changed: "Dein Passwort wurde geändert. Melde dich mit dem neuen Passwort an.",
    wrong_code: "Dieser Code ist falsch. Prüfe ihn und versuche es erneut.",
    code_expired: "Dieser Code ist nicht mehr gültig. Fordere einen neuen an.",
    resend_wait: "Bitte warte {n} Sekunden, bevor du einen neuen Code anforderst.",
    cannot_send: "Wir können gerade keine Codes senden.",
    no_account_found: "Kein Konto verwendet diese E-Mail-Adresse.",
    email_taken: "Diese E-Mail-Adresse wird bereits verwendet.",
    invalid_email: "Gib eine gültige E-Mail-Adresse ein.",
    email_or_phone: "E-Mail oder Telefonnummer",
    phone: "Telefonnummer",
    code_hint: "Kein Passwort? Lass das Feld leer, dann senden wir dir einen Code per E-Mail oder SMS.",
    consent_heading: "{app} möchte auf dein Konto zugreifen",
    signed_in_as: "Angemeldet als",
    consent_intro: "Wenn du zustimmst, kann {app}:",
    cancel: "Abbrechen",
    authorize: "Zustimmen",
    sign_out: "Abmelden",
    sign_out_question: "Möchtest du dich abmelden?",
    sign_out_of: "Möchtest du dich von {app} abmelden?",
    stay_signed_in: "Angemeldet bleiben",
    signed_out: "Du bist abgemeldet",
    still_signed_in: "Du bist weiterhin angemeldet",
    close_window: "Du kannst dieses Fenster schließen.",
    scopes: [
        "Wissen, wer du bist",
        "Deinen Namen, Benutzernamen und dein Profilbild sehen",
        "Deine E-Mail-Adresse sehen",
        "Deine Telefonnummer sehen",
        "Deine Adresse sehen",
        "Angemeldet bleiben und auf deine Daten zugreifen, während du weg bist",
        "Die benutzerdefinierten Daten deines Kontos sehen",
        "Die mit deinem Konto verknüpften sozialen Konten sehen",
        "Deine Rollen sehen",
    ],
    other_scope: "Die Berechtigung „{scope}“ verwenden",
    add_email: "E-Mail-Adresse hinzufügen",
    add_email_intro: "Dein Konto braucht eine E-Mail-Adresse, um fortzufahren. Wir senden dir einen Code.",
    add_username: "Benutzernamen wählen",
    add_username_intro: "Dein Konto braucht einen Benutzernamen, um fortzufahren.",
};

/// German for the messages of the error pages; other texts stay as they are.
pub fn translate(lang: Lang, english: &str) -> String {
    if lang == Lang::En {
        return english.to_owned();
    }
    let de = match english {
        "This sign-in has expired or was already completed. Go back to the application and try again." => {
            "Diese Anmeldung ist abgelaufen oder schon abgeschlossen. Geh zurück zur Anwendung und versuche es erneut."
        }
        "This form has expired. Go back, reload the page and try again." => {
            "Dieses Formular ist abgelaufen. Geh zurück, lade die Seite neu und versuche es erneut."
        }
        "You are not signed in. Go back to the application and try again." => {
            "Du bist nicht angemeldet. Geh zurück zur Anwendung und versuche es erneut."
        }
        "The application (client_id) is not known." => "Die Anwendung (client_id) ist unbekannt.",
        "The request has no client_id." => "Der Anfrage fehlt die client_id.",
        "The request has no redirect_uri." => "Der Anfrage fehlt die redirect_uri.",
        "The redirect_uri is not registered for this application." => {
            "Die redirect_uri ist für diese Anwendung nicht registriert."
        }
        "The redirect_uri is malformed." => "Die redirect_uri ist fehlerhaft.",
        "This application cannot sign users in." => "Diese Anwendung kann keine Benutzer anmelden.",
        "The post_logout_redirect_uri is not registered for this application." => {
            "Die post_logout_redirect_uri ist für diese Anwendung nicht registriert."
        }
        "The post_logout_redirect_uri is malformed." => "Die post_logout_redirect_uri ist fehlerhaft.",
        "The id_token_hint is not a valid ID token from this provider." => {
            "Der id_token_hint ist kein gültiges ID-Token dieses Anbieters."
        }
        "The client_id does not match the id_token_hint." => "Die client_id passt nicht zum id_token_hint.",
        "Choose Authorize or Cancel." => "Wähle Zustimmen oder Abbrechen.",
        "Something is not right" => "Etwas stimmt nicht",
        "Page not found" => "Seite nicht gefunden",
        "There is nothing at this address." => "Unter dieser Adresse gibt es nichts.",
        "Something went wrong" => "Etwas ist schiefgelaufen",
        "We could not complete your request. Please try again in a moment." => {
            "Wir konnten deine Anfrage nicht abschließen. Bitte versuche es gleich noch einmal."
        }
        other => other,
    };
    de.to_owned()
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn picks_ui_locales_then_accept_language_then_fallback() {
        assert_eq!(Lang::pick(Some("fr de-CH"), Some("en"), "en"), Lang::De);
        assert_eq!(
            Lang::pick(None, Some("fr;q=1, de;q=0.8, en;q=0.5"), "en"),
            Lang::De
        );
        assert_eq!(Lang::pick(None, Some("en;q=0.2, de;q=0.9"), "en"), Lang::De);
        assert_eq!(Lang::pick(Some("fr"), Some("fr"), "de"), Lang::De);
        assert_eq!(Lang::pick(None, None, "xx"), Lang::En);
    }

    #[test]
    fn error_messages_are_translated_or_kept() {
        use super::translate;
        assert_eq!(
            translate(Lang::De, "Page not found"),
            "Seite nicht gefunden"
        );
        assert_eq!(translate(Lang::En, "Page not found"), "Page not found");
        assert_eq!(translate(Lang::De, "unknown text"), "unknown text");
    }
}
