#!/bin/bash
# bench/rss.sh: show that `emts-iso build` runs in bounded memory, whatever the size of the nested rootfs archive.
#
#   bench/rss.sh            # 3 runs of each input; prints a table on stdout, progress on stderr
#
# 1. takes the cached test bed (testbed/build.sh) and its gzip initramfs: the "small" input;
# 2. makes a "large" input from it with the release emts-iso itself: random (incompressible) files worth
#    SCALE x the nested archive's compressed size added under /usr/share/bulk, so the nested archive grows to
#    about (1 + SCALE) x;
# 3. times `emts-iso build --initramfs-only` on both (GNU time -v), RUNS times each, and prints input size,
#    nested archive size, median wall time, median user+sys CPU, maximum peak RSS and output size.
#
# The point: peak RSS stays flat while the nested archive grows ~4x (the rewrite streams entry by entry).
#
# Environment: RUNS (3), SCALE (3), BULK_FILES (6), SCRATCH_PATH (.build-bench-release), TMPDIR.
set -Eeuo pipefail
umask 022

BENCH_NAME=rss.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
SCALE=${SCALE:-3}
BULK_FILES=${BULK_FILES:-6}
SCRATCH_PATH=${SCRATCH_PATH:-$ROOT/.build-bench-release}

[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is required: apt-get install time"
command -v jq >/dev/null || die "jq is required: apt-get install jq"

work=$(mktemp -d "${TMPDIR:-/tmp}/emts-rss.XXXXXX")
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

log "test bed"
dir=$(cd "$ROOT" && testbed/build.sh | tail -1)
kernel=$dir/vmlinuz
small=$dir/initramfs-gzip.img
[[ -f $kernel && -f $small ]] || die "test bed $dir lacks vmlinuz or initramfs-gzip.img"

log "release build of emts-iso ($SCRATCH_PATH)"
release_build emts-iso
bin=$BIN_DIR/emts-iso
[[ -x $bin ]] || die "no emts-iso binary at $bin"

# The nested archive's compressed size in the build's input, from its manifest.
nested_in() { jq -r '.rewrite.nestedIn.bytes' "$1/manifest.json"; }

# --- the large input -------------------------------------------------------------------------------------------
log "measuring the nested archive of $small"
"$bin" build --kernel "$kernel" --initramfs "$small" --initramfs-only "$work/probe" >/dev/null
nested_small=$(nested_in "$work/probe")
rm -rf -- "$work/probe"

bulk_total=$(( nested_small * SCALE ))
per_file=$(( bulk_total / BULK_FILES ))
log "adding $BULK_FILES random files of $per_file bytes ($SCALE x the nested archive's $nested_small bytes)"
mkdir -p "$work/bulk"
adds=()
for (( i = 1; i <= BULK_FILES; i++ )); do
	head -c "$per_file" /dev/urandom >"$work/bulk/$i"
	adds+=(--add "$work/bulk/$i:/usr/share/bulk/$i")
done
"$bin" build --kernel "$kernel" --initramfs "$small" --initramfs-only "$work/large" \
	--disable-unit none.service "${adds[@]}" >/dev/null
rm -rf -- "$work/bulk"
large=$work/large/initramfs.img

# --- the runs ----------------------------------------------------------------------------------------------------
rows=()
for label in small large; do
	input=${!label}
	walls=() cpus=() rsss=()
	for (( run = 1; run <= RUNS; run++ )); do
		out=$work/out-$label-$run
		log "$label run $run/$RUNS"
		/usr/bin/time -v -o "$work/time.txt" \
			"$bin" build --kernel "$kernel" --initramfs "$input" --initramfs-only "$out" >/dev/null
		read -r wall cpu rss < <(parse_time "$work/time.txt")
		walls+=("$wall") cpus+=("$cpu") rsss+=("$rss")
		nested=$(nested_in "$out")
		output=$(size "$out/initramfs.img")
		rm -rf -- "$out"
	done
	rows+=("$(printf '%-6s | %10s | %14s | %9ss | %13ss | %11s | %10s' "$label" "$(mb "$(size "$input")")" \
		"$(mb "$nested")" "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
		"$(awk -v k="$(printf '%s\n' "${rsss[@]}" | max)" 'BEGIN { printf "%.1f MiB", k / 1024 }')" "$(mb "$output")")")
	log "$label: peak RSS per run (KiB): ${rsss[*]}"
done

printf '%-6s | %10s | %14s | %10s | %14s | %11s | %10s\n' input "input size" "nested archive" "wall (med)" \
	"user+sys (med)" "peak RSS" "output"
printf '%s\n' "-------+------------+----------------+------------+----------------+-------------+-----------"
printf '%s\n' "${rows[@]}"
echo "($RUNS runs each; kernel $(basename "$kernel"), emts-iso $bin, test bed $dir)"
