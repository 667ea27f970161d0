//! Just enough HTTP/1.1 for the tool: an origin to connect to, requests written by hand, the
//! head of a response, a decoder for chunked bodies, and a keep-alive connection that makes
//! one request at a time.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where a server listens: `http://HOST:PORT` (IPv4 or IPv6 literal, or a name resolved once).
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    /// What the `Host` header says.
    pub(crate) authority: String,
    /// The address connected to.
    pub(crate) addr: SocketAddr,
}

impl Origin {
    /// Parses `http://HOST:PORT` (a trailing `/` is allowed, a path is not) and resolves it.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("only http:// URLs are supported, got {url:?}"))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains('/') {
            return Err(format!(
                "give the server's origin (http://HOST:PORT) without a path, got {url:?}"
            ));
        }
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.contains(']'))
        {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&with_port)
            .map_err(|e| format!("cannot resolve {authority}: {e}"))?
            .next()
            .ok_or_else(|| format!("{authority} resolves to no address"))?;
        Ok(Self {
            authority: authority.to_owned(),
            addr,
        })
    }
}

/// A request as bytes: `METHOD PATH HTTP/1.1`, `Host`, the headers, and a body with its
/// `Content-Length` when there is one.
pub(crate) fn request(
    method: &str,
    origin: &Origin,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", origin.authority);
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    if !body.is_empty() || method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The status line and the headers that say how the body is framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// The status code.
    pub(crate) status: u16,
    /// `Transfer-Encoding: chunked`.
    pub(crate) chunked: bool,
    /// `Content-Length`, when given.
    pub(crate) content_length: Option<usize>,
}

/// Where the head in `bytes` ends (just past its blank line), once it is complete.
pub(crate) fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

impl Head {
    /// Parses a complete head (as delimited by [`head_end`]).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "the response head is not UTF-8")?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("not an HTTP/1.x status line: {status_line:?}"))?;
        let mut head = Self {
            status,
            chunked: false,
            content_length: None,
        };
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                head.chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("content-length") {
                head.content_length = Some(
                    value
                        .parse()
                        .map_err(|_| format!("bad Content-Length {value:?}"))?,
                );
            }
        }
        Ok(head)
    }
}

/// Decodes a `Transfer-Encoding: chunked` body as its bytes arrive, in any pieces.
#[derive(Debug, Default)]
pub(crate) struct Chunked {
    state: ChunkState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk's size in hex; `extension` once past a `;`.
    #[default]
    SizeStart,
    Size {
        size: usize,
        extension: bool,
    },
    /// After the size line's CR.
    SizeLf {
        size: usize,
    },
    /// Bytes of data still to come in this chunk.
    Data(usize),
    /// The CRLF after a chunk's data.
    DataCr,
    DataLf,
    /// The CRLF after the last (empty) chunk; trailers are not expected.
    LastCr,
    LastLf,
    Done,
}

impl Chunked {
    /// Appends the data in `input` to `out`; true once the last chunk has been read.
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<bool, String> {
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            self.state = match self.state {
                ChunkState::SizeStart | ChunkState::Size { .. } => {
                    let (size, extension) = match self.state {
                        ChunkState::Size { size, extension } => (size, extension),
                        _ => (0, false),
                    };
                    match byte {
                        b'\r' if self.state == ChunkState::SizeStart => {
                            return Err("empty chunk size line".to_owned());
                        }
                        b'\r' => ChunkState::SizeLf { size },
                        _ if extension => ChunkState::Size { size, extension },
                        b';' => ChunkState::Size {
                            size,
                            extension: true,
                        },
                        _ => {
                            let digit = (byte as char)
                                .to_digit(16)
                                .ok_or_else(|| format!("bad chunk size byte {byte:#04x}"))?;
                            let size = size
                                .checked_mul(16)
                                .and_then(|s| s.checked_add(digit as usize))
                                .ok_or("chunk size overflows")?;
                            ChunkState::Size {
                                size,
                                extension: false,
                            }
                        }
                    }
                }
                ChunkState::SizeLf { size } => {
                    if byte != b'\n' {
                        return Err("chunk size line not ended by CRLF".to_owned());
                    }
                    if size == 0 {
                        ChunkState::LastCr
                    } else {
                        ChunkState::Data(size)
                    }
                }
                ChunkState::Data(remaining) => {
                    let take = remaining.min(input.len() - i);
                    out.extend_from_slice(&input[i..i + take]);
                    i += take;
                    self.state = if take == remaining {
                        ChunkState::DataCr
                    } else {
                        ChunkState::Data(remaining - take)
                    };
                    continue;
                }
                ChunkState::DataCr if byte == b'\r' => ChunkState::DataLf,
                ChunkState::DataLf if byte == b'\n' => ChunkState::SizeStart,
                ChunkState::LastCr if byte == b'\r' => ChunkState::LastLf,
                ChunkState::LastLf if byte == b'\n' => ChunkState::Done,
                ChunkState::DataCr | ChunkState::DataLf => {
                    return Err("chunk data not followed by CRLF".to_owned());
                }
                ChunkState::LastCr | ChunkState::LastLf => {
                    return Err("trailers after the last chunk are not supported".to_owned());
                }
                ChunkState::Done => return Err("bytes after the last chunk".to_owned()),
            };
            i += 1;
        }
        Ok(self.state == ChunkState::Done)
    }
}

