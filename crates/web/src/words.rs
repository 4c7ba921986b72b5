//! What the pages say: each scope a consent page asks for, and each error a page can show,
//! in words a person reads; protocol codes only ever as a small detail beside them.

use tessera_oidc::OAuthError;
use tessera_oidc::interaction::code_flow::OrgShown;

/// One line of a consent page: what the application may do, and the scope behind it.
pub struct Permission {
    pub what: String,
    /// A second line that says more, when there is more to say.
    pub detail: Option<String>,
    /// The scope as the application asked for it.
    pub scope: String,
}

/// The order a consent page lists scopes in: who you are first, then what it may see,
/// then what it may do, custom scopes last (a `ScopeSet` is alphabetical).
pub fn rank(scope: &str) -> u8 {
    match scope {
        "openid" => 0,
        "profile" => 1,
        "email" => 2,
        "address" => 3,
        "phone" => 4,
        s if s == tessera_domain::ORG_SCOPE || s.starts_with("organization:") => 5,
        tessera_domain::ADMIN_SCOPE => 6,
        "offline_access" => 7,
        _ => 8,
    }
}

/// What `scope` gives the application, said plainly. `realm` is whose account it is;
/// `org` which organization the `organization` scope would name. A scope we do not
/// define is shown by its name: we cannot say more than its owner did.
/// What a consent page lists for `scopes`, in the order people read them.
pub fn permissions(scopes: &[String], realm: &str, org: Option<&OrgShown>) -> Vec<Permission> {
    let mut ordered: Vec<&String> = scopes.iter().collect();
    ordered.sort_by_key(|s| rank(s));
    ordered
        .into_iter()
        .map(|s| permission(s, realm, org))
        .collect()
}

pub fn permission(scope: &str, realm: &str, org: Option<&OrgShown>) -> Permission {
    let (what, detail): (String, Option<String>) = match scope {
        "openid" => (
            format!("Sign you in with your {realm} account"),
            Some("It learns your account's identifier.".into()),
        ),
        "profile" => (
            "See your profile".into(),
            Some("Your name and username.".into()),
        ),
        "email" => (
            "See your e-mail address".into(),
            Some("And whether it has been verified.".into()),
        ),
        "address" => ("See your postal address".into(), None),
        "phone" => ("See your phone number".into(), None),
        "offline_access" => (
            "Keep access while you are away".into(),
            Some("It can go on acting for you after you close it, until you sign out.".into()),
        ),
        tessera_domain::ADMIN_SCOPE => (
            "Manage the organizations you administer, as you".into(),
            Some(
                "See their members and their e-mail addresses, invite people, change roles \
                 and remove members."
                    .into(),
            ),
        ),
        s if s == tessera_domain::ORG_SCOPE || s.starts_with("organization:") => match org {
            Some(OrgShown::One(name)) => (
                format!("Know that you act for {name}"),
                Some("And your roles in it.".into()),
            ),
            Some(OrgShown::All) => (
                "Know every organization you belong to".into(),
                Some("And your roles in each.".into()),
            ),
            None => (
                "Know which organization you act for".into(),
                Some("And your roles in it.".into()),
            ),
        },
        other => (
            other.to_owned(),
            Some(format!("A permission defined for {realm} applications.")),
        ),
    };
    Permission {
        what,
        detail,
        scope: scope.to_owned(),
    }
}

/// An error page's words: what happened and what to do about it.
pub struct Explanation {
    pub title: &'static str,
    pub what: &'static str,
    pub todo: &'static str,
}

const START_AGAIN: &str = "Go back to the application and start again. If it keeps happening, tell the \
     application's support team and give them the details below.";
const APP_PROBLEM: &str = "This is a problem with the application, not with your account. \
     Tell the application's support team and give them the details below.";

