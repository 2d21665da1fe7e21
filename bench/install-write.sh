#!/bin/bash
# bench/install-write.sh: is install-os's image write (decompress + sha256 + verified write) as fast as a plain
# `zcat | dd`? Run on purpose; not part of the tests.
#
#   bench/install-write.sh                 # builds a realistic 1 GiB image in $TMPDIR (gzip -6), then benchmarks
#   bench/install-write.sh IMAGE.raw.gz    # benchmarks this compressed raw image instead (gzip, zstd or xz)
#
# 1. the image: by default a 1 GiB sparse raw disk with a GPT (sgdisk): a 100 MiB FAT ESP holding a few files and
#    an ext4 root made with `mkfs.ext4 -d` from about STAGE_MB of /usr (libraries, binaries, share), the rest zeros;
#    gzip -6'd, with its NAME.raw.gz.sha256 next to it as on the medium;
# 2. writes it RUNS times with each method, alternating, onto a fresh target file of the raw image's size on the
#    same filesystem, dropping the page cache before every run (when permitted):
#      zcat|dd     zcat IMAGE | dd of=TARGET bs=4M oflag=direct conv=notrunc; sync     (as the brief asks)
#      zcat|dd fb  the same with iflag=fullblock (EXTRA_DD=1, the default): without it, dd's first short read from
#                  the pipe turns O_DIRECT off for the rest of the run, so the row above writes through the cache
#      pigz|dd     pigz -dc IMAGE | dd ... as the first row, when pigz is installed (EXTRA_DD=1, gzip images)
#      install-os  install-os write-image IMAGE TARGET; sync                            (release build)
#    each under GNU time -v (wall, user+sys of the whole pipeline, peak RSS of its largest process);
# 3. checks every target is byte-identical to the raw image over its length (cmp), and prints a table: median
#    wall, MB/s (raw bytes / median wall, decimal MB), median CPU, peak RSS, and install-os's rate over zcat|dd's.
#
# Environment: RUNS (3), STAGE_MB (560), EXTRA_DD (1), SCRATCH_PATH (.build-bench), TMPDIR, KEEP (0: remove the
# work directory at the end).
set -Eeuo pipefail
umask 022

BENCH_NAME=install-write.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
STAGE_MB=${STAGE_MB:-560}
EXTRA_DD=${EXTRA_DD:-1}
SCRATCH_PATH=${SCRATCH_PATH:-$ROOT/.build-bench}
KEEP=${KEEP:-0}

