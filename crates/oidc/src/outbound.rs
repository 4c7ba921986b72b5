//! The one HTTP client for calls we make to other servers (back-channel logout; later
//! upstream providers): short timeouts and no redirects, so a peer cannot hold a worker
//! or bounce a request somewhere we did not choose.

use std::time::Duration;

pub fn outbound_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client builds")
}
