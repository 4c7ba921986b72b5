//! The command line, one file per noun. Every command but `serve` works straight on the
//! database as the operator ([`tessera_oidc::admin::AdminPrincipal::operator`]).

pub mod client;
pub mod idp;
pub mod key;
pub mod org;
pub mod realm;
pub mod serve;
pub mod user;

use tessera_oidc::OAuthError;

/// An error as a person at the terminal needs it: the chain of causes, and for the
/// engine's errors their description with what to do next.
pub fn explain(e: &anyhow::Error) -> String {
    let Some(oauth) = e.downcast_ref::<OAuthError>() else {
        return format!("{e:#}");
    };
    let text = oauth.description();
    match oauth {
        OAuthError::NotFound(_) if text == "realm not found" => format!(
            "{text}: `tessera realm list` shows the realms, `tessera realm create NAME` creates one \
             (realms master and demo are created by `tessera init` or the first `tessera serve`)"
        ),
        // The operator may see what a client never does.
        OAuthError::ServerError(detail) => format!("internal error: {detail}"),
        _ => format!("{} ({})", text, oauth.code()),
    }
}
