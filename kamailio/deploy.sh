#!/usr/bin/env bash
# Install kumo's Kamailio configuration into a conf dir and write its site settings.
#
# Usage: kamailio/deploy.sh KAMAILIO_CONF_DIR --listen IP:PORT --db-url URL \
#            --carrier HOST:PORT --carrier-cidr CIDR[,CIDR...] [--probe-interval S] \
#            [--node-timeout-ms MS] [--pike-density N] [--children N] [--log-level N] \
#            [--ctl-socket PATH] [--auth-fail-threshold N] [--auth-fail-window S] [--ban-seconds S]
#            [--trust-seconds S]
#
# - kamailio.cfg (this folder's, never edited by hand on the server) is copied into the conf dir;
# - kamailio-local.cfg, which kamailio.cfg includes, is rewritten from the options (mode 0600: the
#   database URL holds a password): listen socket, database driver and URL, the carrier's address and
#   source CIDRs, the node probing interval, the node timeout, the pike limit, the brute-force bans.
# The bans follow kumo's policy with kumo's numbers: --auth-fail-threshold, --auth-fail-window and
# --ban-seconds default to kumo's own FSCTL_AUTH_FAIL_THRESHOLD, FSCTL_AUTH_FAIL_WINDOW and
# FSCTL_BAN_SECONDS from the environment, else kumo's defaults (4 failures in 300 s ban for 3600 s);
# --trust-seconds (604800): how long a user+IP pair that registered stays trusted after its last
# successful REGISTER.
# --db-url is kumo's own DATABASE_URL (postgresql+psycopg://user:pw@host[:port]/db or
# sqlite:////absolute/path.sqlite3) or a Kamailio URL (postgres://..., sqlite:////...).
# Run `kamailio -c -f KAMAILIO_CONF_DIR/kamailio.cfg` to check it, then start or restart Kamailio.
set -euo pipefail

die() { echo "deploy.sh: $*" >&2; exit 2; }
usage() {
    sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

[ $# -ge 1 ] || usage
case "$1" in -h | --help) usage 0 ;; -*) usage ;; esac
dest="$1"
shift

listen="" db_url="" carrier="" carrier_cidr=""
probe_interval=2 node_timeout_ms=3000 pike_density=200 children=4 log_level=1 ctl_socket=""
auth_fail_threshold="${FSCTL_AUTH_FAIL_THRESHOLD:-4}" auth_fail_window="${FSCTL_AUTH_FAIL_WINDOW:-300}"
ban_seconds="${FSCTL_BAN_SECONDS:-3600}" trust_seconds=604800
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case "$1" in
        --listen) listen="$2" ;;
        --db-url) db_url="$2" ;;
        --carrier) carrier="$2" ;;
        --carrier-cidr) carrier_cidr="$2" ;;
        --probe-interval) probe_interval="$2" ;;
        --node-timeout-ms) node_timeout_ms="$2" ;;
        --pike-density) pike_density="$2" ;;
        --children) children="$2" ;;
        --log-level) log_level="$2" ;;
        --ctl-socket) ctl_socket="$2" ;;
        --auth-fail-threshold) auth_fail_threshold="$2" ;;
        --auth-fail-window) auth_fail_window="$2" ;;
        --ban-seconds) ban_seconds="$2" ;;
        --trust-seconds) trust_seconds="$2" ;;
        *) die "unknown option $1" ;;
    esac
    shift 2
done

ipv4='([0-9]{1,3}\.){3}[0-9]{1,3}'
[[ "$listen" =~ ^$ipv4:[0-9]{1,5}$ ]] || die "--listen: IP:PORT, e.g. 192.0.2.5:5060 (got '$listen')"
[[ "$carrier" =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]] || die "--carrier: HOST:PORT of the carrier's SIP proxy (got '$carrier')"
[[ "$carrier_cidr" =~ ^$ipv4/[0-9]{1,2}(,$ipv4/[0-9]{1,2})*$ ]] ||
    die "--carrier-cidr: the carrier's source addresses as CIDRs, comma separated (got '$carrier_cidr')"
