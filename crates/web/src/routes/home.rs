//! A small landing page (askama) with links a newcomer needs, plus the stylesheet.

use crate::AppState;
use actix_web::{HttpResponse, Responder, web};
use askama::Template;
use askama_web::WebTemplate;
use tessera_oidc::interaction::brand::Brand;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/static/tessera.css", web::get().to(css))
        .route("/static/form_post.js", web::get().to(form_post_js))
        // Swagger UI lives under the slash; the address people type has none.
        .route(
            "/admin/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/admin/docs/"))
                    .finish()
            }),
        );
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct Home {
    realms: Vec<RealmLink>,
    brand: Brand,
}

struct RealmLink {
    name: String,
    issuer: String,
}

async fn home(state: web::Data<AppState>) -> impl Responder {
    let realms = state
        .provider
        .enabled_realms(50)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| RealmLink {
            issuer: state.provider.issuer_for(&r.name),
            name: r.branding.display_name.as_ref().map_or_else(
                || r.name.to_string(),
                |n| format!("{} ({})", n.as_str(), r.name),
            ),
        })
        .collect();
    Home {
        realms,
        brand: Brand::product(),
    }
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../../../static/tessera.css"))
}

async fn form_post_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../../../static/form_post.js"))
}
