//! Identity: the kinds of identifier a user is known by, and their validation and normal
//! form. Every face and flow normalizes an identifier here, so that one address is stored
//! and looked up in exactly one spelling (`Erin@Example.com` and `erin@example.com` are one
//! user; `+1 (555) 010-9999` is stored as `15550109999`, as Logto does).
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a user signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Identifier {
    Username,
    Email,
    Phone,
}

crate::column_enum!(Identifier {
    Username = "username",
    Email = "email",
    Phone = "phone",
});

impl Identifier {
    /// The name as in the settings and Logto's APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Identifier::Username => "username",
            Identifier::Email => "email",
            Identifier::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Identifier> {
        match s {
            "username" => Some(Identifier::Username),
            "email" => Some(Identifier::Email),
            "phone" => Some(Identifier::Phone),
            _ => None,
        }
    }

    /// The channel a one-time code for this identifier goes through (none for a username).
    pub fn channel(self) -> Option<Channel> {
        match self {
            Identifier::Email => Some(Channel::Email),
            Identifier::Phone => Some(Channel::Phone),
            Identifier::Username => None,
        }
    }

    /// What a typed identifier looks like: an email address has an `@`, a phone number is
    /// digits with an optional `+` and separators; anything else is a username. Used only to
    /// pick a form's behaviour; the claimed kind is what lookups use.
    pub fn guess(value: &str) -> Identifier {
        let v = value.trim();
        if v.contains('@') {
            Identifier::Email
        } else if !v.is_empty()
            && v.trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
            && v.chars().any(|c| c.is_ascii_digit())
        {
            Identifier::Phone
        } else {
            Identifier::Username
        }
    }
}

impl From<Identifier> for crate::store::users::By {
    fn from(kind: Identifier) -> Self {
        use crate::store::users::By;
        match kind {
            Identifier::Username => By::Username,
            Identifier::Email => By::PrimaryEmail,
            Identifier::Phone => By::PrimaryPhone,
        }
    }
}

/// Where a one-time code is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    Email,
    Phone,
}

impl crate::store::StandIn for Channel {
    fn stand_in() -> Self {
        Channel::Email
    }
}

impl crate::store::Column for Channel {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        match v?.as_str()? {
            "email" => Some(Channel::Email),
            "phone" => Some(Channel::Phone),
            _ => None,
        }
    }
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
        }
    }

    pub fn identifier(self) -> Identifier {
        match self {
            Channel::Email => Identifier::Email,
            Channel::Phone => Identifier::Phone,
        }
    }
}

/// Why a value is not a valid identifier of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityError {
    InvalidUsername,
    InvalidEmail,
    InvalidPhone,
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdentityError::InvalidUsername => {
                "must be 1 to 128 characters of letters, digits and _, and not start with a digit"
            }
            IdentityError::InvalidEmail => "is not a valid email address",
            IdentityError::InvalidPhone => "must be an international number such as +15550109999",
        })
    }
}

/// Logto's rule: letters, digits and `_`, not starting with a digit, at most 128.
pub fn username(v: &str) -> Result<String, IdentityError> {
    let ok = v.len() <= 128
        && v.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(v.to_owned())
    } else {
        Err(IdentityError::InvalidUsername)
    }
}

/// Trimmed and lower-cased; one `@`, a dotted domain, no spaces.
pub fn email(v: &str) -> Result<String, IdentityError> {
    let v = v.trim().to_lowercase();
    let valid = v.len() <= 254
        && !v.chars().any(char::is_whitespace)
        && matches!(v.split_once('@'), Some((local, domain))
            if !local.is_empty() && local.len() <= 64 && !domain.contains('@')
            && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            && !domain.contains(".."));
    if valid {
        Ok(v)
    } else {
        Err(IdentityError::InvalidEmail)
    }
}

/// E.164 stored as Logto does, digits only: `+1 (555) 010-9999` → `15550109999`.
pub fn phone(v: &str) -> Result<String, IdentityError> {
    let trimmed = v.trim();
    let rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits: String = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    if !(7..=15).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.starts_with('0')
    {
        return Err(IdentityError::InvalidPhone);
    }
    Ok(digits)
}

/// The normal form of `value` as an identifier of `kind`.
pub fn normalize(kind: Identifier, value: &str) -> Result<String, IdentityError> {
    match kind {
        Identifier::Username => username(value.trim()),
        Identifier::Email => email(value),
        Identifier::Phone => phone(value),
    }
}

/// The normal form of an address a code goes to.
pub fn address(channel: Channel, value: &str) -> Result<String, IdentityError> {
    normalize(channel.identifier(), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_have_one_normal_form() {
        assert_eq!(email(" Erin@Example.COM ").unwrap(), "erin@example.com");
        assert_eq!(phone("+1 (555) 010-9999").unwrap(), "15550109999");
        assert_eq!(username("_erin7").unwrap(), "_erin7");
        assert_eq!(username("7erin"), Err(IdentityError::InvalidUsername));
        assert_eq!(email("a@b"), Err(IdentityError::InvalidEmail));
        assert_eq!(phone("0123456789"), Err(IdentityError::InvalidPhone));
    }

    #[test]
    fn a_typed_identifier_is_guessed_by_its_shape() {
        assert_eq!(Identifier::guess("a@example.com"), Identifier::Email);
        assert_eq!(Identifier::guess("+49 30 1234567"), Identifier::Phone);
        assert_eq!(Identifier::guess("erin"), Identifier::Username);
        assert_eq!(Identifier::guess("---"), Identifier::Username);
    }
}
