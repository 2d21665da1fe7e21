#!/bin/bash
# Boot the EMT-S test bed directly (-kernel/-initrd) in QEMU under TCG.
#
#   testbed/boot.sh [options] VARIANT
#
# VARIANT: gzip | zstd | early (initramfs-<variant>.img of the test bed), or a path
# to any initramfs image (e.g. one an emts-iso rewrite produced).
#
#   --dir DIR        test bed directory (default: the output of testbed/build.sh)
#   --check          do not stream: wait for all markers, print the timings,
#                    stop QEMU, exit 0 if the boot reached READY, 1 otherwise
#   --timeout S      give up after S seconds (default 180)
#   --log FILE       serial log file (default: a new file under /tmp, kept)
#   --append ARGS    extra kernel command line arguments
#   --memory MIB     guest RAM (default 2048)
#
# Without --check the serial log streams to stdout until QEMU exits or Ctrl-C.
# KVM does not work on this machine: always TCG.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR= CHECK=0 TIMEOUT=180 LOG= APPEND= MEM=2048 VARIANT=
QEMU_PID= TAIL_PID=

log() { printf '%s boot.sh[%s]: %s\n' "$(date '+%T')" "${VARIANT:-?}" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 2
}

cleanup() {
	[ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null
		wait "$QEMU_PID" 2>/dev/null
	fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while [ $# -gt 0 ]; do
	case "$1" in
	--dir) DIR=$2 && shift ;;
	--check) CHECK=1 ;;
	--timeout) TIMEOUT=$2 && shift ;;
	--log) LOG=$2 && shift ;;
	--append) APPEND=$2 && shift ;;
	--memory) MEM=$2 && shift ;;
	-h | --help)
		sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
		exit 0
		;;
	-*) die "unknown option $1" ;;
	*)
		[ -z "$VARIANT" ] || die "one VARIANT only"
		VARIANT=$1
		;;
	esac
	shift
done
[ -n "$VARIANT" ] || die "usage: boot.sh [--check] [--dir DIR] VARIANT (gzip|zstd|early|FILE)"

if [ -z "$DIR" ]; then DIR=$("$HERE/build.sh" | tail -1); fi
[ -f "$DIR/vmlinuz" ] && [ -f "$DIR/testbed.json" ] || die "$DIR is not a test bed directory"
case "$VARIANT" in
gzip | zstd | early) INITRD=$DIR/initramfs-$VARIANT.img ;;
*) INITRD=$VARIANT ;;
esac
[ -f "$INITRD" ] || die "no initramfs $INITRD"

PY=$(command -v /usr/bin/python3 || command -v python3)
json() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$DIR/testbed.json" "$1"; }
CMDLINE=$(json 'd["cmdline"]')${APPEND:+ $APPEND}
mapfile -t MARKERS < <(json '"\n".join([d["markers"]["init_unpacked"]] + list(d["markers"]["agent_started"].values()) + [d["markers"]["modules"], d["markers"]["ready"]])')
READY=$(json 'd["markers"]["ready"]')

AUTO_LOG=0
[ -n "$LOG" ] || AUTO_LOG=1 LOG=$(mktemp "/tmp/emts-testbed-boot-$(basename "$INITRD" .img).XXXXXX.log")
: >"$LOG"
log "kernel $DIR/vmlinuz, initrd $INITRD, log $LOG"
log "cmdline: $CMDLINE"

START=$(date +%s.%N)
qemu-system-x86_64 -machine q35 -accel tcg -m "$MEM" -smp 1 \
	-display none -nodefaults -no-reboot \
	-serial "file:$LOG" \
	-kernel "$DIR/vmlinuz" -initrd "$INITRD" -append "$CMDLINE" </dev/null >&2 &
QEMU_PID=$!

elapsed() { awk -v s="$START" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }

if [ "$CHECK" = 0 ]; then
	tail -n +1 -f --pid="$QEMU_PID" "$LOG" &
	TAIL_PID=$!
	wait "$QEMU_PID" || true
	QEMU_PID=
	exit 0
fi

# --check: poll the log for the markers; fail fast on a panic or an init error.
declare -A seen=()
result=
while :; do
	for m in "${MARKERS[@]}"; do
		if [ -z "${seen[$m]:-}" ] && grep -qF -- "$m" "$LOG"; then
			seen[$m]=$(elapsed)
			log "${seen[$m]} s: $m"
		fi
	done
	if [ ${#seen[@]} -eq ${#MARKERS[@]} ]; then result=ok && break; fi
	if grep -qE 'Kernel panic|EMTS-INIT-ERROR' "$LOG"; then result="failure on the console" && break; fi
	if ! kill -0 "$QEMU_PID" 2>/dev/null; then result="QEMU exited" && break; fi
	if awk -v e="$(elapsed)" -v t="$TIMEOUT" 'BEGIN { exit !(e > t) }'; then result="timeout after $TIMEOUT s" && break; fi
	sleep 0.5
done

if [ "$result" = ok ]; then
	log "PASS: READY after ${seen[$READY]} s ($(basename "$INITRD"))"
	if [ "$AUTO_LOG" = 1 ]; then rm -f "$LOG"; fi # kept only on failure or when --log was given
	exit 0
fi
log "FAIL: $result; missing markers:"
for m in "${MARKERS[@]}"; do [ -n "${seen[$m]:-}" ] || log "  $m"; done
grep -aE 'EMTS-INIT-ERROR|Kernel panic' "$LOG" | head -5 | sed 's/^/  console: /' >&2 || true
log "last lines of $LOG:"
tail -n 30 "$LOG" | sed 's/^/    /' >&2
exit 1
