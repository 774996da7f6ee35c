//! STARTTLS on the real `spearguard serve`: Python's smtplib upgrades with a context that
//! trusts only the self-signed certificate serve generated into `DATA/tls/`, the delivered
//! message's Received line says ESMTPS, the certificate survives a restart, plaintext
//! pipelined behind STARTTLS is never answered, and a garbage handshake harms no one else.

mod common;

use std::path::Path;

use common::{Gateway, files_in, fixture, have_python, python, send, wait_for};

/// Sends `file` with smtplib after `starttls()`, trusting only `cafile`.
fn send_over_tls(addr: &str, to: &str, file: &Path, cafile: &Path) -> String {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let script = r#"
import smtplib, ssl, sys, email, email.policy
host, port, rcpt, path, cafile = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False  # smtplib checks against 127.0.0.1; the chain is still verified
msg = email.message_from_binary_file(open(path, 'rb'), policy=email.policy.SMTP)
with smtplib.SMTP(host, int(port), timeout=30) as s:
    s.ehlo()
    if not s.has_extn('starttls'):
        print('no STARTTLS advertised')
        sys.exit(0)
    s.starttls(context=ctx)
    s.ehlo()
    assert not s.has_extn('starttls'), 'STARTTLS advertised again over TLS'
    s.send_message(msg, from_addr='hanako.sato@example.org', to_addrs=[rcpt])
    print('sent', s.sock.version())
"#;
    python(
        script,
        &[
            host,
            port,
            to,
            &file.to_string_lossy(),
            &cafile.to_string_lossy(),
        ],
    )
}

/// Reads reply lines byte by byte (no read-ahead) up to a last line; then the raw tests.
const RAW: &str = r#"
import socket, ssl, sys
host, port, cafile, mode = sys.argv[1:5]
s = socket.create_connection((host, int(port)), timeout=30)
def line(sock):
    out = b''
    while not out.endswith(b'\r\n'):
        c = sock.recv(1)
        if not c:
            return out.decode()
        out += c
    return out.decode().rstrip('\r\n')
def reply(sock):
    lines = [line(sock)]
    while len(lines[-1]) > 3 and lines[-1][3] == '-':
        lines.append(line(sock))
    return lines
reply(s)
s.sendall(b'EHLO raw.example.org\r\n'); reply(s)
if mode == 'inject':
    # CVE-2011-0411: STARTTLS and a plaintext command in one write.
    s.sendall(b'STARTTLS\r\nRSET\r\n')
    print('plain', reply(s)[0])
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    try:
        t = ctx.wrap_socket(s, server_hostname='localhost')
    except ssl.SSLError as e:
        print('handshake failed', e)
        sys.exit(0)
    t.sendall(b'EHLO raw.example.org\r\n')
    print('tls', reply(t)[0])
else:
    s.sendall(b'STARTTLS\r\n')
    print('plain', reply(s)[0])
    s.sendall(b'this is not a TLS ClientHello\r\n' * 4)
    try:
        rest = s.recv(4096)
        while rest and not rest.startswith(b'2'):
            more = s.recv(4096)
            if not more:
                break
            rest = more
    except (ConnectionResetError, socket.timeout):
        rest = b''
    print('closed' if not rest.startswith(b'2') else 'answered ' + repr(rest))
"#;

#[test]
fn starttls_delivers_with_esmtps_and_keeps_its_certificate() {
    if !have_python() {
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let gateway = Gateway::start(data.path(), &[]);
    let addr = gateway.addr("SMTP").to_string();
    let cafile = data.path().join("tls/cert.pem");
    assert!(cafile.is_file(), "serve generated a certificate");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = std::fs::metadata(data.path().join("tls/key.pem")).expect("key.pem");
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }

    let sent = send_over_tls(
        &addr,
        "taro.yamada@example.org",
        &fixture("plain-colleague.eml"),
        &cafile,
    );
    assert!(sent.starts_with("sent TLSv1."), "{sent}");
    let inbox = data.path().join("mailboxes/taro.yamada@example.org/new");
    wait_for("delivery to the Maildir", || files_in(&inbox).len() == 1);
    let delivered = std::fs::read_to_string(&files_in(&inbox)[0]).expect("read delivered");
    assert!(
        delivered.contains("(spearguard) with ESMTPS;"),
        "Received says ESMTPS: {delivered}"
    );

    // Plain mail still works, and says ESMTP.
    let plain = send(
        &addr,
        "hanako.sato@example.org",
        "jiro.suzuki@example.org",
        &fixture("plain-colleague.eml"),
    );
    assert_eq!(plain, "sent");
    let inbox = data.path().join("mailboxes/jiro.suzuki@example.org/new");
    wait_for("plain delivery", || files_in(&inbox).len() == 1);
    let delivered = std::fs::read_to_string(&files_in(&inbox)[0]).expect("read delivered");
    assert!(
        delivered.contains("(spearguard) with ESMTP;"),
        "{delivered}"
    );

    let cert = std::fs::read(&cafile).expect("cert.pem");
    assert_eq!(gateway.stop(), Some(0));
    let gateway = Gateway::start(data.path(), &[]);
    assert_eq!(
        std::fs::read(&cafile).expect("cert.pem"),
        cert,
        "the certificate is reused at the next start"
    );
    assert_eq!(gateway.stop(), Some(0));
}

#[test]
fn plaintext_behind_starttls_is_dropped_and_garbage_handshakes_are_contained() {
    if !have_python() {
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let gateway = Gateway::start(data.path(), &[]);
    let addr = gateway.addr("SMTP").to_string();
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let cafile = data.path().join("tls/cert.pem");
    let cafile = cafile.to_string_lossy();

    let injected = python(RAW, &[host, port, &cafile, "inject"]);
    // A plaintext answer to RSET would have broken the handshake ("handshake failed"), and
    // a delayed one would be the first line over TLS instead of the EHLO reply.
    assert_eq!(
        injected,
        "plain 220 2.0.0 ready to start TLS\ntls 250-localhost"
    );

    for _ in 0..3 {
        let garbage = python(RAW, &[host, port, &cafile, "garbage"]);
        assert_eq!(garbage, "plain 220 2.0.0 ready to start TLS\nclosed");
    }
    // The server is still there for everyone else.
    let sent = send(
        &addr,
        "hanako.sato@example.org",
        "taro.yamada@example.org",
        &fixture("plain-colleague.eml"),
    );
    assert_eq!(sent, "sent");
    assert_eq!(gateway.stop(), Some(0));
}
