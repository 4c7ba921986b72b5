//! The command line, one file per noun. Every command but `serve` works straight on the
//! database as the operator ([`tessera_oidc::admin::AdminPrincipal::operator`]).

pub mod admin_key;
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

/// The audit log entry of a CLI command that changes a realm: its realm (`--realm`, or the
/// name `tessera realm …` takes), `create`/`update`/`delete`, and the command's words as the
/// target (never its values: secrets travel as options). `None` for reads and for
/// commands outside a realm.
pub fn audit_entry(m: &clap::ArgMatches) -> Option<(String, &'static str, String)> {
    let mut words = vec![];
    let mut realm = None;
    let mut at = m;
    while let Some((name, sub)) = at.subcommand() {
        words.push(name.to_owned());
        if let Ok(Some(r)) = sub.try_get_one::<String>("realm") {
            realm = Some(r.clone());
        }
        at = sub;
    }
    if words.first().map(String::as_str) == Some("realm") {
        realm = realm.or_else(|| at.try_get_one::<String>("name").ok().flatten().cloned());
    }
    let verb = words.last()?.as_str();
    let action = match verb {
        "list" | "show" | "serve" | "init" | "migrate" => return None,
        "create" | "add" | "initial-token" => "create",
        "delete" | "remove" | "revoke" => "delete",
        _ => "update",
    };
    Some((realm?, action, format!("tessera {}", words.join(" "))))
}

/// A CLI value that may be cleared: empty means "not set".
pub(crate) fn optional<T>(
    v: &str,
    parse: fn(&str) -> Result<T, tessera_domain::DomainError>,
) -> Result<Option<T>, tessera_domain::DomainError> {
    if v.is_empty() {
        Ok(None)
    } else {
        parse(v).map(Some)
    }
}
