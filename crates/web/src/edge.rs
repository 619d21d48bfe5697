//! The connection edge: our own accept loop over hyper's HTTP/1 server, so that even the answers
//! hyper writes by itself — a request head it cannot parse (400), a URI over 64 KiB (414), headers
//! over its buffer or over 100 of them (431) — are problem+json like every other error, instead
//! of a status line with an empty body. hyper never hands such a request to the router, so the
//! only place to change its answer is the bytes it writes: [`ProblemIo`] recognises that answer
//! (a lone response head with `content-length: 0` and without the `x-request-id` every answer of
//! the router carries) and writes a complete problem answer in its place.
use crate::error::{Problem, problem_body};
use crate::i18n::Tr;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use shouhou_domain::locale::Locale;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serve `router` on `listener` until `shutdown` resolves, then let the connections finish the
/// requests in flight (as `axum::serve` with graceful shutdown does).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // Connections hold `close_rx` until they end; `signal_tx` tells them to stop taking requests.
    let (signal_tx, signal_rx) = watch::channel(());
    let (close_tx, close_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // What `into_make_service_with_connect_info` gives: the peer's address on every request.
        let service = router.clone().map_request(move |mut req: axum::http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            req
        });
        let signal_tx = signal_tx.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            // A timer enables hyper's header read timeout (30 s): a client trickling a request
            // head cannot hold a connection open for ever.
            builder.timer(TokioTimer::new());
            let io = TokioIo::new(ProblemIo::new(stream));
            let conn = builder.serve_connection(io, TowerToHyperService::new(service)).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let mut signalled = std::pin::pin!(signal_tx.closed());
            let mut stopping = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::trace!(error = %e, %remote, "connection ended with an error");
                        }
                        break;
                    }
                    () = &mut signalled, if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(close_rx);
        });
    }
    drop(listener);
    drop(signal_rx);
    drop(close_rx);
    // Every connection task holds a receiver; `closed` resolves when the last one is gone.
    close_tx.closed().await;
    Ok(())
}

/// A connection that replaces hyper's own bodiless error answers by problem+json ones.
pub struct ProblemIo<T> {
    inner: T,
    /// A replacement answer still to be written, and how much of it has been.
    pending: Vec<u8>,
    written: usize,
}

impl<T> ProblemIo<T> {
    pub fn new(inner: T) -> Self {
        Self { inner, pending: Vec::new(), written: 0 }
    }
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(status) = hyper_error_answer(buf) {
            self.pending = problem_answer(status);
            // The replacement is written now or by the flush hyper always does next.
            if let Poll::Ready(Err(e)) = self.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    // Not vectored: hyper then writes each answer's head as one buffer, which is what
    // `hyper_error_answer` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The status of an answer hyper wrote by itself: a whole response head, alone in the buffer,
/// with an error status, `content-length: 0` and no `x-request-id` (which the router's answers
/// always carry).
fn hyper_error_answer(buf: &[u8]) -> Option<StatusCode> {
    let head = buf.strip_prefix(b"HTTP/1.1 ")?;
    if !buf.ends_with(b"\r\n\r\n") || buf.len() > 512 {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?.to_ascii_lowercase();
    if text.contains("\r\nx-request-id:") || !text.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let status = StatusCode::from_bytes(text.get(..3)?.as_bytes()).ok()?;
    status.is_client_error().then_some(status)
}

/// A whole HTTP/1.1 answer: the problem for `status`, in the default language (hyper did not
/// read the request far enough to know the caller's), and the connection closed after it.
fn problem_answer(status: StatusCode) -> Vec<u8> {
    let code = match status {
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        _ => "malformed_request",
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = problem_body(Tr(Locale::ZhCn), &request_id, &Problem::new(status, code)).to_string();
    let reason = status.canonical_reason().unwrap_or("Error");
    format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         connection: close\r\nx-request-id: {request_id}\r\nx-content-type-options: nosniff\r\n\r\n{body}",
        status.as_u16(),
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_error_heads_are_replaced() {
        let own = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        assert_eq!(hyper_error_answer(own), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        let routed = b"HTTP/1.1 404 Not Found\r\nx-request-id: 1\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_error_answer(routed), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(hyper_error_answer(with_body), None);
        assert_eq!(hyper_error_answer(b"HTTP/1.1 400 Bad"), None);
        let answer = String::from_utf8(problem_answer(StatusCode::URI_TOO_LONG)).unwrap_or_default();
        assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{answer}");
        assert!(answer.contains("\"code\":\"uri_too_long\""), "{answer}");
    }
}