for pair in "probe-interval:$probe_interval" "node-timeout-ms:$node_timeout_ms" \
    "pike-density:$pike_density" "children:$children" "auth-fail-threshold:$auth_fail_threshold" \
    "auth-fail-window:$auth_fail_window" "ban-seconds:$ban_seconds" "trust-seconds:$trust_seconds"; do
    [[ "${pair#*:}" =~ ^[1-9][0-9]{0,5}$ ]] || die "--${pair%%:*}: a positive number (got '${pair#*:}')"
done
[[ "$log_level" =~ ^-?[0-3]$ ]] || die "--log-level: -1..3 (got '$log_level')"

# kumo's SQLAlchemy URL -> Kamailio's: driver module, URL, and for SQLite the file (read-only).
case "$db_url" in
    postgresql+*://* | postgresql://* | postgres://*)
        db_module=db_postgres.so
        db_url="postgres://${db_url#*://}"
        ;;
    sqlite:////*)
        db_module=db_sqlite.so
        sqlite_file="${db_url#sqlite:///}"
        ;;
    sqlite:*) die "--db-url: an SQLite file must be given by its absolute path (sqlite:////path)" ;;
    *) die "--db-url: postgresql+psycopg://... or sqlite:////path (got '${db_url%%:*}:...')" ;;
esac
case "$db_url" in *'"'* | *'\'* | *$'\n'*) die "--db-url: no double quote, backslash or newline" ;; esac

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd -P)"
[ "$dest" != "$src" ] || die "refusing to deploy into the source folder"
[ -n "$ctl_socket" ] || ctl_socket="$dest/kamailio_ctl"

install -m 0644 "$src/kamailio.cfg" "$dest/kamailio.cfg"
local_cfg="$dest/kamailio-local.cfg"
(
    umask 077
    {
        echo "# Written by kumo's kamailio/deploy.sh; rewritten on every deploy. Site settings of kamailio.cfg."
        echo "listen=udp:$listen"
        # TCP/TLS for phones are not part of this configuration yet (UDP only).
        echo "disable_tcp=yes"
        echo "loadmodule \"$db_module\""
        if [ "$db_module" = db_sqlite.so ]; then
            # Kamailio only reads kumo's file; never opened for writing.
            echo "modparam(\"db_sqlite\", \"db_set_readonly\", \"$sqlite_file\")"
        fi
        echo "#!define KUMO_DB_URL \"$db_url\""
        echo "#!define KUMO_SQLCON \"kumo=>$db_url\""
        echo "#!define KUMO_CARRIER_ADDRESS \"$carrier\""
        echo "#!define KUMO_CARRIER_CIDR \"$carrier_cidr\""
        echo "#!define KUMO_PROBE_INTERVAL $probe_interval"
        echo "#!define KUMO_NODE_TIMEOUT_MS $node_timeout_ms"
        echo "#!define KUMO_PIKE_DENSITY $pike_density"
        echo "#!define KUMO_CHILDREN $children"
        echo "#!define KUMO_LOG_LEVEL $log_level"
        echo "#!define KUMO_CTL_SOCKET \"unix:$ctl_socket\""
        # substdef, not define: the htable definitions use them inside their strings
        echo "#!substdef \"!KUMO_AUTH_FAIL_THRESHOLD!$auth_fail_threshold!g\""
        echo "#!substdef \"!KUMO_AUTH_FAIL_WINDOW!$auth_fail_window!g\""
        echo "#!substdef \"!KUMO_BAN_SECONDS!$ban_seconds!g\""
        echo "#!substdef \"!KUMO_TRUST_SECONDS!$trust_seconds!g\""
    } > "$local_cfg.new"
)
chmod 600 "$local_cfg.new"
mv "$local_cfg.new" "$local_cfg"
echo "installed kumo's Kamailio configuration into $dest (site settings: $local_cfg)"
