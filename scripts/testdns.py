#!/usr/bin/env python3
"""A tiny authoritative DNS server for tests, on 127.0.0.1 only (UDP and TCP, same port).

    python3 scripts/testdns.py ZONE.json [PORT]

Prints the port it listens on (one line) once both sockets are bound, then answers until
its stdin closes (so it dies with the test that started it) or it is killed.

ZONE.json maps names to records; names are case-insensitive, a trailing dot is optional:

    {"example.org": {"TXT": ["v=spf1 ip4:127.0.0.1 -all"], "A": ["192.0.2.1"],
                     "AAAA": ["2001:db8::1"], "MX": [[10, "mx.example.org"]]},
     "1.0.0.127.in-addr.arpa": {"PTR": ["mx.example.org"]}}

Unknown names get NXDOMAIN, known names without the asked type an empty NOERROR answer;
both carry an SOA (TTL 60) so resolvers cache the negative answer. Python stdlib only.
"""

import ipaddress
import json
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "MX": 15, "TXT": 16, "AAAA": 28, "PTR": 12}
SOA_TYPE, TTL = 6, 60


def norm(name):
    return name.lower().rstrip(".")


def encode_name(name):
    out = b""
    for label in norm(name).split("."):
        if label:
            raw = label.encode("idna") if not label.isascii() else label.encode()
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def rdata(rtype, value):
    if rtype == "A":
        return ipaddress.IPv4Address(value).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype == "MX":
        return struct.pack("!H", value[0]) + encode_name(value[1])
    if rtype == "PTR":
        return encode_name(value)
    raw = value.encode()
    chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
    return b"".join(bytes([len(c)]) + c for c in chunks)


def record(name_bytes, type_code, data):
    return name_bytes + struct.pack("!HHIH", type_code, 1, TTL, len(data)) + data


def soa(zone_apex):
    data = encode_name("ns." + zone_apex) + encode_name("hostmaster." + zone_apex)
    data += struct.pack("!IIIII", 1, 3600, 600, 86400, TTL)
    return record(encode_name(zone_apex), SOA_TYPE, data)


def read_question(msg):
    """(labels as text, qtype, offset after the question) or None."""
    pos, labels = 12, []
    while pos < len(msg):
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0 or pos + n > len(msg):
            return None
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    if pos + 4 > len(msg):
        return None
    qtype, _qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return ".".join(labels), qtype, pos + 4


def answer(zone, msg):
    if len(msg) < 12:
        return None
    ident, flags = struct.unpack("!HH", msg[:4])
    q = read_question(msg)
    if q is None:
        return struct.pack("!HHHHHH", ident, 0x8001 | (flags & 0x0100), 0, 0, 0, 0)
    name, qtype, end = q
    question = msg[12:end]
    records = zone.get(norm(name))
    answers = []
    if records is not None:
        for rtype, values in records.items():
            if TYPES.get(rtype) == qtype:
                for v in values:
                    answers.append(record(b"\xc0\x0c", qtype, rdata(rtype, v)))
    rcode = 3 if records is None else 0
    authority = [] if answers else [soa(".".join(norm(name).split(".")[-2:]) or "test")]
    # QR, AA, RD echoed, RA.
    out_flags = 0x8400 | (flags & 0x0100) | 0x0080 | rcode
    header = struct.pack("!HHHHHH", ident, out_flags, 1, len(answers), len(authority), 0)
    return header + question + b"".join(answers) + b"".join(authority)


def safe_answer(zone, msg):
    try:
        return answer(zone, msg)
    except Exception as e:  # a bad zone entry or query must not stop the server
        print(f"testdns: {e}", file=sys.stderr, flush=True)
        return None


def serve_udp(sock, zone):
    while True:
        msg, peer = sock.recvfrom(4096)
        reply = safe_answer(zone, msg)
        if reply is not None:
            sock.sendto(reply, peer)


def serve_tcp_client(conn, zone):
    with conn:
        while True:
            head = conn.recv(2)
            if len(head) < 2:
                return
            (n,) = struct.unpack("!H", head)
            msg = b""
            while len(msg) < n:
                chunk = conn.recv(n - len(msg))
                if not chunk:
                    return
                msg += chunk
            reply = safe_answer(zone, msg)
            if reply is None:
                return
            conn.sendall(struct.pack("!H", len(reply)) + reply)


def serve_tcp(sock, zone):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_client, args=(conn, zone), daemon=True).start()


def bind(port):
    """UDP and TCP sockets on the same loopback port (retrying when port 0 collides)."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue
        tcp.listen(64)
        return udp, tcp
    raise OSError("no free port for both UDP and TCP")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: testdns.py ZONE.json [PORT]")
    with open(sys.argv[1], encoding="utf-8") as f:
        zone = {norm(k): v for k, v in json.load(f).items()}
    udp, tcp = bind(int(sys.argv[2]) if len(sys.argv) == 3 else 0)
    for target, sock in ((serve_udp, udp), (serve_tcp, tcp)):
        threading.Thread(target=target, args=(sock, zone), daemon=True).start()
    print(udp.getsockname()[1], flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