/// A response read whole.
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The body, de-chunked.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The body as text, cut to `max` bytes, for error messages.
    pub(crate) fn body_text(&self, max: usize) -> String {
        String::from_utf8_lossy(&self.body[..self.body.len().min(max)]).into_owned()
    }
}

/// A keep-alive connection making one request at a time.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    /// Bytes read past the end of the previous response.
    buffered: Vec<u8>,
}

impl Connection {
    /// Connects to `origin`.
    pub(crate) async fn open(origin: &Origin) -> Result<Self, String> {
        let stream = TcpStream::connect(origin.addr)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", origin.authority))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
        Ok(Self {
            stream,
            buffered: Vec::new(),
        })
    }

    /// Writes `request` (from [`request`]) and reads its whole response.
    pub(crate) async fn exchange(&mut self, request: &[u8]) -> Result<Response, String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("cannot send the request: {e}"))?;
        let mut bytes = std::mem::take(&mut self.buffered);
        let end = loop {
            if let Some(end) = head_end(&bytes) {
                break end;
            }
            self.fill(&mut bytes).await?;
        };
        let head = Head::parse(&bytes[..end])?;
        let mut rest = bytes.split_off(end);
        let mut body = Vec::new();
        if head.chunked {
            let mut decoder = Chunked::default();
            loop {
                if decoder.decode(&rest, &mut body)? {
                    break;
                }
                rest.clear();
                self.fill(&mut rest).await?;
            }
            // Anything after the last chunk would belong to a response not asked for.
        } else {
            let length = head.content_length.unwrap_or(0);
            while rest.len() < length {
                self.fill(&mut rest).await?;
            }
            self.buffered = rest.split_off(length);
            body = rest;
        }
        Ok(Response {
            status: head.status,
            body,
        })
    }

    async fn fill(&mut self, bytes: &mut Vec<u8>) -> Result<(), String> {
        let mut chunk = [0; 4096];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("cannot read the response: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".to_owned());
        }
        bytes.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_in_any_pieces() {
        let wire = b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n";
        for split in 0..wire.len() {
            let mut decoder = Chunked::default();
            let mut out = Vec::new();
            let first = decoder.decode(&wire[..split], &mut out).unwrap();
            let done = decoder.decode(&wire[split..], &mut out).unwrap();
            assert!(!first || split == wire.len());
            assert!(done);
            assert_eq!(out, b"hello world!");
        }
    }

    #[test]
    fn bad_chunk_sizes_are_errors() {
        let mut out = Vec::new();
        assert!(Chunked::default().decode(b"zz\r\n", &mut out).is_err());
        assert!(Chunked::default().decode(b"2\r\nabX", &mut out).is_err());
    }

    #[test]
    fn heads_say_how_the_body_is_framed() {
        let bytes = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                      transfer-encoding: chunked\r\n\r\ndata";
        let end = head_end(bytes).unwrap();
        assert_eq!(&bytes[end..], b"data");
        let head = Head::parse(&bytes[..end]).unwrap();
        assert_eq!(
            head,
            Head {
                status: 200,
                chunked: true,
                content_length: None
            }
        );
        let head = Head::parse(b"HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n").unwrap();
        assert_eq!((head.status, head.content_length), (201, Some(12)));
        assert!(Head::parse(b"SSH-2.0\r\n\r\n").is_err());
    }

    #[test]
    fn origins_take_no_path() {
        let origin = Origin::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(origin.authority, "127.0.0.1:8080");
        assert_eq!(origin.addr.port(), 8080);
        assert!(Origin::parse("http://127.0.0.1:8080/api").is_err());
        assert!(Origin::parse("https://127.0.0.1").is_err());
    }

    #[test]
    fn requests_carry_host_and_length() {
        let origin = Origin::parse("http://127.0.0.1:9").unwrap();
        let bytes = request("PATCH", &origin, "/x", &[("X-Tenant-ID", "t")], b"{}");
        assert_eq!(
            bytes,
            b"PATCH /x HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-Tenant-ID: t\r\n\
              Content-Length: 2\r\n\r\n{}"
        );
    }
}
