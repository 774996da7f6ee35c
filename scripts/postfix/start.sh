#!/usr/bin/env bash
# Starts a throwaway Postfix instance for tests, separate from the system one:
#   scripts/postfix/start.sh DIR MILTER_ADDR
# DIR (created if needed) holds its config (DIR/etc), queue (DIR/queue), log
# (DIR/postfix.log) and the Maildir its virtual(8) agent delivers every recipient
# @sink.test to (DIR/mail/inbox/). smtpd listens on a free 127.0.0.1 port; mail for any
# other domain is refused, nothing leaves the machine. The milter lines are
# contrib/postfix/main.cf, included as they are with 127.0.0.1:11339 replaced by MILTER_ADDR.
# Prints `smtp 127.0.0.1:PORT` on success. Needs root and Debian's postfix package.
# Stop it with scripts/postfix/stop.sh DIR.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 DIR MILTER_HOST:PORT" >&2
  exit 2
fi
dir=$(realpath -m "$1")
milter=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
postfix=/usr/sbin/postfix
if [ ! -x "$postfix" ]; then
  echo "postfix-start: $postfix not found (apt-get install postfix)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "postfix-start: must run as root (Postfix drops privileges itself)" >&2
  exit 1
fi

# A free loopback port: bind port 0 and read back what the kernel chose.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail"
# Postfix daemons run as the postfix user and delivery as nobody: they must get through DIR.
chmod 755 "$dir"
chown postfix "$dir/data"
chown nobody:nogroup "$dir/mail"

cat > "$dir/etc/main.cf" <<CONF
# Throwaway test instance written by scripts/postfix/start.sh.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.spearguard.test
mydomain = spearguard.test
myorigin = \$myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
alias_maps =
alias_database =
biff = no
# Never relay anywhere: only @sink.test exists, delivered by virtual(8) into $dir/mail.
relayhost =
default_transport = error:this test instance delivers nothing outside
virtual_mailbox_domains = sink.test
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 1

# ---- contrib/postfix/main.cf (milter address: $milter) ----
CONF
sed "s/127\.0\.0\.1:11339/$milter/g" "$root/contrib/postfix/main.cf" >> "$dir/etc/main.cf"

cat > "$dir/etc/master.cf" <<CONF
# service        type  private unpriv chroot wakeup maxproc command
127.0.0.1:$port  inet  n       -      n      -      -       smtpd
pickup           unix  n       -      n      60     1       pickup
cleanup          unix  n       -      n      -      0       cleanup
qmgr             unix  n       -      n      300    1       qmgr
rewrite          unix  -       -      n      -      -       trivial-rewrite
bounce           unix  -       -      n      -      0       bounce
defer            unix  -       -      n      -      0       bounce
trace            unix  -       -      n      -      0       bounce
verify           unix  -       -      n      -      1       verify
flush            unix  n       -      n      1000?  0       flush
proxymap         unix  -       -      n      -      -       proxymap
showq            unix  n       -      n      -      -       showq
error            unix  -       -      n      -      -       error
retry            unix  -       -      n      -      -       error
discard          unix  -       -      n      -      -       discard
local            unix  -       n      n      -      -       local
virtual          unix  -       n      n      -      -       virtual
anvil            unix  -       -      n      -      1       anvil
scache           unix  -       -      n      -      1       scache
postlog          unix-dgram n  -      n      -      1       postlogd
CONF

# Postfix reports fatal errors to syslog (absent in containers), or to stderr on a terminal.
if ! "$postfix" -c "$dir/etc" start >&2; then
  echo "postfix-start: postfix failed; run \`script -qc '$postfix -c $dir/etc check' /dev/null\`" \
    "to see why; log: $dir/postfix.log" >&2
  tail -n 20 "$dir/postfix.log" >&2 2>/dev/null || true
  exit 1
fi
echo "smtp 127.0.0.1:$port"
