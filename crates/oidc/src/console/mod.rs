//! The console: the administrators' pages. A realm's console signs people in through the
//! realm's own authorization endpoint with the built-in public client
//! [`tessera_domain::CONSOLE_CLIENT_ID`] (code flow with PKCE, so federation and every login
//! rule apply to administrators too), keeps them signed in with a session of its own
//! (`session.rs`), and asks the one admin principal what they may do: it never decides
//! on its own. `views.rs` loads what each page shows, in a bounded number of statements.

pub mod session;
pub mod views;

/// Where a console lives: the realm administrators' console (realm `master`, at
/// `/admin/console`) or the organization administrators' console of a realm
/// (`/realms/{realm}/console`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleHome {
    Realms,
    Orgs(String),
}

impl ConsoleHome {
    /// The realm whose users sign in to this console.
    pub fn realm(&self) -> &str {
        match self {
            Self::Realms => tessera_domain::RealmName::MASTER,
            Self::Orgs(r) => r,
        }
    }

    /// The console's path under the public URL (no trailing slash); its cookies are
    /// scoped to it.
    pub fn path(&self) -> String {
        match self {
            Self::Realms => "/admin/console".into(),
            Self::Orgs(r) => format!("/realms/{r}/console"),
        }
    }
}
