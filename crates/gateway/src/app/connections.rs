//! Bounds on the connections an outsider can hold open before logging in. A TLS handshake must
//! finish within 10 s (axum-server's), a request's headers within [`FIRST_REQUEST_WITHIN`], and
//! no source address may hold more than its share of connections, nor all of them together
//! more than the process's descriptors allow — so silent connections cannot take every
//! descriptor and stop the gateway answering (`/healthz` included).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A connection's request headers must arrive within this time (the first request, and each
/// next one on a kept-alive connection).
pub const FIRST_REQUEST_WITHIN: Duration = Duration::from_secs(10);
/// Connections one source address may hold at once. Generous: an organisation's vendors may
/// come through one NAT address, each with a browser that opens several connections and a
/// WebSocket per session.
pub const PER_SOURCE: usize = 256;
/// Descriptors kept free of connections for the database, recordings and logs.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Raises the soft limit of open descriptors to the hard limit (systemd's default soft limit is
/// 1024, which a few hundred sessions and their recordings reach), and returns how many
/// connections may be open at once.
pub fn raise_descriptor_limit() -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if let (Some(soft), Some(hard)) = (limit.current, limit.maximum)
        && soft < hard
    {
        limit.current = Some(hard);
        match setrlimit(Resource::Nofile, limit) {
            Ok(()) => tracing::info!(descriptors = hard, "Descriptor limit raised"),
            Err(e) => tracing::warn!(error = %e, "Cannot raise the descriptor limit"),
        }
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(65_536);
    let total = soft.saturating_sub(RESERVED_DESCRIPTORS).clamp(64, 1 << 20);
    usize::try_from(total).unwrap_or(usize::MAX)
}

/// Counts the connections, by source and in all.
#[derive(Debug)]
struct Counts {
    by_source: HashMap<IpAddr, usize>,
    total: usize,
    /// When a refusal was last logged (one line a second at most, whatever the flood).
    last_logged: Option<Instant>,
}

/// An acceptor in front of `inner` that refuses connections over the bounds.
#[derive(Debug, Clone)]
pub struct Limited<A> {
    inner: A,
    counts: Arc<Mutex<Counts>>,
    per_source: usize,
    total: usize,
}

impl<A> Limited<A> {
    pub fn new(inner: A, per_source: usize, total: usize) -> Self {
        Limited {
            inner,
            counts: Arc::new(Mutex::new(Counts {
                by_source: HashMap::new(),
                total: 0,
                last_logged: None,
            })),
            per_source,
            total,
        }
    }

    /// Takes a place for a connection from `source`, if there is one.
    fn admit(&self, source: IpAddr) -> Option<Place> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let from_source = counts.by_source.get(&source).copied().unwrap_or(0);
        if from_source >= self.per_source || counts.total >= self.total {
            let now = Instant::now();
            if counts
                .last_logged
                .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1))
            {
                counts.last_logged = Some(now);
                tracing::warn!(
                    source = %source,
                    from_source,
                    total = counts.total,
                    per_source = self.per_source,
                    limit = self.total,
                    "Connection refused: too many open"
                );
            }
            return None;
        }
        *counts.by_source.entry(source).or_insert(0) += 1;
        counts.total += 1;
        Some(Place {
            counts: self.counts.clone(),
            source,
        })
    }
}

/// A connection's place in the counts, given back when the connection closes.
#[derive(Debug)]
struct Place {
    counts: Arc<Mutex<Counts>>,
    source: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.by_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                counts.by_source.remove(&self.source);
            }
        }
    }
}

/// A connection holding its place; everything else is the inner stream's, but for the wait for
/// its first bytes: a client that says nothing within [`FIRST_REQUEST_WITHIN`] is closed (hyper
/// reads a connection's first bytes to tell HTTP/1.1 from HTTP/2 before any timeout of its own
/// applies).
#[derive(Debug)]
pub struct Counted<S> {
    stream: S,
    _place: Place,
    /// Until the first bytes arrive.
    first_bytes: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let Some(deadline) = self.first_bytes.as_mut() {
            if buf.filled().len() > before {
                self.first_bytes = None;
            } else if read.is_pending() && deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no request within the time allowed",
                )));
            }
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

type Accepting<St, Sv> =
    Pin<Box<dyn std::future::Future<Output = io::Result<(Counted<St>, Sv)>> + Send>>;

impl<A, S> Accept<TcpStream, S> for Limited<A>
where
    A: Accept<TcpStream, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Counted<A::Stream>;
    type Service = A::Service;
    type Future = Accepting<A::Stream, A::Service>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let place = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.admit(peer.ip()));
        let Some(place) = place else {
            // Dropping the stream closes it at once.
            return Box::pin(std::future::ready(Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "too many connections",
            ))));
        };
        let accepting = self.inner.accept(stream, service);
        Box::pin(async move {
            let (stream, service) = accepting.await?;
            Ok((
                Counted {
                    stream,
                    _place: place,
                    first_bytes: Some(Box::pin(tokio::time::sleep(FIRST_REQUEST_WITHIN))),
                },
                service,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_by_source_and_in_all_and_given_back() {
        let limited = Limited::new((), 2, 3);
        let a: IpAddr = "192.0.2.1".parse().expect("address");
        let b: IpAddr = "192.0.2.2".parse().expect("address");
        let first = limited.admit(a).expect("a's first");
        let second = limited.admit(a).expect("a's second");
        assert!(limited.admit(a).is_none(), "a's third is over its share");
        let third = limited.admit(b).expect("b's first");
        assert!(limited.admit(b).is_none(), "over the total");
        drop(first);
        assert!(limited.admit(b).is_some(), "a place was given back");
        drop((second, third));
        let counts = limited.counts.lock().expect("lock");
        assert_eq!(counts.by_source.len(), 0);
        assert_eq!(counts.total, 0);
    }
}
