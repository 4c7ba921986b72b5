//! A small HTTP server of documents a test changes as it goes: a client's JWK set at its
//! `jwks_uri`, a client ID metadata document. Counts the requests of each path.

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use std::collections::HashMap;
use std::sync::Mutex;

/// A canned answer: status, content type, body.
type Doc = (u16, String, Vec<u8>);

#[derive(Default)]
struct Shared {
    docs: Mutex<HashMap<String, Doc>>,
    hits: Mutex<HashMap<String, usize>>,
}

/// Stops when dropped.
pub struct JsonServer {
    pub base: String,
    shared: web::Data<Shared>,
    handle: ServerHandle,
}

async fn serve(req: HttpRequest, s: web::Data<Shared>) -> HttpResponse {
    let path = req.path().to_owned();
    *s.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    match s.docs.lock().unwrap().get(&path) {
        Some((status, ct, body)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap())
                .content_type(ct.as_str())
                .body(body.clone())
        }
        None => HttpResponse::NotFound().finish(),
    }
}

impl JsonServer {
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = web::Data::new(Shared::default());
        let data = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(serve))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base,
            shared,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Serves `json` at `path` with 200.
    pub fn put(&self, path: &str, json: &serde_json::Value) {
        self.put_raw(path, 200, "application/json", json.to_string().into_bytes());
    }

    pub fn put_raw(&self, path: &str, status: u16, content_type: &str, body: Vec<u8>) {
        self.shared
            .docs
            .lock()
            .unwrap()
            .insert(path.into(), (status, content_type.into(), body));
    }

    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        // Sends the stop command at once; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}
