//! The password policy of the sign-in experience, as a pure check.
use super::settings::PasswordPolicy;
use crate::i18n::{Lang, Msg};

/// What the user is known by, for the "no personal information" rule.
#[derive(Default)]
pub struct UserInfo<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// One broken rule, in words for the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    TooShort(u32),
    TooLong(u32),
    CharacterTypes(u32),
    RepetitionOrSequence,
    UserInfo,
    Word,
}

impl Rejection {
    pub fn describe(&self, lang: Lang) -> String {
        let n = |m, n: &u32| lang.fill(m, &[("n", &n.to_string())]);
        match self {
            Rejection::TooShort(x) => n(Msg::PwTooShort, x),
            Rejection::TooLong(x) => n(Msg::PwTooLong, x),
            Rejection::CharacterTypes(x) => n(Msg::PwCharacterTypes, x),
            Rejection::RepetitionOrSequence => lang.t(Msg::PwRepetition).to_owned(),
            Rejection::UserInfo => lang.t(Msg::PwUserInfo).to_owned(),
            Rejection::Word => lang.t(Msg::PwWord).to_owned(),
        }
    }
}

fn has_repetition_or_sequence(p: &str) -> bool {
    let chars: Vec<char> = p.to_lowercase().chars().collect();
    chars.windows(3).any(|w| match w {
        [a, b, c] => {
            let (a, b, c) = (*a as i64, *b as i64, *c as i64);
            (a == b && b == c) || (b - a == 1 && c - b == 1) || (a - b == 1 && b - c == 1)
        }
        _ => false,
    })
}

/// Every rule `password` breaks; empty means it is acceptable.
pub fn check(policy: &PasswordPolicy, password: &str, user: &UserInfo<'_>) -> Vec<Rejection> {
    let mut out = Vec::new();
    let len = u32::try_from(password.chars().count()).unwrap_or(u32::MAX);
    if len < policy.length.min {
        out.push(Rejection::TooShort(policy.length.min));
    }
    if len > policy.length.max {
        out.push(Rejection::TooLong(policy.length.max));
    }
    let types = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|t| **t)
    .count();
    if u32::try_from(types).unwrap_or(0) < policy.character_types.min {
        out.push(Rejection::CharacterTypes(policy.character_types.min));
    }
    if policy.rejects.repetition_and_sequence && has_repetition_or_sequence(password) {
        out.push(Rejection::RepetitionOrSequence);
    }
    let lower = password.to_lowercase();
    if policy.rejects.user_info {
        let email_local = user.email.and_then(|e| e.split('@').next());
        let infos = [user.username, email_local, user.phone, user.name];
        if infos
            .into_iter()
            .flatten()
            .any(|i| i.chars().count() >= 3 && lower.contains(&i.to_lowercase()))
        {
            out.push(Rejection::UserInfo);
        }
    }
    if policy
        .rejects
        .words
        .iter()
        .any(|w| lower.contains(&w.to_lowercase()))
    {
        out.push(Rejection::Word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experience::settings::Settings;

    fn policy() -> PasswordPolicy {
        Settings::default().password_policy
    }

    #[test]
    fn accepts_a_reasonable_password() {
        assert!(check(&policy(), "correct horse battery", &UserInfo::default()).is_empty());
    }

    #[test]
    fn names_each_broken_rule() {
        let p = policy();
        assert_eq!(
            check(&p, "short", &UserInfo::default()),
            vec![Rejection::TooShort(8)]
        );
        assert!(check(&p, "passwordaaa", &UserInfo::default())
            .contains(&Rejection::RepetitionOrSequence));
        assert!(check(&p, "pass1234word", &UserInfo::default())
            .contains(&Rejection::RepetitionOrSequence));
        assert!(check(&p, "xyz-dcba-q", &UserInfo::default())
            .contains(&Rejection::RepetitionOrSequence));
        let alice = UserInfo {
            username: Some("alice"),
            email: Some("wonder@example.com"),
            ..Default::default()
        };
        assert_eq!(
            check(&p, "my-Alice-secret", &alice),
            vec![Rejection::UserInfo]
        );
        assert_eq!(
            check(&p, "wonderful-thing", &alice),
            vec![Rejection::UserInfo]
        );
        let mut strict = policy();
        strict.character_types.min = 3;
        strict.rejects.words = vec!["gatehouse".into()];
        assert_eq!(
            check(&strict, "my gatehouse pw", &UserInfo::default()),
            vec![Rejection::CharacterTypes(3), Rejection::Word]
        );
        assert!(check(&strict, "Tr0ub4dor&x", &UserInfo::default()).is_empty());
    }
}
