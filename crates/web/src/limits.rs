//! A request's body must arrive within a bound: a client that announces a body and then
//! trickles or stalls would otherwise hold a connection and a request task for as long
//! as it likes (actix bounds only the head). Past the bound the request is answered 408
//! and the connection closed.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::{FutureExt, Stream, StreamExt};
use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

/// The default bound on reading a whole request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The bound in force, as app data (tests shorten it).
#[derive(Clone, Copy, Debug)]
pub struct BodyTimeout(pub Duration);

fn has_body(req: &ServiceRequest) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !has_body(&req) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let limit = req
        .app_data::<web::Data<BodyTimeout>>()
        .map_or(BODY_TIMEOUT, |t| t.0);
    let expired = Rc::new(Cell::new(false));
    let flag = expired.clone();
    let mut body = req.take_payload();
    let mut timer = Box::pin(tokio::time::sleep(limit));
    let timed = futures_util::stream::poll_fn(move |cx| {
        if flag.get() {
            return Poll::Ready(None);
        }
        match body.poll_next_unpin(cx) {
            Poll::Pending if timer.poll_unpin(cx).is_ready() => {
                flag.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(
                    std::io::ErrorKind::TimedOut.into(),
                ))))
            }
            other => other,
        }
    });
    let timed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(timed);
    req.set_payload(Payload::from(timed));
    let res = next.call(req).await?;
    if !expired.get() {
        return Ok(res.map_into_left_body());
    }
    metrics::counter!("tessera_request_body_timeouts_total").increment(1);
    let (req, _) = res.into_parts();
    let timeout = HttpResponse::RequestTimeout()
        .force_close()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "the request body did not arrive in time",
        }));
    Ok(ServiceResponse::new(req, timeout).map_into_right_body())
}
