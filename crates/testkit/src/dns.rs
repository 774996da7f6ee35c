//! A throwaway authoritative DNS server on 127.0.0.1 for tests (`scripts/testdns.py`), so
//! SPF, DKIM and DMARC are checked against records the test wrote, never the internet.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// A running `scripts/testdns.py`; killed (and its zone file removed) on drop.
#[derive(Debug)]
pub struct TestDns {
    child: Child,
    port: u16,
    zone_file: PathBuf,
}

impl TestDns {
    /// Starts the server with `zone_json` (see the script's doc: `{"name": {"TXT": [...]}}`).
    /// `None` when python3 is not installed (the caller skips with a message); panics when
    /// the script fails, since that is a broken test set-up.
    pub fn start(zone_json: &str) -> Option<TestDns> {
        static N: AtomicU64 = AtomicU64::new(0);
        if Command::new("python3").arg("--version").output().is_err() {
            return None;
        }
        let zone_file = std::env::temp_dir().join(format!(
            "sg-testdns-{}-{}.json",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&zone_file, zone_json).expect("write the test zone");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/testdns.py");
        // stdin stays open while we live: the script exits when it closes.
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&zone_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start scripts/testdns.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let port = match (read, line.trim().parse::<u16>()) {
            (Ok(_), Ok(port)) => port,
            _ => {
                let _ = child.kill();
                panic!(
                    "testdns.py did not print its port: {line:?} {:?}",
                    child.wait()
                );
            }
        };
        Some(TestDns {
            child,
            port,
            zone_file,
        })
    }

    /// `127.0.0.1:PORT`, the form `[auth] resolver` and `serve --resolver` take.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.zone_file);
    }
}
