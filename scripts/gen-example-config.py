#!/usr/bin/env python3
"""Regenerates config/spearguard.example.toml from `spearguard config show` (the defaults),
commenting each key with the `///` doc of its Rust config field, and each section with a
short explanation. Run after changing a config struct; a test fails until you do.

    cargo build -p spearguard && python3 scripts/gen-example-config.py
"""
import pathlib, re, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECTIONS = {
    "organisation": "The organisation being protected: its own mail/web domains and names outsiders imitate.\n"
                    "Sender and link analysers compare against these. Example: domains = [\"pension.example\"]\n"
                    "The staff directory's domains count as own domains too, and its people's names as staff names.",
    "limits": "How much of a message the parser examines; beyond these, parts are skipped and noted.",
    "detect": "Scoring. A message's score is the sum of its signals' scores (after group caps).\n"
              "Verdict: below tag_at deliver; tag_at.. tag; quarantine_at.. quarantine; reject_at.. reject.",
    "detect.scores": "Override any signal's score by name (see `spearguard signals`); unknown names are an error.\n"
                     "Example: LINK_SHORTENER = 1.0",
    "detect.groups.attachments": "Group caps: the most a group's positive signals may add together (rspamd's max_score).",
    "detect.composites": "Composite rules: fire when signals fire together (all / any / none). Cross-analyser\n"
                         "logic lives here, never inside an analyser. Replacing this list replaces the defaults.",
    "analysers.links": "Links: text/href mismatch, IP hosts, userinfo tricks, look-alike hosts, shorteners,\n"
                       "executable/archive downloads, data:/javascript: URIs, external forms. Lists are files;\n"
                       "an empty path means the copy shipped in data/lists/.",
    "analysers.sender": "Sender: free mail, display-name impersonation, look-alike domains, Reply-To diversion.",
    "analysers.auth": "Authentication results (SPF/DKIM/DMARC) read from Authentication-Results headers whose\n"
                      "authserv-id is trusted. Empty list = read nothing (an outsider can write any header).",
    "analysers.attachments": "Attachments: true type vs name, executables, double extensions, archives walked\n"
                             "within limits (a zip bomb is itself a signal), macros, HTML forms, PDF actions.",
    "analysers.content": "Wording (English and Japanese): credential requests, urgency; hidden text; charset tricks.",
    "analysers.classifier": "The statistical classifier: silent until `model` names a file from `spearguard train`.",
    "gateway": "`spearguard serve`: where the spool, quarantine and local mailboxes live, and the next hop.",
    "delivery": "Delivery of queued mail (local Maildirs or the relay): messages at once, retries with\n"
                "exponential backoff, how long before a bounce, and the SMTP client's timeouts (seconds).",
    "smtp": "The SMTP session: the name in replies, size and recipient limits, how bare CR/LF in DATA is treated.",
    "smtp_server": "The SMTP listener: address, concurrent sessions, timeouts (seconds), STARTTLS, memory budget.",
    "milter_server": "The milter listener for Postfix (smtpd_milters = inet:127.0.0.1:11339; see contrib/postfix/main.cf):\n"
                     "connections, message limits, timeouts (seconds). Nothing is spooled: Postfix owns the message.",
    "http": "The HTTP API (/api/v1, bearer token), GET /healthz and GET /metrics (Prometheus).",
    "auth": "Sender authentication by `serve`: SPF, DKIM, ARC and DMARC (mail-auth), written as our own\n"
            "Authentication-Results header; incoming ones claiming our authserv-id are removed, and the\n"
            "auth analyser trusts ours. Test DNS: resolver = \"127.0.0.1:PORT\" (or `serve --resolver`).",
}

def field_docs(paths):
    """Maps field name -> first doc line, from the config structs in `paths`."""
    docs = {}
    for path in paths:
        lines = path.read_text().splitlines()
        doc = []
        for line in lines:
            s = line.strip()
            if s.startswith("///"):
                doc.append(s[3:].strip())
                continue
            m = re.match(r"pub(?:\(crate\))? (\w+): ", s)
            if m and doc:
                text = " ".join(doc)
                first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]
                docs.setdefault(m.group(1), first)
            if not s.startswith("#["):
                doc = []
    return docs

def main():
    exe = ROOT / "target/debug/spearguard"
    shown = subprocess.run([str(exe), "config", "show"], check=True, capture_output=True,
                           text=True, env={"PATH": "/usr/bin:/bin"}).stdout
    everywhere = field_docs(ROOT.glob("crates/*/src/**/*.rs"))

    def docs_for(section):
        top = section.split(".")
        if top[0] == "limits":
            files = [ROOT / "crates/message/src/limits.rs"]
        elif top[0] == "organisation":
            files = [ROOT / "crates/detect/src/organisation.rs"]
        elif top[0] == "detect":
            files = [ROOT / "crates/detect/src/config.rs"]
        elif top[0] == "gateway":
            files = [ROOT / "crates/spearguard/src/config.rs"]
        elif top[0] == "delivery":
            files = [ROOT / "crates/deliver/src/config.rs"]
        elif top[0] == "smtp":
            files = [ROOT / "crates/smtp/src/limits.rs"]
        elif top[0] == "auth":
            files = [ROOT / "crates/auth/src/config.rs"]
        elif top[0] == "smtp_server":
            files = [ROOT / "crates/smtp/src/server/config.rs"]
        elif top[0] == "milter_server":
            files = [ROOT / "crates/milter/src/server/config.rs"]
        elif top[0] == "http":
            files = [ROOT / "crates/web/src/config.rs"]
        elif top[0] == "analysers" and len(top) > 1:
            base = ROOT / "crates/detect/src/analysers"
            files = [base / f"{top[1]}.rs", *sorted((base / top[1]).glob("*.rs"))]
        else:
            files = []
        own = field_docs([f for f in files if f.exists()])
        return {**everywhere, **own}

    docs = everywhere
    out = ["# spearguard configuration: every key with its default value.",
           "# No file is needed: these are the built-in defaults. Copy, keep what you change,",
           "# and check it with `spearguard config check FILE`. Generated by scripts/gen-example-config.py.", ""]
    seen_sections = set()
    for line in shown.splitlines():
        m = re.match(r"^\[\[?([^\]]+)\]\]?$", line)
        if m:
            name = m.group(1)
            docs = docs_for(name)
            if name in SECTIONS and name not in seen_sections:
                seen_sections.add(name)
                out.append("")
                out.extend("# " + l for l in SECTIONS[name].splitlines())
            out.append(line)
            continue
        k = re.match(r"^(\w+) = ", line)
        if k and k.group(1) in docs:
            out.append("# " + docs[k.group(1)])
        out.append(line)
    (ROOT / "config/spearguard.example.toml").write_text("\n".join(out).lstrip("\n") + "\n")

if __name__ == "__main__":
    sys.exit(main())
