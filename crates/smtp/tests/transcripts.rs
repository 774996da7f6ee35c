//! Runs `tests/transcripts/*.txt` against a [`Session`], three times each: every client
//! write whole, one byte at a time, and in random pieces. The replies and events must be
//! the same however the bytes are split.
//!
//! Format, one directive per line (`#` starts a comment line):
//! - `@config key = value` — TOML for `[smtp]`, before the first `C:`.
//! - `@tls available` / `@tls active` / `@tls required` — what the driver offers
//!   (default: no TLS; `required` = available, and mail refused until STARTTLS).
//! - `C: text` — bytes the client sends, with `\r\n` appended unless the text ends in
//!   `\c`. Escapes: `\r \n \t \\ \xHH`, and `\*N*c` for N copies of the character c.
//!   Consecutive `C:` lines are ONE write (pipelining).
//! - `S: text` — the next reply line the server must have sent.
//! - `E: message from=<a> to=<b>,<c> [helo=h] [tls=yes|no] [smtputf8=yes|no]
//!   [body=7bit|8bitmime|none] [bytes=N]` — the next event is MessageReady with these
//!   fields; `M: text` lines right after it are the exact message, one line each
//!   (CRLF appended unless `\c`).
//! - `E: starttls [discarded=N]` (N is checked only when writes are whole), `E: close`.
//! - `> stored ID`, `> rejected REASON`, `> tempfailed REASON`, `> not-stored`,
//!   `> tls-started`, `> shutdown`, `> timeout` — what the driver does.
//!
//! At the end, every reply and event must have been expected.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;

use sg_smtp::{Body, Config, Connection, Event, Phase, Session};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Split {
    Whole,
    Bytes,
    Random(u64),
}

struct Harness {
    session: Session,
    split: Split,
    rng: u64,
    bound: usize,
    replies: VecDeque<String>,
    events: VecDeque<Event>,
}

impl Harness {
    fn write(&mut self, mut bytes: &[u8]) -> Result<(), String> {
        while !bytes.is_empty() {
            let n = match self.split {
                Split::Whole => bytes.len(),
                Split::Bytes => 1,
                Split::Random(_) => 1 + (self.next_random() % 13) as usize,
            }
            .min(bytes.len());
            self.session.receive(&bytes[..n]);
            bytes = &bytes[n..];
            if matches!(self.session.phase(), Phase::Command | Phase::Data)
                && self.session.buffered_bytes() > self.bound
            {
                return Err(format!(
                    "session holds {} bytes, more than {}",
                    self.session.buffered_bytes(),
                    self.bound
                ));
            }
            self.collect()?;
        }
        Ok(())
    }

    fn collect(&mut self) -> Result<(), String> {
        let output = self.session.take_output();
        let text = String::from_utf8(output).map_err(|e| format!("reply not UTF-8: {e}"))?;
        if !text.is_empty() && !text.ends_with("\r\n") {
            return Err(format!("output does not end in CRLF: {text:?}"));
        }
        for line in text.split_terminator("\r\n") {
            if line.contains('\n') || line.contains('\r') || line.len() > 510 {
                return Err(format!("malformed reply line {line:?}"));
            }
            self.replies.push_back(line.to_string());
        }
        while let Some(event) = self.session.poll_event() {
            self.events.push_back(event);
        }
        Ok(())
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn act(&mut self, action: &str) -> Result<(), String> {
        let (verb, arg) = action.split_once(' ').unwrap_or((action, ""));
        let s = &mut self.session;
        match verb {
            "stored" => s.message_stored(arg).map_err(|e| e.to_string())?,
            "rejected" => s.message_rejected(arg).map_err(|e| e.to_string())?,
            "tempfailed" => s.message_tempfailed(arg).map_err(|e| e.to_string())?,
            "not-stored" => s.message_not_stored().map_err(|e| e.to_string())?,
            "tls-started" => s.tls_started().map_err(|e| e.to_string())?,
            "shutdown" => s.shutting_down(),
            "timeout" => s.timed_out(),
            _ => return Err(format!("unknown action {action:?}")),
        }
        self.collect()
    }
}

/// Decodes the escapes of a `C:` or `M:` line and appends CRLF unless it ends in `\c`.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    let mut crlf = true;
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('c') if chars.as_str().is_empty() => crlf = false,
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16).map_err(|e| format!("\\x{hex}: {e}"))?;
                out.push(byte);
            }
            Some('*') => {
                let rest = chars.as_str();
                let (count, rest) = rest.split_once('*').ok_or("\\* needs N*c")?;
                let count: usize = count.parse().map_err(|e| format!("\\*{count}: {e}"))?;
                let mut rest = rest.chars();
                let c = rest.next().ok_or("\\*N* needs a character")?;
                out.extend(std::iter::repeat_n(c as u8, count));
                chars = rest;
            }
            other => return Err(format!("unknown escape \\{other:?}")),
        }
    }
    if crlf {
        out.extend_from_slice(b"\r\n");
    }
    Ok(out)
}

