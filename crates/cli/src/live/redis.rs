//! The little of Redis `corsgate live` needs, over RESP2 on one TCP connection: `AUTH`,
//! `SELECT`, `GET`, and `WATCH`/`MULTI`/`SET`/`EXEC` to replace a value and keep the one it
//! replaces in one atomic step (<https://redis.io/docs/latest/develop/reference/protocol-spec/>).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long one command may take: `corsgate live` is run by people and CI jobs, which must not
/// hang on a store that does not answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The largest reply read: a list is at most 64 KiB; anything far larger is not ours.
const MAX_REPLY_BYTES: usize = 16 << 20;

/// A Redis reply.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    /// `None`: the nil bulk string.
    Bulk(Option<Vec<u8>>),
    /// `None`: the nil array (`EXEC` after a watched key changed).
    Array(Option<Vec<Reply>>),
}

/// One connection, authenticated and on its database.
pub(crate) struct Redis {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Redis {
    /// Connects to `url`: `redis://[[user]:password@]host[:port][/db]` (Spin's runtime config
    /// writes the same URL).
    pub(crate) fn connect(url: &str) -> Result<Redis, String> {
        // Never the URL itself: it may hold a password.
        let bad =
            || "not a Redis URL: write redis://[[user]:password@]host[:port][/db]".to_string();
        let rest = url.strip_prefix("redis://").ok_or_else(bad)?;
        let (userinfo, rest) = match rest.rsplit_once('@') {
            Some((userinfo, rest)) => (Some(userinfo), rest),
            None => (None, rest),
        };
        let (authority, db) = match rest.split_once('/') {
            Some((authority, db)) if !db.is_empty() => {
                (authority, Some(db.parse::<u32>().map_err(|_| bad())?))
            }
            Some((authority, _)) => (authority, None),
            None => (rest, None),
        };
        let authority = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:6379")
        };
        let address = authority
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {authority}: {e}"))?
            .next()
            .ok_or_else(bad)?;
        let stream = TcpStream::connect_timeout(&address, TIMEOUT)
            .map_err(|e| format!("cannot connect to Redis at {authority}: {e}"))?;
        stream
            .set_read_timeout(Some(TIMEOUT))
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(Some(TIMEOUT))
            .map_err(|e| e.to_string())?;
        let mut redis = Redis {
            reader: BufReader::new(stream.try_clone().map_err(|e| e.to_string())?),
            writer: stream,
        };
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or(("", userinfo));
            let reply = match user {
                "" => redis.command(&[b"AUTH", password.as_bytes()])?,
                user => redis.command(&[b"AUTH", user.as_bytes(), password.as_bytes()])?,
            };
            redis.expect_ok(reply, "AUTH")?;
        }
        if let Some(db) = db {
            let reply = redis.command(&[b"SELECT", db.to_string().as_bytes()])?;
            redis.expect_ok(reply, "SELECT")?;
        }
        Ok(redis)
    }

    /// The value of `key`, `None` when there is none.
    pub(crate) fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        match self.command(&[b"GET", key.as_bytes()])? {
            Reply::Bulk(value) => Ok(value),
            other => Err(format!("GET {key}: unexpected reply {other:?}")),
        }
    }

    /// Sets `key` to `value` and `previous_key` to what `key` held (deleted when it held
    /// nothing), in one transaction that
    /// fails when `key` changed after `expected` was read from it (`WATCH`): two publishers
    /// never lose each other's value. Returns whether it was applied.
    pub(crate) fn replace(
        &mut self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        previous_key: &str,
    ) -> Result<bool, String> {
        let reply = self.command(&[b"WATCH", key.as_bytes()])?;
        self.expect_ok(reply, "WATCH")?;
        if self.get(key)?.as_deref() != expected {
            let reply = self.command(&[b"UNWATCH"])?;
            self.expect_ok(reply, "UNWATCH")?;
            return Ok(false);
        }
        let reply = self.command(&[b"MULTI"])?;
        self.expect_ok(reply, "MULTI")?;
        match expected {
            Some(current) => self.queue(&[b"SET", previous_key.as_bytes(), current])?,
            // A previous value from before the key was emptied is no longer the one replaced.
            None => self.queue(&[b"DEL", previous_key.as_bytes()])?,
        }
        self.queue(&[b"SET", key.as_bytes(), value])?;
        match self.command(&[b"EXEC"])? {
            Reply::Array(None) => Ok(false),
            Reply::Array(Some(replies)) => {
                // `SET` answers `OK`, `DEL` the number of keys removed.
                match replies.into_iter().find(|r| matches!(r, Reply::Error(_))) {
                    Some(Reply::Error(e)) => Err(format!("EXEC: {e}")),
                    _ => Ok(true),
                }
            }
            other => Err(format!("EXEC: unexpected reply {other:?}")),
        }
    }

    fn queue(&mut self, args: &[&[u8]]) -> Result<(), String> {
        match self.command(args)? {
            Reply::Simple(s) if s == "QUEUED" => Ok(()),
            other => Err(format!("queueing a command: unexpected reply {other:?}")),
        }
    }

    fn expect_ok(&self, reply: Reply, what: &str) -> Result<(), String> {
        match reply {
            Reply::Simple(s) if s == "OK" => Ok(()),
            Reply::Error(e) => Err(format!("{what}: {e}")),
            other => Err(format!("{what}: unexpected reply {other:?}")),
        }
    }

    /// Sends one command as an array of bulk strings and reads its reply.
    pub(crate) fn command(&mut self, args: &[&[u8]]) -> Result<Reply, String> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        self.writer
            .write_all(&request)
            .map_err(|e| format!("writing to Redis: {e}"))?;
        read_reply(&mut self.reader)
    }
}

