//! A deadline on reading request bodies. actix-web times out slow request *headers* (408 after
//! 5 s) but not slow *bodies*: a client that sends `Content-Length: 100` and then one byte a second
//! holds a connection and a worker's payload buffer for as long as it likes, and a few thousand
//! such clients exhaust file descriptors (the bad-input drill found this). Every request payload
//! is therefore wrapped so that reading it fails once the body has taken longer than the
//! configured time since the headers arrived; the handler's body extractor turns that failure into
//! a 408 (see `error::json_error_shape`) and the connection is closed with the body unread.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::web::Bytes;

/// The message of the I/O error a timed-out body read yields; `error.rs` recognises it by kind.
pub(crate) const BODY_TIMEOUT_MESSAGE: &str = "the request body was not received in time";

/// `payload`, failing with a `TimedOut` I/O error if it is not fully read within `limit`.
pub(crate) fn with_deadline(payload: Payload, limit: Duration) -> Payload {
    let stream: Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(Deadline { inner: payload, timer: Box::pin(sleep(limit)), expired: false });
    Payload::from(stream)
}

struct Deadline {
    inner: Payload,
    timer: Pin<Box<Sleep>>,
    expired: bool,
}

impl futures_core::Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        // Data that is already there is always delivered; the deadline only ends a wait.
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            self.expired = true;
            let err = std::io::Error::new(std::io::ErrorKind::TimedOut, BODY_TIMEOUT_MESSAGE);
            return Poll::Ready(Some(Err(PayloadError::Io(err))));
        }
        Poll::Pending
    }
}

/// Whether `err` is the failure [`with_deadline`] produces.
pub(crate) fn is_body_timeout(err: &actix_web::Error) -> bool {
    matches!(err.as_error::<PayloadError>(), Some(PayloadError::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut)
}