if [[ ! -x /usr/bin/time ]]; then
	[[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || die "/usr/bin/time (GNU time) is required: apt-get install time"
	log "/usr/bin/time is missing: installing the 'time' package with apt-get"
	apt-get install -y -q time >&2 || die "could not install the 'time' package"
fi
for tool in cmp dd sha256sum awk jq fallocate; do command -v "$tool" >/dev/null || die "$tool is required"; done

work=$(mktemp -d "${TMPDIR:-/tmp}/emts-install-write.XXXXXX")
cleanup() { if [[ $KEEP == 1 ]]; then log "kept $work"; else rm -rf -- "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

allocated() { du -B1 -- "$1" | cut -f1; }

# --- the release build -------------------------------------------------------------------------------------------
log "release build of install-os ($SCRATCH_PATH)"
release_build install-os
bin=$BIN_DIR/install-os
[[ -x $bin ]] || die "no install-os binary at $bin"

# --- the image ---------------------------------------------------------------------------------------------------
# A realistic OS disk: GPT, ESP, ext4 root with real files (ELF libraries and binaries, text, already-compressed
# data), and large zero areas (free space, the unused tail), as emts-iso images are.
make_image() {
	local raw=$1 stage=$work/stage budget=$(( STAGE_MB * 1000000 ))
	for tool in sgdisk mkfs.ext4 mkfs.vfat gzip; do command -v "$tool" >/dev/null || die "$tool is required to build the image"; done
	truncate -s 1G "$raw"
	sgdisk -o -n 1:2048:+100M -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:root "$raw" >/dev/null
	[[ $(dd if="$raw" bs=8 skip=64 count=1 status=none) == "EFI PART" ]] || die "sgdisk wrote no GPT on $raw"
	local first1 last1 first2 last2
	read -r first1 last1 < <(sgdisk -i 1 "$raw" | awk '/^First sector/ { f = $3 } /^Last sector/ { l = $3 } END { print f, l }')
	read -r first2 last2 < <(sgdisk -i 2 "$raw" | awk '/^First sector/ { f = $3 } /^Last sector/ { l = $3 } END { print f, l }')

	log "staging about $STAGE_MB MB of /usr for the root filesystem"
	mkdir -p "$stage"
	find /usr/lib /usr/bin /usr/sbin /usr/share /usr/libexec -xdev -type f -size -64M -printf '%s\t%p\n' 2>/dev/null \
		| awk -F'\t' -v budget="$budget" 'full { next } total + $1 > budget { full = 1; next } { total += $1; print $2 }' \
		>"$work/files"
	tar -cf - --no-recursion -P -T "$work/files" 2>/dev/null | tar -xf - -C "$stage" 2>/dev/null || true
	log "staged $(du -sh --apparent-size "$stage" | cut -f1) in $(wc -l <"$work/files") files"

	local root=$work/root.img esp=$work/esp.img
	truncate -s $(( (last2 - first2 + 1) * 512 )) "$root"
	mkfs.ext4 -q -F -L root -d "$stage" "$root"
	rm -rf -- "$stage"
	mkfs.vfat -C -n ESP "$esp" $(( (last1 - first1 + 1) / 2 )) >/dev/null
	if command -v mcopy >/dev/null; then
		for file in /boot/vmlinuz* /boot/initrd.img* /usr/lib/systemd/boot/efi/*.efi; do
			[[ -f $file ]] && mcopy -i "$esp" "$file" ::/ 2>/dev/null || true
		done
	fi
	dd if="$esp" of="$raw" bs=4M seek=$(( first1 * 512 )) oflag=seek_bytes conv=notrunc,sparse status=none
	dd if="$root" of="$raw" bs=4M seek=$(( first2 * 512 )) oflag=seek_bytes conv=notrunc,sparse status=none
	rm -f -- "$root" "$esp"
}

if [[ $# -ge 1 ]]; then
	image=$(realpath -- "$1")
	[[ -f $image ]] || die "$1 is not a file"
	raw=
else
	raw=$work/emt-bench.raw
	image=$raw.gz
	log "building the image in $work"
	make_image "$raw"
	log "gzip -6 of the raw image"
	gzip -6 -n -c "$raw" >"$image"
	(cd "$work" && sha256sum "$(basename "$image")" >"$(basename "$image").sha256")
fi

case $(od -An -tx1 -N6 "$image" | tr -d ' \n') in
	1f8b*) decompress=(zcat) ;;
	28b52ffd*) decompress=(zstd -dc) ;;
	fd377a585a00) decompress=(xz -dc) ;;
	*) die "$image is not gzip, zstd or xz" ;;
esac
command -v "${decompress[0]}" >/dev/null || die "${decompress[0]} is required for $image"

if [[ -n $raw ]]; then
	raw_bytes=$(size "$raw")
else
	log "decompressing $image once to measure it"
	raw_bytes=$("${decompress[@]}" "$image" | wc -c)
fi
compressed_bytes=$(size "$image")

# install-os finds NAME.raw.gz.sha256 (or NAME.sha256) as on the medium; any other image gets --sha256.
sha_args=()
base=$(basename "$image")
if ! [[ $base =~ \.raw\.(gz|zst|xz)$ && ( -f $image.sha256 || -f ${image%.raw.*}.sha256 ) ]]; then
	sha_args=(--sha256 "$(sha256sum "$image" | cut -d' ' -f1)")
fi

log "image: $image"
log "  raw $raw_bytes bytes ($(mb "$raw_bytes"))${raw:+, $(mb "$(allocated "$raw")") allocated}; compressed $compressed_bytes bytes ($(mb "$compressed_bytes"), ratio $(awk -v r="$raw_bytes" -v c="$compressed_bytes" 'BEGIN { printf "%.2f", r / c }'))"

# --- the runs ----------------------------------------------------------------------------------------------------
can_drop=0
if [[ -w /proc/sys/vm/drop_caches ]] && { sync; echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then can_drop=1; fi
[[ $can_drop == 1 ]] || log "cannot drop the page cache (not root?): runs after the first read the image from the cache"
drop_caches() { sync; [[ $can_drop == 0 ]] || echo 3 >/proc/sys/vm/drop_caches; }

target=$work/target.raw
fresh_target() {
	rm -f -- "$target"
	fallocate -l "$raw_bytes" "$target" 2>/dev/null || truncate -s "$raw_bytes" "$target"
}

# The raw image's bytes, to compare a target with.
check_target() {
	local label=$1
	if [[ -n $raw ]]; then
		cmp -n "$raw_bytes" -- "$raw" "$target" >/dev/null || die "$label: the target differs from the raw image"
	else
		"${decompress[@]}" "$image" | cmp -n "$raw_bytes" -- - "$target" >/dev/null \
			|| die "$label: the target differs from the raw image"
	fi
	[[ $(size "$target") == "$raw_bytes" ]] || die "$label: the target is $(size "$target") bytes, not $raw_bytes"
}

methods=("zcat|dd")
[[ $EXTRA_DD == 1 ]] && methods+=("zcat|dd fb")
# GNU gzip's own inflate (zcat) is about half as fast as zlib's, which install-os uses (through libarchive): pigz -dc
# (zlib inflate, reading, writing and checking in other threads) is the stronger baseline when it is installed.
[[ $EXTRA_DD == 1 && ${decompress[0]} == zcat ]] && command -v pigz >/dev/null && methods+=("pigz|dd")
methods+=("install-os")
declare -A walls cpus rsss identical
own=()

run_method() {
	local method=$1 run=$2
	fresh_target
	drop_caches
	case $method in
		"zcat|dd")
			/usr/bin/time -v -o "$work/time.txt" bash -c \
				'"${@:3}" "$1" | dd of="$2" bs=4M oflag=direct conv=notrunc status=none && sync' \
				_ "$image" "$target" "${decompress[@]}" ;;
		"zcat|dd fb")
			/usr/bin/time -v -o "$work/time.txt" bash -c \
				'"${@:3}" "$1" | dd of="$2" bs=4M iflag=fullblock oflag=direct conv=notrunc status=none && sync' \
				_ "$image" "$target" "${decompress[@]}" ;;
		"pigz|dd")
			/usr/bin/time -v -o "$work/time.txt" bash -c \
				'pigz -dc "$1" | dd of="$2" bs=4M oflag=direct conv=notrunc status=none && sync' \
				_ "$image" "$target" ;;
		install-os)
			/usr/bin/time -v -o "$work/time.txt" bash -c 'out=$1; shift; "$@" >"$out" && sync' \
				_ "$work/summary.json" "$bin" write-image "$image" "$target" "${sha_args[@]}" --json \
				--progress-interval 1 2>"$work/progress-$run.txt" \
				|| { cat "$work/progress-$run.txt" >&2; die "install-os write-image failed"; }
			[[ $(jq -r .verified "$work/summary.json") == true ]] || die "install-os did not verify the sha256"
			own+=("$(jq -r '.seconds * 1000 | round / 1000' "$work/summary.json")") ;;
	esac
	local wall cpu rss
	read -r wall cpu rss < <(parse_time "$work/time.txt")
	walls[$method]+="$wall " cpus[$method]+="$cpu " rsss[$method]+="$rss "
	check_target "$method run $run"
	identical[$method]=yes
	log "$(printf '%-11s run %d/%d: %6.2f s wall, %6.2f s CPU, %7.1f MiB peak RSS' "$method" "$run" "$RUNS" "$wall" "$cpu" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')")"
}

for (( run = 1; run <= RUNS; run++ )); do
	for method in "${methods[@]}"; do run_method "$method" "$run"; done
done
rm -f -- "$target"

# --- the table ---------------------------------------------------------------------------------------------------
declare -A rate
printf '\n%-11s | %12s | %9s | %12s | %13s | %s\n' method "wall s (med)" "MB/s" "CPU s (med)" "peak RSS MB" "identical to raw"
printf '%s\n' "------------+--------------+-----------+--------------+---------------+-----------------"
for method in "${methods[@]}"; do
	wall=$(tr ' ' '\n' <<<"${walls[$method]}" | grep . | median 3)
	cpu=$(tr ' ' '\n' <<<"${cpus[$method]}" | grep . | median 3)
	rss=$(tr ' ' '\n' <<<"${rsss[$method]}" | grep . | max)
	rate[$method]=$(awk -v b="$raw_bytes" -v s="$wall" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }')
	printf '%-11s | %12.2f | %9s | %12.2f | %13.1f | %s\n' "$method" "$wall" "${rate[$method]}" "$cpu" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1000 }')" "${identical[$method]:-no} (cmp over $raw_bytes bytes)"
done
ratio() { awk -v a="${rate[install-os]}" -v b="${rate[$1]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
echo
echo "install-os / zcat|dd rate: $(ratio "zcat|dd") (target >= 0.95)"
[[ $EXTRA_DD == 1 ]] && echo "install-os / zcat|dd fb rate: $(ratio "zcat|dd fb") (dd with iflag=fullblock, so O_DIRECT stays on)"
[[ -n ${rate[pigz|dd]:-} ]] && echo "install-os / pigz|dd rate: $(ratio "pigz|dd") (zlib's inflate, as install-os; dd as in the first row)"
echo "install-os's own report (seconds from ImageWriter.write, per run): ${own[*]}"
echo
echo "image: $image: $raw_bytes bytes raw ($(mb "$raw_bytes")), $compressed_bytes compressed ($(mb "$compressed_bytes")), ${decompress[*]}"
echo "$RUNS runs per method, alternating; page cache dropped before each run: $([[ $can_drop == 1 ]] && echo yes || echo no)"
echo "MB/s = raw image bytes / median wall time (decimal MB); CPU = user+sys of all processes; peak RSS = largest process"
echo "both write the full raw image and end with sync; dd does NOT check the image's sha256, install-os does (it hashes"
echo "the compressed file, verifies it, then writes the first MiB and fsyncs), so install-os does more work per byte"
