//! Integration tests: the real server on a random port, driven over HTTP as clients would.
//! SQLite by default; set TESSERA_TEST_DATABASE_URL=postgres://… to run on PostgreSQL.

mod helpers;

mod account;
mod admin;
mod admin_keys;
mod approvals;
mod audit;
mod bcp;
mod browser_isolation;
mod client_metadata_document;
mod console;
mod console_browser;
mod console_manage;
mod discovery;
mod exchange;
mod federation;
mod first_hour;
mod hostile_input;
mod hostile_review;
mod idps_admin;
mod isolation;
mod jobs;
mod log_scrubbing;
mod login_flow;
mod logout;
mod mcp;
mod observability;
mod openapi;
mod org_admin_exchange;
mod orgs;
mod outbound;
mod pages_look;
mod pkce;
mod private_key_jwt;
mod registration;
mod replicas;
mod resources;
mod rp_openidconnect;
mod token;
mod trust_admin;
mod trusted_issuers;
mod users;
