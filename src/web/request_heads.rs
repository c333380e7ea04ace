//! Looks at each HTTP/1 request head before actix-http parses it. Its parser answers three kinds
//! of head on its own, with an empty body and before any middleware runs: more than 96 header
//! fields (a fixed array inside actix-http), a head larger than its read buffer, and a request
//! target with bytes outside ASCII. Such a head is replaced here by a short stand-in request
//! that names the refusal in [`REFUSED_HEADER`]; the application then answers it in its own
//! format (the JSON envelope under `/v1`) and the connection closes after that answer.
//!
//! Heads are found by following HTTP/1 framing: a head ends at its blank line and a body that
//! `Content-Length` announces is passed on untouched. A head this module cannot frame for sure
//! (chunked bodies, upgrades, conflicting lengths) turns the rest of the connection into a plain
//! pass-through, so a request is never split or reordered; later heads on such a connection get
//! actix-http's own answers.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The header a stand-in request carries, naming why the real one was refused. A client that
/// sends it itself only gets its own request refused.
pub const REFUSED_HEADER: &str = "x-socializer-refused";

/// actix-http parses at most this many header fields into a fixed array.
pub const MAX_FIELDS: usize = 96;

/// A head longer than this is refused here, well before actix-http's 128 KiB buffer fills. The
/// 32 KiB limit on the headers themselves (see `limits`) is checked after parsing.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The longest request target a stand-in repeats; past it, only `/v1/` or `/` is kept, which is
/// all the answer needs to choose its format.
const MAX_TARGET_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyHeaders,
    HeadTooLarge,
    NonAsciiTarget,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::TooManyHeaders => "too-many-headers",
            Refusal::HeadTooLarge => "head-too-large",
            Refusal::NonAsciiTarget => "non-ascii-target",
        }
    }

    pub fn parse(value: &[u8]) -> Option<Self> {
        [
            Refusal::TooManyHeaders,
            Refusal::HeadTooLarge,
            Refusal::NonAsciiTarget,
        ]
        .into_iter()
        .find(|r| r.as_str().as_bytes() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Collecting the next request head.
    Head,
    /// Inside a body of known length: this many bytes still to pass on.
    Body(u64),
    /// Framing no longer followed; bytes pass on as they come.
    Passthrough,
    /// A stand-in request was handed on; nothing after it is read.
    Closed,
}

/// The bookkeeping, apart from any I/O: bytes go in as they arrive, and come out in
/// `ready` once inspected (or replaced).
#[derive(Debug)]
struct Inspector {
    position: Position,
    head: Vec<u8>,
    ready: Vec<u8>,
    ready_from: usize,
}

impl Inspector {
    fn new() -> Self {
        Self {
            position: Position::Head,
            head: Vec::new(),
            ready: Vec::new(),
            ready_from: 0,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.ready[self.ready_from..]
    }

    fn consume(&mut self, n: usize) {
        self.ready_from += n;
        if self.ready_from == self.ready.len() {
            self.ready.clear();
            self.ready_from = 0;
        }
    }

    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match self.position {
                Position::Closed => return,
                Position::Passthrough => {
                    self.ready.extend_from_slice(data);
                    return;
                }
                Position::Body(remaining) => {
                    let n = usize::try_from(remaining).map_or(data.len(), |r| r.min(data.len()));
                    self.ready.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    let left = remaining - n as u64;
                    self.position = if left == 0 {
                        Position::Head
                    } else {
                        Position::Body(left)
                    };
                }
                Position::Head => {
                    if self.head.is_empty() {
                        // Blank lines before a request line are allowed (RFC 9112 §2.2).
                        let blank = data
                            .iter()
                            .take_while(|b| **b == b'\r' || **b == b'\n')
                            .count();
                        self.ready.extend_from_slice(&data[..blank]);
                        data = &data[blank..];
                        if data.is_empty() {
                            return;
                        }
                    }
                    let before = self.head.len();
                    self.head.extend_from_slice(data);
                    match head_end(&self.head, before.saturating_sub(3)) {
                        Some(end) => {
                            // The rest of this read belongs to the body or the next request.
                            self.head.truncate(end);
                            data = &data[end.saturating_sub(before)..];
                            self.finish_head();
                        }
                        None if self.head.len() > MAX_HEAD_BYTES => {
                            let head = std::mem::take(&mut self.head);
                            self.refuse(Refusal::HeadTooLarge, &head);
                            return;
                        }
                        None => return,
                    }
                }
            }
        }
    }

    /// The stream ended: a partial head goes on as it came, for actix-http to judge.
    fn end(&mut self) {
        if self.position == Position::Head {
            let head = std::mem::take(&mut self.head);
            self.ready.extend_from_slice(&head);
            self.position = Position::Passthrough;
        }
    }

    fn finish_head(&mut self) {
        let head = std::mem::take(&mut self.head);
        let mut lines = head
            .split(|b| *b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let request_line = lines.next().unwrap_or_default();
        let fields: Vec<&[u8]> = lines.filter(|line| !line.is_empty()).collect();

        let parts: Vec<&[u8]> = request_line.split(|b| *b == b' ').collect();
        if let [_, target, _] = parts.as_slice()
            && !target.iter().all(|b| b.is_ascii_graphic())
        {
            return self.refuse(Refusal::NonAsciiTarget, &head);
        }
        if fields.len() > MAX_FIELDS {
            return self.refuse(Refusal::TooManyHeaders, &head);
        }
        self.position = next_position(&fields);
        self.ready.extend_from_slice(&head);
    }

    fn refuse(&mut self, why: Refusal, head: &[u8]) {
        let request_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        let target = request_line
            .split(|b| *b == b' ')
            .nth(1)
            .unwrap_or_default();
        let target: &[u8] = if !target.is_empty()
            && target.len() <= MAX_TARGET_BYTES
            && target.iter().all(|b| b.is_ascii_graphic())
        {
            target
        } else if target.starts_with(b"/v1/") {
            b"/v1/"
        } else {
            b"/"
        };
        self.ready.extend_from_slice(b"GET ");
        self.ready.extend_from_slice(target);
        self.ready.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        self.ready.extend_from_slice(host_of(head));
        self.ready.extend_from_slice(b"\r\n");
        self.ready.extend_from_slice(REFUSED_HEADER.as_bytes());
        self.ready.extend_from_slice(b": ");
        self.ready.extend_from_slice(why.as_str().as_bytes());
        self.ready
            .extend_from_slice(b"\r\nconnection: close\r\n\r\n");
        self.position = Position::Closed;
    }
}

/// The head's own `Host` when it is one plain name (actix-http refuses HTTP/1.1 without one).
fn host_of(head: &[u8]) -> &[u8] {
    head.split(|b| *b == b'\n')
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_at(line.iter().position(|b| *b == b':')?);
            name.eq_ignore_ascii_case(b"host")
                .then(|| value[1..].trim_ascii())
        })
        .filter(|host| {
            !host.is_empty() && host.len() <= 255 && host.iter().all(|b| b.is_ascii_graphic())
        })
        .unwrap_or(b"localhost")
}