fn check_message(expected: &str, event: Option<Event>) -> Result<Vec<u8>, String> {
    let Some(Event::MessageReady { envelope, data }) = event else {
        return Err(format!("expected a message, got {event:?}"));
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for field in expected.split_whitespace().skip(1) {
        let (key, want) = field
            .split_once('=')
            .ok_or(format!("bad field {field:?}"))?;
        let got = match key {
            "from" => format!("<{}>", envelope.mail_from),
            "to" => envelope
                .rcpt_to
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(","),
            "helo" => envelope.helo.clone(),
            "tls" => yes_no(envelope.tls).to_string(),
            "smtputf8" => yes_no(envelope.smtputf8).to_string(),
            "body" => match envelope.body {
                Body::Unspecified => "none",
                Body::SevenBit => "7bit",
                Body::EightBitMime => "8bitmime",
            }
            .to_string(),
            "bytes" => data.len().to_string(),
            _ => return Err(format!("unknown message field {key:?}")),
        };
        if got != want {
            return Err(format!("message {key}: expected {want}, got {got}"));
        }
    }
    Ok(data)
}

fn run(path: &Path, split: Split) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut config = String::new();
    let (mut tls_available, mut tls_active, mut tls_required) = (false, false, false);
    let lines: Vec<&str> = text.lines().collect();
    for line in lines
        .iter()
        .take_while(|l| !l.starts_with("C:") && !l.starts_with("S:"))
    {
        if let Some(toml) = line.strip_prefix("@config ") {
            writeln!(config, "{toml}").map_err(|e| e.to_string())?;
        } else if *line == "@tls available" {
            tls_available = true;
        } else if *line == "@tls active" {
            (tls_available, tls_active) = (true, true);
        } else if *line == "@tls required" {
            (tls_available, tls_required) = (true, true);
        }
    }
    let config: Config = toml::from_str(&config).map_err(|e| format!("@config: {e}"))?;
    let config = config.validate().map_err(|e| format!("@config: {e:?}"))?;
    let bound = config.max_line_length.max(4096) + config.max_message_size;
    let connection = Connection {
        peer: "192.0.2.1:40000".parse().map_err(|e| format!("{e}"))?,
        tls_available,
        tls_active,
        tls_required,
    };
    let seed = match split {
        Split::Random(seed) => seed,
        _ => 1,
    };
    let mut h = Harness {
        session: Session::new(config, connection),
        split,
        rng: seed,
        bound,
        replies: VecDeque::new(),
        events: VecDeque::new(),
    };
    h.collect()?;
    let mut pending: Vec<u8> = Vec::new();
    let mut message: Option<(Vec<u8>, Option<Vec<u8>>)> = None; // (got, expected so far)
    for (number, line) in lines.iter().enumerate() {
        let at = |e: String| format!("{}:{}: {e}", path.display(), number + 1);
        if let Some(bytes) = line.strip_prefix("C: ").or(line.strip_prefix("C:")) {
            pending.extend(unescape(bytes).map_err(at)?);
            continue;
        }
        h.write(&std::mem::take(&mut pending)).map_err(at)?;
        if let Some(m) = line.strip_prefix("M: ").or(line.strip_prefix("M:")) {
            let (_, expected) = message.as_mut().ok_or_else(|| at("M: without E:".into()))?;
            expected
                .get_or_insert_with(Vec::new)
                .extend(unescape(m).map_err(at)?);
            continue;
        }
        if let Some((got, Some(expected))) = message.take()
            && got != expected
        {
            return Err(at(format!(
                "message differs\n  expected: {:?}\n  got:      {:?}",
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&got)
            )));
        }
        if let Some(want) = line.strip_prefix("S: ") {
            match h.replies.pop_front() {
                Some(got) if got == want => {}
                got => return Err(at(format!("expected reply {want:?}, got {got:?}"))),
            }
        } else if let Some(want) = line.strip_prefix("E: ") {
            let event = h.events.pop_front();
            match want.split_whitespace().next() {
                Some("message") => {
                    let data = check_message(want, event).map_err(at)?;
                    message = Some((data, None));
                }
                Some("starttls") => match event {
                    Some(Event::StartTls { discarded }) => {
                        let want_n = want.strip_prefix("starttls discarded=");
                        if split == Split::Whole
                            && let Some(n) = want_n
                            && n != discarded.to_string()
                        {
                            return Err(at(format!("discarded {discarded}, expected {n}")));
                        }
                    }
                    other => return Err(at(format!("expected starttls, got {other:?}"))),
                },
                Some("close") if event == Some(Event::Close) => {}
                _ => return Err(at(format!("expected event {want:?}, got {event:?}"))),
            }
        } else if let Some(action) = line.strip_prefix("> ") {
            h.act(action).map_err(at)?;
        } else if !(line.is_empty() || line.starts_with('#') || line.starts_with('@')) {
            return Err(at(format!("cannot read line {line:?}")));
        }
    }
    h.write(&pending)?;
    if let Some((got, Some(expected))) = message
        && got != expected
    {
        return Err(format!("{}: last message differs", path.display()));
    }
    if !h.replies.is_empty() || !h.events.is_empty() {
        return Err(format!(
            "{}: unexpected at the end: replies {:?}, events {:?}",
            path.display(),
            h.replies,
            h.events
        ));
    }
    Ok(())
}

fn run_all(split: Split) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/transcripts exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "only {} transcripts", paths.len());
    let failures: Vec<String> = paths.iter().filter_map(|p| run(p, split).err()).collect();
    assert!(
        failures.is_empty(),
        "{split:?}: {} transcript(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn transcripts_pass_with_whole_writes() {
    run_all(Split::Whole);
}

#[test]
fn transcripts_pass_one_byte_at_a_time() {
    run_all(Split::Bytes);
}

#[test]
fn transcripts_pass_in_random_pieces() {
    for seed in [0x9E37_79B9_7F4A_7C15, 0x2545_F491_4F6C_DD1D, 7] {
        run_all(Split::Random(seed));
    }
}

#[test]
fn unescape_reads_repeats_and_hex() {
    assert_eq!(unescape("a\\*3*xb\\x41\\c").unwrap(), b"axxxbA");
    assert_eq!(unescape("\\n.\\n").unwrap(), b"\n.\n\r\n");
}
