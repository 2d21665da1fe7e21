#!/bin/bash
# Downloads the Debian packages `emts-iso build --packages` injects into the test bed: the five tools an install
# medium needs (efibootmgr gawk lvm2 net-tools parted, or the names given as arguments) and every package of
# their dependency closure that the test bed's root does not already have (its rootfs-packages.txt).
#
# Usage: Tests/EndToEndTests/Fixtures/fetch-packages.sh TESTBED_DIR [NAME...]
# Output: ${EMTS_CACHE:-/var/cache/emts-iso}/packages/<key>/*.deb; the last line of output is that directory.
# The key is a hash of this script, the names and the test bed's package list, so a new test bed or a new list
# downloads again; a complete directory is reused. Uses the host's apt sources (Debian 12), not the host's
# installed state: `apt-cache depends --recurse` over Depends and Pre-Depends, first alternative of each "|".
set -euo pipefail

TESTBED=${1:?usage: fetch-packages.sh TESTBED_DIR [NAME...]}
shift
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(efibootmgr gawk lvm2 net-tools parted)
INSTALLED="$TESTBED/rootfs-packages.txt"
[ -r "$INSTALLED" ] || { echo "fetch-packages: $INSTALLED is missing (build the test bed first)" >&2; exit 1; }

KEY=$( { cat "$0"; printf '%s\n' "${NAMES[@]}"; cat "$INSTALLED"; } | sha256sum | cut -c1-16)
OUT=${EMTS_CACHE:-/var/cache/emts-iso}/packages/$KEY
if [ -f "$OUT/COMPLETE" ]; then
	echo "$OUT"
	exit 0
fi

# The closure: real packages only (virtual ones are resolved to a provider by apt-cache's recursion), amd64/all.
CLOSURE=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
	--no-enhances "${NAMES[@]}" | awk '/^[a-z0-9]/ && !/^ / { print $1 }' | sed 's/:amd64$//' | LC_ALL=C sort -u)
HAVE=$(cut -f1 "$INSTALLED" | sed 's/:amd64$//' | LC_ALL=C sort -u)
WANTED=$(LC_ALL=C comm -23 <(echo "$CLOSURE") <(echo "$HAVE"))
# Drop names apt-cache lists that have no candidate (purely virtual names such as "awk").
DOWNLOAD=()
for name in $WANTED; do
	if apt-cache show --no-all-versions "$name" >/dev/null 2>&1 && \
		[ "$(apt-cache policy "$name" | awk '/Candidate:/ { print $2 }')" != "(none)" ]; then
		DOWNLOAD+=("$name")
	fi
done

TMP=$(mktemp -d "${OUT}.partial-XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$OUT")"; mktemp -d "${OUT}.partial-XXXXXX"; })
trap 'rm -rf "$TMP"' EXIT
START=$(date +%s)
(cd "$TMP" && apt-get download -q "${DOWNLOAD[@]}" >&2)
printf '%s\n' "${DOWNLOAD[@]}" >"$TMP/PACKAGES"
echo "fetch-packages: ${#DOWNLOAD[@]} packages in $(( $(date +%s) - START )) s" >&2
touch "$TMP/COMPLETE"
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "$OUT"
