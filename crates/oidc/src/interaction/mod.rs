//! What a person does in the browser: who the pages speak for (`brand.rs`), the code flow's pages (login, consent, organization
//! chooser), the sealed request that carries it between pages, password checks and their
//! limits, invitations, and logout.

pub mod brand;
pub mod code_flow;
pub mod invitations;
pub mod login;
pub mod logout;
pub mod passwords;
pub mod sealed_request;

#[cfg(test)]
mod code_flow_tests;
#[cfg(test)]
mod login_tests;
