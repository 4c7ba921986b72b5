//! What a person does in the browser: who the pages speak for (`brand.rs`), the code flow's pages (login, consent, organization
//! chooser), the sealed request that carries it between pages, password checks and their
//! limits, invitations, logout, the sign-in of the built-in clients (`builtin_client.rs`),
//! the account page (`account.rs`), the links mailed to people (`recovery.rs`) and the
//! approval of requests made on another device (`approve.rs`: device grant, CIBA).

pub mod account;
pub mod approve;
pub mod brand;
pub mod builtin_client;
pub mod code_flow;
pub mod invitations;
pub mod login;
pub mod logout;
pub mod passwords;
pub mod recovery;
pub mod sealed_request;

#[cfg(test)]
mod code_flow_tests;
#[cfg(test)]
mod login_tests;
