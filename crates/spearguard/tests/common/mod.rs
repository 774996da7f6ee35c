//! Shared by the end-to-end tests: start the real `spearguard serve` on loopback ports
//! picked by the OS, learn the addresses it reports, send mail, wait for effects, stop it.
//!
//! `serve` prints one `spearguard: <SERVICE> listening on <ADDR>` line per listener on
//! stderr (SMTP last, once everything is bound); [`Gateway::start`] reads them.

#![allow(dead_code, unreachable_pub)]

pub mod client;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A message file from `fixtures/messages/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/messages")
        .join(name)
}

/// A running `spearguard serve`.
pub struct Gateway {
    /// The process.
    pub child: Child,
    /// Listener addresses by service name as printed ("SMTP", "milter", "HTTP").
    pub listeners: HashMap<String, String>,
    /// The loopback DNS server `serve` was pointed at (`--resolver`), unless the test gave
    /// its own: sender authentication never asks the internet.
    pub dns: Option<sg_testkit::TestDns>,
}

impl Gateway {
    /// Starts `serve` on 127.0.0.1:0 ports with `data` as its data dir, plus `extra` args.
    /// Every listener the build knows is put on port 0 unless `extra` sets it, and unless
    /// `extra` has `--resolver`, DNS goes to a loopback server with an empty zone.
    pub fn start(data: &Path, extra: &[&str]) -> Gateway {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_spearguard"));
        cmd.env_remove("SPEARGUARD_CONFIG").arg("serve");
        let mut dns = None;
        if !extra.contains(&"--resolver") && serve_accepts("--resolver") {
            dns = sg_testkit::TestDns::start("{}");
            if let Some(d) = &dns {
                cmd.args(["--resolver", &d.addr()]);
            }
        }
        for flag in ["--smtp-listen", "--milter-listen", "--http-listen"] {
            if !extra.contains(&flag) && serve_accepts(flag) {
                cmd.args([flag, "127.0.0.1:0"]);
            }
        }
        let mut child = cmd
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start spearguard serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut listeners = HashMap::new();
        loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => panic!("serve exited before listening: {:?}", child.wait()),
            };
            if let Some((service, rest)) = line
                .strip_prefix("spearguard: ")
                .and_then(|l| l.split_once(" listening on "))
            {
                let addr = rest.split([',', ' ']).next().expect("address").to_string();
                let done = service == "SMTP";
                listeners.insert(service.to_string(), addr);
                if done {
                    break;
                }
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Gateway {
            child,
            listeners,
            dns,
        }
    }

    /// The address of `service` ("SMTP", "milter", "HTTP").
    pub fn addr(&self, service: &str) -> &str {
        self.listeners
            .get(service)
            .unwrap_or_else(|| panic!("serve did not report a {service} listener"))
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits (20 s at most) for the exit code.
    pub fn stop(mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s.code();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A test that fails half way must not leave `serve` running (a no-op once it has exited).
impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether `serve --help` lists `flag` (listeners added by later work are optional here).
fn serve_accepts(flag: &str) -> bool {
    static HELP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HELP.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_spearguard"))
            .args(["serve", "--help"])
            .output()
            .expect("serve --help");
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .contains(flag)
}

/// Whether python3 (the SMTP client of these tests) is installed; says the test is skipped
/// when it is not.
pub fn have_python() -> bool {
    let ok = Command::new("python3").arg("--version").output().is_ok();
    if !ok {
        eprintln!(
            "skipped: python3 (SMTP client, HTTP client, test DNS) not installed; scripts/setup.sh installs it"
        );
    }
    ok
}

/// Runs `python3 -c script args…`; fails the test if it fails; returns its raw stdout.
pub fn python_output(script: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// [`python_output`] as trimmed text.
pub fn python(script: &str, args: &[&str]) -> String {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    String::from_utf8_lossy(&python_output(script, &args))
        .trim()
        .to_string()
}

/// Sends a message file with Python's smtplib; returns `sent` or `refused CODE`.
pub fn send(addr: &str, from: &str, to: &str, file: &Path) -> String {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let script = r#"
import smtplib, sys, email, email.policy
host, port, sender, rcpt, path = sys.argv[1:6]
msg = email.message_from_binary_file(open(path, 'rb'), policy=email.policy.SMTP)
try:
    with smtplib.SMTP(host, int(port), timeout=30) as s:
        s.send_message(msg, from_addr=sender, to_addrs=[rcpt])
    print('sent')
except smtplib.SMTPResponseException as e:
    print('refused', e.smtp_code)
except smtplib.SMTPRecipientsRefused as e:
    print('refused', list(e.recipients.values())[0][0])
"#;
    let file = file.to_str().expect("UTF-8 path");
    python(script, &[host, port, from, to, file])
}

/// The entries of a folder (none if it does not exist).
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// Polls `f` every 50 ms until it holds; fails the test after 20 s.
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP request with Python's urllib (`token` as a bearer token when given); returns the
/// status and the body.
pub fn http(method: &str, url: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let script = r#"
import sys, urllib.request, urllib.error
method, url, token = sys.argv[1:4]
req = urllib.request.Request(url, method=method)
if token:
    req.add_header('Authorization', 'Bearer ' + token)
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
sys.stdout.buffer.write(b'%d\n' % status + body)
"#;
    let args = [method, url, token.unwrap_or("")].map(std::ffi::OsStr::new);
    let out = python_output(script, &args);
    let newline = out.iter().position(|&b| b == b'\n').expect("status");
    let status = std::str::from_utf8(&out[..newline])
        .expect("status text")
        .parse()
        .expect("status number");
    (status, out[newline + 1..].to_vec())
}

/// Starts `serve` with the data dir `root/data` and a config file `root/spearguard.toml`
/// holding `config` (e.g. short `[smtp_server]` timeouts); returns it and the data dir.
pub fn start_with_config(root: &Path, config: &str) -> (Gateway, PathBuf) {
    let file = root.join("spearguard.toml");
    std::fs::write(&file, config).expect("write config");
    let data = root.join("data");
    let file = file.to_str().expect("utf-8 temp path");
    (Gateway::start(&data, &["--config", file]), data)
}

/// Whether a message containing `token` is in `rcpt`'s Maildir (`new/`), and how often.
pub fn delivered_count(data: &Path, rcpt: &str, token: &str) -> usize {
    files_in(&data.join("mailboxes").join(rcpt).join("new"))
        .iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|b| String::from_utf8_lossy(&b).contains(token))
                .unwrap_or(false)
        })
        .count()
}
