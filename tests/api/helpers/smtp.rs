//! A real SMTP listener for e-mail tests: it speaks enough of RFC 5321 for a submission
//! client (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and hands over each message it
//! accepts, envelope and raw text, so a test reads what was delivered.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// `user:password` the client authenticated with (AUTH PLAIN), if it did.
    pub auth: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as received (dot-unstuffed, CRLF line ends).
    pub data: String,
}

impl Delivered {
    /// The first `https://…` or `http://…` URL in the message body.
    pub fn link(&self) -> Option<String> {
        let (_, body) = self.data.split_once("\r\n\r\n")?;
        // Quoted-printable soft line breaks (`=\r\n`) may split long links.
        let body = body.replace("=\r\n", "").replace("=3D", "=");
        let start = body.find("http://").or_else(|| body.find("https://"))?;
        let end = body[start..]
            .find(|c: char| c.is_whitespace())
            .map_or(body.len(), |e| start + e);
        Some(body[start..end].to_owned())
    }
}

/// Listens on 127.0.0.1; returns the port and the messages as they arrive.
pub async fn smtp_sink() -> (u16, mpsc::UnboundedReceiver<Delivered>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink.test ESMTP\r\n").await;
                let (mut from, mut to, mut auth) = (String::new(), Vec::new(), None);
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("AUTH PLAIN") {
                        let mut b64 = line[10..].trim().to_owned();
                        if b64.is_empty() {
                            let _ = w.write_all(b"334 \r\n").await;
                            b64 = lines.next_line().await.ok().flatten().unwrap_or_default();
                        }
                        auth = plain(&b64);
                        b"235 authenticated\r\n"
                    } else if upper.starts_with("HELO") {
                        b"250 sink.test\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        from = line[10..].trim().to_owned();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(l.strip_prefix('.').unwrap_or(&l));
                            data.push_str("\r\n");
                        }
                        let _ = tx.send(Delivered {
                            auth: auth.clone(),
                            from: std::mem::take(&mut from),
                            to: std::mem::take(&mut to),
                            data,
                        });
                        b"250 OK queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else if upper == "RSET" || upper == "NOOP" {
                        b"250 OK\r\n"
                    } else {
                        b"502 not implemented\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, rx)
}

/// `\0user\0password` in base64 → `user:password`.
fn plain(b64: &str) -> Option<String> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split('\0').skip(1);
    Some(format!("{}:{}", parts.next()?, parts.next()?))
}
