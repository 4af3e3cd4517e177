#!/usr/bin/env bash
# Install kumo's FreeSWITCH configuration into a FreeSWITCH conf dir.
#
# Usage: freeswitch/deploy.sh FS_CONF_DIR [SECRETS_XML | -]
#
# - FS_CONF_DIR empty or missing: the tree is copied into it.
# - FS_CONF_DIR not empty: it is first copied whole to
#   FS_CONF_DIR.kumo-backup-YYYYmmdd-HHMMSS (the script stops if that fails or
#   the name exists), then emptied and filled with this tree, so no file of
#   the previous configuration (e.g. the vanilla example users and dialplans)
#   stays active. Kept in place: vars.d/ (the operator's passwords and
#   addresses), tls/ (certificates on Debian-style installs), and lang/ as
#   long as kumo ships no lang/ of its own.
# - Nothing is substituted: passwords stay variables, resolved by FreeSWITCH
#   from vars.xml and vars.d/*.xml. Files already in vars.d/ are never
#   overwritten, except vars.d/kumo-secrets.xml: with a second argument (a
#   file, or - for stdin) the script installs it there (mode 0600, owned like
#   FS_CONF_DIR). `make fs-config` passes `fsctl secrets fs-vars`: the HTTP
#   credentials and event-socket password kumo generated on its first start,
#   so switch and service agree. vars.d/local.xml is read after it and wins.
#   At the end the script lists every variable whose value is still a
#   CHANGE-ME placeholder.
# Then run `fs_cli -x reloadxml` (and `reload mod_sofia` etc.) or restart.
set -euo pipefail

die() { echo "deploy.sh: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 FS_CONF_DIR [SECRETS_XML | -]" >&2
    echo "  copies kumo's FreeSWITCH configuration into FS_CONF_DIR, backing up what was there;" >&2
    echo "  SECRETS_XML (- = stdin, e.g. from 'fsctl secrets fs-vars') becomes vars.d/kumo-secrets.xml" >&2
    exit "${1:-2}"
}

[ $# -eq 1 ] || [ $# -eq 2 ] || usage
case "$1" in -h | --help) usage 0 ;; -*) usage ;; esac
[ -n "$1" ] || usage

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
dest="$1"
secrets_in="${2:-}"
secrets_xml=""
if [ -n "$secrets_in" ]; then
    # Read before anything changes, so a missing file stops the script with nothing done.
    if [ "$secrets_in" = "-" ]; then
        secrets_xml="$(cat)"
    else
        [ -f "$secrets_in" ] || die "$secrets_in: no such file"
        secrets_xml="$(cat "$secrets_in")"
    fi
    case "$secrets_xml" in *"<include>"*) ;; *) die "the secrets are not a vars.d include" ;; esac
fi

[ ! -e "$dest" ] || [ -d "$dest" ] || die "$dest exists and is not a directory"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd -P)"

[ "$dest" != "/" ] || die "refusing to deploy into /"
case "$dest/" in "$src/"*) die "refusing to deploy into the source tree ($src)" ;; esac
case "$src/" in "$dest/"*) die "refusing to deploy into a parent of the source tree" ;; esac

if [ -n "$(ls -A "$dest")" ]; then
    backup="$dest.kumo-backup-$(date +%Y%m%d-%H%M%S)"
    [ ! -e "$backup" ] || die "backup $backup already exists; try again in a second"
    cp -a "$dest" "$backup" || die "could not back up $dest to $backup; nothing changed"
    # The backup must hold at least every file the original held.
    n_orig="$(find "$dest" | wc -l)"
    n_back="$(find "$backup" | wc -l)"
    [ "$n_back" -ge "$n_orig" ] || die "backup $backup looks incomplete; nothing changed"
    echo "backed up $dest to $backup"

    keep=(vars.d tls)
    [ -d "$src/lang" ] || keep+=(lang)
    find_args=()
    for name in "${keep[@]}"; do find_args+=(! -name "$name"); done
    find "$dest" -mindepth 1 -maxdepth 1 "${find_args[@]}" -exec rm -rf {} +
fi

# Copy the tree (not this script, not vars.d: handled below).
(cd "$src" && tar cf - --exclude=./deploy.sh --exclude=./vars.d --exclude='__pycache__' .) |
    (cd "$dest" && tar xf - --no-same-owner)

mkdir -p "$dest/vars.d"
for f in "$src"/vars.d/*; do
    [ -e "$f" ] || continue
    [ -e "$dest/vars.d/$(basename "$f")" ] || cp "$f" "$dest/vars.d/"
done
if [ -n "$secrets_xml" ]; then
    # kumo's own file: rewritten on every deploy so it always holds what the service uses.
    (umask 077 && printf '%s\n' "$secrets_xml" > "$dest/vars.d/kumo-secrets.xml")
    chmod 600 "$dest/vars.d/kumo-secrets.xml"
    # The switch (often its own user) must read it; the conf dir's owner is that user.
    if [ "$(id -u)" -eq 0 ]; then chown --reference="$dest" "$dest/vars.d/kumo-secrets.xml"; fi
    echo "installed kumo's generated credentials into $dest/vars.d/kumo-secrets.xml"
fi
echo "installed kumo FreeSWITCH configuration into $dest"

# Which variables still hold a placeholder once vars.d/*.xml (read after
# vars.xml, in name order, later wins) is applied?
var_files=("$dest/vars.xml")
for f in "$dest"/vars.d/*.xml; do [ -e "$f" ] && var_files+=("$f"); done
placeholders="$(
    sed -n 's/.*cmd="set"[^>]*data="\([A-Za-z0-9_]*\)=\([^"]*\)".*/\1 \2/p' "${var_files[@]}" |
        awk '{ v = $0; sub(/^[^ ]* /, "", v); last[$1] = v }
             END { for (k in last) if (last[k] ~ /CHANGE-ME/) print k }' | sort
)"
if [ -n "$placeholders" ]; then
    echo "WARNING: these variables still hold a CHANGE-ME placeholder;" >&2
    echo "         set them in $dest/vars.d/local.xml (see README.md):" >&2
    for v in $placeholders; do echo "         $v" >&2; done
fi
exit 0
