#!/bin/bash
# bench/lib.sh: helpers shared by the bench/ scripts. Sourced, never run:
#
#   BENCH_NAME=rss.sh; source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Defines ROOT (the package directory) and: log, die (messages on stderr, prefixed with "$BENCH_NAME: "),
# size, mb, mib, median [DECIMALS], max, parse_time FILE (GNU time -v output: "wall cpu rss_kib"),
# require_tools (names the apt-get command that installs what is missing), release_build (the release build in
# SCRATCH_PATH; sets BIN_DIR) and dir_bytes (du -sb of directories, files excluded by pattern).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=${BENCH_NAME:-bench}

log() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

size() { stat -c %s -- "$1"; }
# Bytes as decimal MB, and KiB as MiB.
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# The median of the numbers on standard input; an even count averages the middle two, printed with DECIMALS (2).
median() {
	sort -g | awk -v d="${1:-2}" '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.*f\n", d, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
max() { sort -g | tail -1; }

# Fields from GNU time -v: wall seconds, user+sys seconds, peak RSS in KiB. For `bash -c PIPELINE`, user+sys covers
# every process of the pipeline (children are waited for), and the peak RSS is that of its LARGEST SINGLE process
# (getrusage's ru_maxrss for children), not the sum of processes running at once.
parse_time() {
	awk -F': ' '
		/Elapsed \(wall clock\) time/ {
			n = split($2, t, ":"); wall = 0
			for (i = 1; i <= n; i++) wall = wall * 60 + t[i]
		}
		/User time \(seconds\)/ { cpu += $2 }
		/System time \(seconds\)/ { cpu += $2 }
		/Maximum resident set size \(kbytes\)/ { rss = $2 }
		END { printf "%.2f %.2f %d\n", wall, cpu, rss }' "$1"
}

# require_tools "PACKAGES" TOOL...: dies naming the missing tools and the apt-get command that installs them.
# A TOOL with a slash is a path that must exist (a file or a directory), anything else a command on PATH.
require_tools() {
	local packages=$1 tool missing=()
	shift
	for tool in "$@"; do
		if [[ $tool == */* ]]; then [[ -e $tool ]] || missing+=("$tool")
		else command -v "$tool" >/dev/null || missing+=("$tool"); fi
	done
	[[ ${#missing[@]} -eq 0 ]] || die "missing: ${missing[*]}; install with: apt-get install -y $packages"
}

# release_build PRODUCT...: `swift build -c release` of the products (all when none) in SCRATCH_PATH, niced
# with `nice -n $NICE` (default 0); sets BIN_DIR to the build's bin directory. Build output goes to stderr.
release_build() {
	local product
	# One product per call: given several --product options, SwiftPM builds only the last one.
	if (( $# == 0 )); then set -- ""; fi
	for product in "$@"; do
		(cd "$ROOT" && nice -n "${NICE:-0}" swift build -c release --scratch-path "$SCRATCH_PATH" \
			${product:+--product "$product"} >&2) \
			|| die "swift build -c release --scratch-path $SCRATCH_PATH ${product:+--product $product} failed"
	done
	BIN_DIR=$(cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH_PATH" --show-bin-path)
	[[ -d $BIN_DIR ]] || die "no bin directory at $BIN_DIR"
}

# dir_bytes DIR [EXCLUDE...]: apparent bytes under the existing DIRs (du -sb), files matching an EXCLUDE pattern
# (du --exclude: a shell pattern matched against each name) left out; 0 when nothing exists. Files that vanish
# while du walks (a pipeline deleting its temporaries) are not an error.
dir_bytes() {
	local dirs=() excludes=() arg
	for arg in "$@"; do
		if [[ $arg == --exclude=* ]]; then excludes+=("$arg"); elif [[ -e $arg ]]; then dirs+=("$arg"); fi
	done
	[[ ${#dirs[@]} -gt 0 ]] || { echo 0; return; }
	{ du -sbc "${excludes[@]}" -- "${dirs[@]}" 2>/dev/null || true; } | awk 'END { print $1 + 0 }'
}