fn read_reply(reader: &mut impl BufRead) -> Result<Reply, String> {
    let mut line = Vec::new();
    reader
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("reading from Redis: {e}"))?;
    let line = line
        .strip_suffix(b"\r\n")
        .ok_or("Redis closed the connection or sent a line without CRLF")?;
    let (&kind, rest) = line.split_first().ok_or("an empty reply line")?;
    let text = String::from_utf8_lossy(rest).into_owned();
    let length = || -> Result<Option<usize>, String> {
        let n: i64 = text.parse().map_err(|_| format!("a bad length {text:?}"))?;
        match n {
            -1 => Ok(None),
            n if n >= 0 && (n as usize) <= MAX_REPLY_BYTES => Ok(Some(n as usize)),
            n => Err(format!("a length out of range: {n}")),
        }
    };
    Ok(match kind {
        b'+' => Reply::Simple(text),
        b'-' => Reply::Error(text),
        b':' => Reply::Integer(
            text.parse()
                .map_err(|_| format!("a bad integer {text:?}"))?,
        ),
        b'$' => match length()? {
            None => Reply::Bulk(None),
            Some(n) => {
                let mut value = vec![0; n + 2];
                reader
                    .read_exact(&mut value)
                    .map_err(|e| format!("reading from Redis: {e}"))?;
                value.truncate(n);
                Reply::Bulk(Some(value))
            }
        },
        b'*' => match length()? {
            None => Reply::Array(None),
            Some(n) => Reply::Array(Some(
                (0..n)
                    .map(|_| read_reply(reader))
                    .collect::<Result<_, _>>()?,
            )),
        },
        other => return Err(format!("an unknown reply type {:?}", other as char)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_as_resp2_writes_them() {
        let cases: &[(&str, &[u8], Result<Reply, ()>)] = &[
            ("simple", b"+OK\r\n", Ok(Reply::Simple("OK".into()))),
            (
                "error",
                b"-ERR wrong\r\n",
                Ok(Reply::Error("ERR wrong".into())),
            ),
            ("integer", b":42\r\n", Ok(Reply::Integer(42))),
            (
                "bulk",
                b"$3\r\nabc\r\n",
                Ok(Reply::Bulk(Some(b"abc".to_vec()))),
            ),
            (
                "bulk with CRLF inside",
                b"$4\r\na\r\nb\r\n",
                Ok(Reply::Bulk(Some(b"a\r\nb".to_vec()))),
            ),
            ("nil bulk", b"$-1\r\n", Ok(Reply::Bulk(None))),
            (
                "nil array (EXEC aborted)",
                b"*-1\r\n",
                Ok(Reply::Array(None)),
            ),
            (
                "array",
                b"*2\r\n+OK\r\n+OK\r\n",
                Ok(Reply::Array(Some(vec![
                    Reply::Simple("OK".into()),
                    Reply::Simple("OK".into()),
                ]))),
            ),
            ("cut short", b"$10\r\nabc", Err(())),
            ("no CRLF", b"+OK", Err(())),
            ("a huge length", b"$99999999999\r\n", Err(())),
            ("unknown type", b"?x\r\n", Err(())),
        ];
        for (name, bytes, expected) in cases {
            let got = read_reply(&mut &bytes[..]).map_err(|_| ());
            assert_eq!(&got, expected, "{name}");
        }
    }
}