pub fn explain(e: &OAuthError) -> Explanation {
    let desc = e.description();
    match e {
        OAuthError::InvalidRequest(_) if desc.contains("this link") => Explanation {
            title: "This link cannot be used",
            what: "The link from your e-mail was used already, has expired, or a newer \
                   one replaced it.",
            todo: "Ask for a new link: on the sign-in page (\"Forgot password?\") or on \
                   your account page.",
        },
        OAuthError::InvalidRequest(_) if desc.contains("expired") => Explanation {
            title: "This page has expired",
            what: "You took a while, or the page was opened in another window, so it no \
                   longer belongs to a sign-in in progress.",
            todo: "Go back to the application and start again.",
        },
        OAuthError::AccessDenied(_) if desc.contains("invitation") => Explanation {
            title: "This invitation cannot be used",
            what: "The invitation link is not valid any more: it was used already, it \
                   expired, or it was revoked.",
            todo: "Ask the person who invited you to send a new invitation.",
        },
        OAuthError::AccessDenied(_) | OAuthError::Forbidden(_) => Explanation {
            title: "You cannot continue with this account",
            what: "The request was refused: this account is not allowed to use what the \
                   application asked for.",
            todo: "If you think you should have access, ask your administrator. You can \
                   also go back and sign in with another account.",
        },
        OAuthError::Broker {
            code: "access_denied",
            ..
        } => Explanation {
            title: "Signing in with your provider did not work",
            what: "Your sign-in provider did not confirm who you are, or this account may \
                   not sign in here.",
            todo: "Go back and try again, or choose another way to sign in.",
        },
        OAuthError::UpstreamUnavailable(_) | OAuthError::Broker { .. } => Explanation {
            title: "Your sign-in provider is not answering",
            what: "We could not reach the identity provider you chose.",
            todo: "Wait a few minutes and try again, or choose another way to sign in.",
        },
        // Before the redirect URI is proven: the link itself names no client we know, or
        // an address the client did not register.
        OAuthError::InvalidRequest(_)
            if desc.contains("client") || desc.contains("redirect_uri") =>
        {
            Explanation {
                title: "This application is not set up correctly",
                what: "The link that brought you here names an application, or a return \
                       address, that is not registered here.",
                todo: APP_PROBLEM,
            }
        }
        OAuthError::InvalidClient(_)
        | OAuthError::UnauthorizedClient(_)
        | OAuthError::UnsupportedResponseType(_)
        | OAuthError::UnsupportedGrantType(_)
        | OAuthError::InvalidScope(_)
        | OAuthError::InvalidTarget(_)
        | OAuthError::InvalidRedirectUri(_)
        | OAuthError::InvalidClientMetadata(_)
        | OAuthError::InvalidSoftwareStatement(_)
        | OAuthError::RequestNotSupported => Explanation {
            title: "This application is not set up correctly",
            what: "The application asked to sign you in in a way this server does not \
                   allow for it.",
            todo: APP_PROBLEM,
        },
        OAuthError::NotFound(_) => Explanation {
            title: "We could not find what this link points to",
            what: "The address names something that does not exist here, or no longer \
                   exists.",
            todo: "Check the address, or go back to the application and start again.",
        },
        OAuthError::RateLimited { .. } => Explanation {
            title: "Too many attempts",
            what: "There were too many requests from your network in a short time.",
            todo: "Wait a minute, then try again.",
        },
        OAuthError::TemporarilyUnavailable => Explanation {
            title: "The service is busy",
            what: "We could not handle your request right now.",
            todo: "Wait a moment and try again.",
        },
        OAuthError::ServerError(_) => Explanation {
            title: "Something went wrong on our side",
            what: "Your request did not go through because of a fault here, not because \
                   of anything you did.",
            todo: "Try again in a few minutes. If it keeps happening, contact support.",
        },
        _ => Explanation {
            title: "We could not complete this request",
            what: "The request that brought you here is not valid.",
            todo: START_AGAIN,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scopes_are_named_plainly_and_known_ones_in_words() {
        assert_eq!(
            permission("reports:read", "Acme", None).what,
            "reports:read"
        );
        assert_eq!(
            permission("email", "Acme", None).what,
            "See your e-mail address"
        );
        let org = OrgShown::One("Globex".into());
        assert!(
            permission("organization", "Acme", Some(&org))
                .what
                .contains("Globex")
        );
    }

    #[test]
    fn no_error_page_title_is_a_protocol_code() {
        for e in [
            OAuthError::invalid_request("x"),
            OAuthError::InvalidClient("x".into()),
            OAuthError::AccessDenied("x".into()),
            OAuthError::NotFound("x".into()),
            OAuthError::ServerError("x".into()),
            OAuthError::RateLimited {
                retry_after_secs: 1,
            },
        ] {
            let t = explain(&e).title;
            assert!(!t.contains('_') && t.contains(' '), "{t}");
        }
    }
}