/// Where a head ends (just past its blank line), searching from `from`.
fn head_end(head: &[u8], from: usize) -> Option<usize> {
    (from..head.len()).find_map(|i| {
        if head[i] != b'\n' {
            return None;
        }
        match head.get(i + 1..) {
            Some([b'\n', ..]) => Some(i + 2),
            Some([b'\r', b'\n', ..]) => Some(i + 3),
            _ => None,
        }
    })
}

/// What follows a head with these fields.
fn next_position(fields: &[&[u8]]) -> Position {
    let mut length: Option<u64> = None;
    for field in fields {
        let Some(colon) = field.iter().position(|b| *b == b':') else {
            return Position::Passthrough;
        };
        let name = &field[..colon];
        let value = field[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"transfer-encoding") || name.eq_ignore_ascii_case(b"upgrade")
        {
            return Position::Passthrough;
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let parsed = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match (parsed, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Position::Passthrough,
            }
        }
    }
    match length {
        Some(n) if n > 0 => Position::Body(n),
        _ => Position::Head,
    }
}

/// A connection whose request heads are inspected on the way in; writes pass straight through.
pub struct InspectedStream<S> {
    inner: S,
    inspector: Inspector,
    scratch: Box<[u8]>,
}

impl<S> InspectedStream<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            inspector: Inspector::new(),
            scratch: vec![0; 8 * 1024].into_boxed_slice(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for InspectedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let pending = this.inspector.pending();
            if !pending.is_empty() {
                let n = pending.len().min(buf.remaining());
                buf.put_slice(&pending[..n]);
                this.inspector.consume(n);
                return Poll::Ready(Ok(()));
            }
            match this.inspector.position {
                // End of stream for the reader: the stand-in is all it gets.
                Position::Closed => return Poll::Ready(Ok(())),
                Position::Passthrough => return Pin::new(&mut this.inner).poll_read(cx, buf),
                Position::Head | Position::Body(_) => {}
            }
            let mut read = ReadBuf::new(&mut this.scratch);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            let n = read.filled().len();
            if n == 0 {
                this.inspector.end();
                if this.inspector.pending().is_empty() {
                    return Poll::Ready(Ok(()));
                }
            } else {
                this.inspector.feed(&this.scratch[..n]);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for InspectedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> (Vec<u8>, Position) {
        let mut inspector = Inspector::new();
        for chunk in chunks {
            inspector.feed(chunk);
        }
        (inspector.pending().to_vec(), inspector.position)
    }

    fn head_with(fields: usize) -> Vec<u8> {
        let mut head = b"GET /v1/status HTTP/1.1\r\n".to_vec();
        for i in 0..fields {
            head.extend_from_slice(format!("x-f{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    #[test]
    fn ordinary_requests_pass_unchanged_even_byte_by_byte() {
        let two = [
            b"POST /a HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello".as_slice(),
            &head_with(MAX_FIELDS),
        ]
        .concat();
        let (whole, _) = run(&[&two]);
        assert_eq!(whole, two);
        let bytes: Vec<&[u8]> = two.chunks(1).collect();
        let (trickled, position) = run(&bytes);
        assert_eq!(trickled, two);
        assert_eq!(position, Position::Head);
    }

    #[test]
    fn a_body_that_looks_like_a_head_is_not_inspected() {
        let body = head_with(MAX_FIELDS + 10);
        let request = [
            format!("POST /a HTTP/1.1\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes(),
            &body,
        ]
        .concat();
        assert_eq!(run(&[&request]).0, request);
    }

    #[test]
    fn too_many_fields_become_a_stand_in_that_keeps_the_target() {
        let (out, position) = run(&[&head_with(MAX_FIELDS + 1), b"GET /next HTTP/1.1\r\n\r\n"]);
        assert_eq!(
            out,
            b"GET /v1/status HTTP/1.1\r\nhost: localhost\r\nx-socializer-refused: too-many-headers\r\nconnection: close\r\n\r\n"
        );
        assert_eq!(position, Position::Closed);
    }

    #[test]
    fn many_small_requests_in_one_read_pass_in_order() {
        let many = b"GET /a HTTP/1.1\r\n\r\n".repeat(5000);
        let (out, position) = run(&[&many]);
        assert_eq!(out, many);
        assert_eq!(position, Position::Head);
    }

    #[test]
    fn a_later_request_on_the_connection_is_inspected_too() {
        let first = b"GET /a HTTP/1.1\r\n\r\n".to_vec();
        let (out, _) = run(&[&[first.clone(), head_with(MAX_FIELDS + 1)].concat()]);
        assert!(out.starts_with(&first));
        assert!(out.ends_with(b"too-many-headers\r\nconnection: close\r\n\r\n"));
    }

    #[test]
    fn an_endless_head_and_a_non_ascii_target_are_refused() {
        let endless = [b"GET /v1/\xff".as_slice(), &vec![b'a'; MAX_HEAD_BYTES + 1]].concat();
        let (out, position) = run(&[&endless]);
        assert!(out.starts_with(b"GET /v1/ HTTP/1.1\r\nhost: localhost\r\n"));
        assert!(
            out.ends_with(b"x-socializer-refused: head-too-large\r\nconnection: close\r\n\r\n")
        );
        assert_eq!(position, Position::Closed);

        let (out, _) = run(&[b"GET /v1/k\xc3\xa9ys HTTP/1.1\r\nHost: api.example\r\n\r\n"]);
        assert!(out.starts_with(
            b"GET /v1/ HTTP/1.1\r\nhost: api.example\r\nx-socializer-refused: non-ascii-target"
        ));
        let (out, _) = run(&[b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"]);
        assert!(out.starts_with(b"GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn unframeable_heads_turn_the_connection_into_a_pass_through() {
        for fields in [
            "transfer-encoding: chunked",
            "content-length: 3\r\ncontent-length: 4",
            "content-length: +3",
            "upgrade: websocket",
        ] {
            let request = format!("POST /a HTTP/1.1\r\n{fields}\r\n\r\n");
            let (out, position) = run(&[request.as_bytes(), &head_with(MAX_FIELDS + 1)]);
            assert_eq!(position, Position::Passthrough, "{fields}");
            assert_eq!(
                out,
                [request.as_bytes(), &head_with(MAX_FIELDS + 1)].concat()
            );
        }
    }

    #[test]
    fn a_cut_off_head_goes_on_as_it_came() {
        let mut inspector = Inspector::new();
        inspector.feed(b"GET /a HTTP/1.1\r\nhost: x");
        assert!(inspector.pending().is_empty());
        inspector.end();
        assert_eq!(inspector.pending(), b"GET /a HTTP/1.1\r\nhost: x");
    }
}
