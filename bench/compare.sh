#!/bin/bash
# bench/compare.sh: `emts-iso build` against today's shell flow and against the floor, on the same inputs (issue 9).
# Run on purpose, not part of the tests; the machine should be otherwise idle (run it niced on a shared one).
#
#   nice -n 10 bench/compare.sh            # RUNS=3 on the test bed and on the large variant
#   RUNS=1 INPUTS=small bench/compare.sh   # quicker
#   INSTALL_WRITE=1 bench/compare.sh       # then also bench/install-write.sh (install-os's writer vs zcat | dd)
#
# Needs (root, Debian 12): apt-get install -y time jq cpio gzip tar dpkg grub-common grub-pc-bin
#   grub-efi-amd64-bin xorriso mtools   (pigz optional: the floor uses it when present), a Swift toolchain, and
#   Debian's mirrors once, to download the large variant's packages.
#
# Inputs (the same kernel, initramfs and package repository for every method):
#   small  the cached test bed (testbed/build.sh): vmlinuz + initramfs-gzip.img (nested root ~130 MB unpacked);
#   large  the test bed with real Debian packages added to its nested root filesystem (LARGE_PACKAGES and the
#          dependencies the test bed lacks, from `apt-get -s install` against the test bed's dpkg status,
#          `apt-get download`ed), built by the release emts-iso itself (`--packages DIR --install NAME... --allow-missing-deps
#          --no-installer --disable-unit none.service`, agents left enabled) and re-laid out as ONE gzip'd newc
#          cpio (`gzip -9`, as dracut and the test bed make it: emts-iso writes the nested archive into a plain cpio
#          segment of its own, which today's `zcat | cpio -idm` would not see). Cached under
#          /var/cache/emts-iso/bench/<key>/, key = sha256 of the test bed key, the package list and LAYOUT_VERSION.
#   Both sides add the same payload: the packages `emts-iso build --packages` injects (efibootmgr gawk lvm2
#   net-tools parted and their missing dependencies, from the cached repository fetch-packages.sh makes; the list
#   is read from emts-iso's manifest per input), the install-os bundle (the files emts-iso put under
#   /usr/lib/emts/install-os, taken out of its ISO) and install-os.service. Neither carries an OS image.
#
# Methods, each RUNS times, in turn (warm page cache: every input is read once before; `sync` before each run):
#   today as-is  bench/today-flow.sh as-is: cpio -idm, gunzip the nested rootfs.tar.gz, tar -uf, `gzip -k` (the
#                uncompressed rootfs.tar stays beside the new .tar.gz: design.md's "second full copy of the OS in
#                the initramfs"), find | cpio -o -H newc | gzip -9, grub-mkrescue;
#   today no-copy  the same with `gzip` (no second copy);
#   emts-iso     emts-iso build --kernel K --initramfs I --packages DIR -o OUT.iso (release build; agents disabled,
#                packages and install-os injected; default gzip);
#   floor        decompress the input once and its nested archive once, to nowhere, then copy emts-iso's ISO:
#                `$GUNZIP I | cpio -i --to-stdout NESTED | $GUNZIP >/dev/null; cp REF.iso OUT.iso`
#                ($GUNZIP = pigz -dc when installed, zlib's inflate as emts-iso's; else gzip -dc). Work that any
#                builder must do; it does not compress anything;
#   floor+deflate  the floor plus one single-threaded gzip -6 of emts-iso's own new nested archive's contents
#                (`$GUNZIP NESTED_OUT | pigz -6 -p 1 -c >/dev/null`, else gzip -6; NESTED_OUT taken out of the
#                reference ISO beforehand): the least a builder that recompresses the nested root with one
#                zlib thread at emts-iso's level has to do (a reference line, not one of issue 9's rows).
# Figures per method (median of RUNS for times):
#   wall, user+sys  GNU time -v around the whole command (pipelines: `bash -c`, all their processes' CPU);
#   peak RSS        GNU time's "Maximum resident set size": for a pipeline that is the LARGEST SINGLE PROCESS
#                   (ru_maxrss of the children), not the sum of the processes running at the same time;
#   temp disk       peak apparent bytes (du -sb) of the run's work directory and TMPDIR and of the output's
#                   directory minus the output itself (emts-iso's hidden .OUT.work-PID directory with the edited
#                   kernel + initramfs and its .OUT.partial-XXXX/ ESP scratch are counted, the ISO being written,
#                   .OUT.XXXX.partial, is not), sampled every SAMPLE_INTERVAL s in the background plus once at
#                   the end: a lower bound (a peak shorter than the interval can be missed);
#   output          the ISO's size; "emts-iso/x" is emts-iso's median wall (and CPU) over the method's.
#
# Environment: RUNS (3), INPUTS ("small large"), LARGE_PACKAGES ("containerd runc docker.io libllvm15 python3.11
# perl": ~500 MB installed, the nested root grows to ~650 MB unpacked; openjdk-17-jre-headless is not in the list:
# its closure has ca-certificates, whose one non-ASCII file name crashed emts-iso in libarchive's newc writer until
# ArchiveKit set a UTF-8 LC_CTYPE; adding it now changes the cache key and the figures), SAMPLE_INTERVAL (0.2), SCRATCH_PATH (.build-bench-release),
# EMTS_CACHE (/var/cache/emts-iso), METHODS (comma-separated subset of the five, e.g. "emts-iso,floor"), INSTALL_WRITE (0), PROFILE (0: 1 records `perf record -g` of one emts-iso run
# on each input and prints the top symbols), TMPDIR, KEEP (0: remove the work directory at the end).
set -Eeuo pipefail
umask 022

BENCH_NAME=compare.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
INPUTS=${INPUTS:-small large}
LARGE_PACKAGES=${LARGE_PACKAGES:-containerd runc docker.io libllvm15 python3.11 perl}
SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-0.2}
SCRATCH_PATH=${SCRATCH_PATH:-$ROOT/.build-bench-release}
EMTS_CACHE=${EMTS_CACHE:-/var/cache/emts-iso}
INSTALL_WRITE=${INSTALL_WRITE:-0}
PROFILE=${PROFILE:-0}
KEEP=${KEEP:-0}
LAYOUT_VERSION=1
APT_PACKAGES="time jq cpio gzip tar dpkg grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools"

require_tools "$APT_PACKAGES" /usr/bin/time jq cpio gzip zcat tar dpkg-deb du grub-mkrescue xorriso mformat \
	/usr/lib/grub/i386-pc /usr/lib/grub/x86_64-efi apt-get sha256sum
if command -v pigz >/dev/null; then GUNZIP="pigz -dc" DEFLATE="pigz -6 -p 1 -c"; else GUNZIP="gzip -dc" DEFLATE="gzip -6 -c"; fi
[[ $(id -u) == 0 ]] || log "not root: cpio -idm cannot make the initramfs's device nodes; run as root"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/emts-compare.XXXXXX")
sampler=
cleanup() {
	[[ -z $sampler ]] || kill "$sampler" 2>/dev/null || true
	if [[ $KEEP == 1 ]]; then log "kept $work"; else rm -rf -- "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- inputs and tools ---------------------------------------------------------------------------------------------
log "test bed"
testbed=$(cd "$ROOT" && testbed/build.sh | tail -1)
kernel=$testbed/vmlinuz
small=$testbed/initramfs-gzip.img
[[ -f $kernel && -f $small && -f $testbed/rootfs.tar.gz ]] || die "test bed $testbed lacks vmlinuz, initramfs-gzip.img or rootfs.tar.gz"
testbed_key=$(basename "$testbed")

log "the packages --packages injects (fetch-packages.sh)"
packages=$(cd "$ROOT" && Tests/EndToEndTests/Fixtures/fetch-packages.sh "$testbed" | tail -1)
[[ -d $packages ]] || die "no package directory from fetch-packages.sh"
unit=$ROOT/Sources/MicroOS/Unit/install-os.service
[[ -f $unit ]] || die "no $unit"

log "release build of emts-iso and install-os ($SCRATCH_PATH)"
release_build emts-iso install-os
bin=$BIN_DIR/emts-iso
[[ -x $bin && -x $BIN_DIR/install-os ]] || die "no emts-iso or install-os in $BIN_DIR"

# --- the large variant --------------------------------------------------------------------------------------------
# nested_out IMG PATH BYTES OUT: the nested archive PATH (BYTES long) out of an initramfs emts-iso wrote, where it
# sits in a plain newc cpio segment after the gzip'd one: found by its header (magic 070701, name, file size).
nested_out() {
	local img=$1 path=$2 bytes=$3 dest=$4 offset header start namesize data
	while IFS=: read -r offset _; do
		start=$(( offset - 110 ))
		(( start >= 0 )) || continue
		header=$(dd if="$img" iflag=skip_bytes,count_bytes skip="$start" count=110 bs=110 status=none | tr -d '\0')
		[[ ${header:0:6} == 070701 && $(( 16#${header:54:8} )) == "$bytes" ]] || continue
		namesize=$(( 16#${header:94:8} ))
		[[ $namesize == $(( ${#path} + 1 )) ]] || continue
		data=$(( (start + 110 + namesize + 3) / 4 * 4 ))
		tail -c +$(( data + 1 )) -- "$img" | head -c "$bytes" >"$dest"
		[[ $(size "$dest") == "$bytes" ]] && gzip -t -- "$dest" && return 0
	done < <(grep -obUaF -- "$path" "$img")
	die "no $path of $bytes bytes found in $img"
}

make_large() {
	local dir=$1 scratch=$work/large-build names closure
	mkdir -p "$dir/debs" "$scratch/status"
	log "large variant: the packages ($LARGE_PACKAGES) and what the test bed lacks of their closure"
	tar -xzf "$testbed/rootfs.tar.gz" -C "$scratch/status" ./var/lib/dpkg/status
	read -r -a names <<<"$LARGE_PACKAGES"
	closure=$(apt-get -s -q -o Dir::State::status="$scratch/status/var/lib/dpkg/status" \
		-o APT::Install-Recommends=false install "${names[@]}" | awk '/^Inst / { print $2 }' | LC_ALL=C sort)
	[[ -n $closure ]] || die "apt-get -s install $LARGE_PACKAGES resolved nothing"
	if [[ -f $dir/debs/DOWNLOADED && $(cat "$dir/PACKAGES" 2>/dev/null) == "$closure" ]]; then
		log "large variant: packages already downloaded in $dir/debs"
	else
		printf '%s\n' "$closure" >"$dir/PACKAGES"
		log "large variant: apt-get download of $(wc -l <"$dir/PACKAGES") packages into $dir/debs"
		# shellcheck disable=SC2046
		(cd "$dir/debs" && apt-get download -q $(cat "$dir/PACKAGES") >&2 2>/dev/null) || die "apt-get download failed"
		touch "$dir/debs/DOWNLOADED"
	fi
	log "large variant: emts-iso build --packages (release build) into the test bed's nested root"
	local installs=() name
	for name in "${names[@]}"; do installs+=(--install "$name"); done
	"$bin" build --kernel "$kernel" --initramfs "$small" --packages "$dir/debs" "${installs[@]}" --allow-missing-deps \
		--no-installer --disable-unit none.service --initramfs-only "$scratch/out" >/dev/null \
		|| die "emts-iso build of the large variant failed"
	local nested bytes
	nested=$(jq -r '.rewrite.nestedOut.path' "$scratch/out/manifest.json")
	bytes=$(jq -r '.rewrite.nestedOut.bytes' "$scratch/out/manifest.json")
	log "large variant: re-laid out as one gzip'd cpio (nested $nested: $bytes bytes)"
	mkdir -p "$scratch/tree"
	(cd "$scratch/tree" && zcat -- "$small" | cpio -idm --quiet)
	[[ -f $scratch/tree/$nested ]] || die "the test bed's initramfs has no $nested"
	nested_out "$scratch/out/initramfs.img" "$nested" "$bytes" "$scratch/tree/$nested"
	# As testbed/build.sh packs it: names without "./", owned by root, sorted, gzip -9.
	(cd "$scratch/tree" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort \
		| cpio --quiet -o -H newc --owner=0:0 --reproducible) | gzip -n -9 >"$dir/initramfs-gzip.img.tmp"
	cp -- "$scratch/out/manifest.json" "$dir/emts-iso-manifest.json"
	mv -- "$dir/initramfs-gzip.img.tmp" "$dir/initramfs-gzip.img"
	jq -n --arg testbed "$testbed_key" --arg packages "$LARGE_PACKAGES" --slurpfile m "$dir/emts-iso-manifest.json" \
		'{testbed: $testbed, packages: ($packages | split(" ")), nested: $m[0].rewrite.nestedOut,
		  warnings: ($m[0].plan.packages.warnings // [])}' >"$dir/large.json"
	rm -rf -- "$scratch"
	touch "$dir/COMPLETE"
}

large=
if [[ " $INPUTS " == *" large "* ]]; then
	key=$(printf 'testbed=%s\npackages=%s\nlayout=%s\n' "$testbed_key" "$LARGE_PACKAGES" "$LAYOUT_VERSION" \
		| sha256sum | cut -c1-16)
	large_dir=$EMTS_CACHE/bench/$key
	if [[ ! -f $large_dir/COMPLETE ]]; then
		rm -f -- "$large_dir/initramfs-gzip.img" "$large_dir/initramfs-gzip.img.tmp"
		make_large "$large_dir"
	else
		log "large variant: cached in $large_dir"
	fi
	large=$large_dir/initramfs-gzip.img
fi

# --- per input: a reference emts-iso build (warms the cache; its manifest names the payload) ------------------------
declare -A deb_of
while IFS= read -r deb; do
	deb_of[$(dpkg-deb -f "$deb" Package)]=$deb
done < <(find "$packages" -maxdepth 1 -name '*.deb' | LC_ALL=C sort)

bundle=$work/bundle/install-os
declare -A ref_iso nested_path nested_in_bytes nested_unpacked deb_list nested_out_file
for label in $INPUTS; do
	input=${!label}
	[[ -n $input && -f $input ]] || die "unknown or missing input: $label"
	log "$label: reference emts-iso build"
	ref_iso[$label]=$work/ref-$label.iso
	"$bin" build --kernel "$kernel" --initramfs "$input" --packages "$packages" -o "${ref_iso[$label]}" >/dev/null \
		|| die "emts-iso build of $label failed"
	manifest=${ref_iso[$label]}.manifest.json
	nested_path[$label]=$(jq -r '.microOS.rewrite.nestedIn.path' "$manifest")
	nested_in_bytes[$label]=$(jq -r '.microOS.rewrite.nestedIn.bytes' "$manifest")
	nested_unpacked[$label]=$(jq -r '.microOS.rewrite.nestedIn.unpackedBytes' "$manifest")
	deb_list[$label]=$work/debs-$label.txt
	: >"${deb_list[$label]}"
	while IFS= read -r name; do
		[[ -n ${deb_of[$name]:-} ]] || die "$label: emts-iso injected $name, which has no .deb in $packages"
		printf '%s\n' "${deb_of[$name]}" >>"${deb_list[$label]}"
	done < <(jq -r '.microOS.plan.packages.packages[].name' "$manifest")
	log "$label: emts-iso injected $(wc -l <"${deb_list[$label]}") packages; nested ${nested_path[$label]}: $(mb "${nested_in_bytes[$label]}") gzip'd, $(mb "${nested_unpacked[$label]}") unpacked"
	# emts-iso's nested archive, out of its ISO's initramfs (for floor+deflate, and the install-os bundle).
	mkdir -p "$work/iso-$label"
	xorriso -osirrox on -indev "${ref_iso[$label]}" -extract /boot/initramfs.img "$work/iso-$label/initramfs.img" \
		2>/dev/null
	nested_out_file[$label]=$work/nested-out-$label.tar.gz
	nested_out "$work/iso-$label/initramfs.img" "${nested_path[$label]}" \
		"$(jq -r '.microOS.rewrite.nestedOut.bytes' "$manifest")" "${nested_out_file[$label]}"
	rm -rf -- "$work/iso-$label"
	if [[ ! -d $bundle ]]; then
		# The files emts-iso put under /usr/lib/emts/install-os.
		mkdir -p "$work/bundle/root"
		tar -xzf "${nested_out_file[$label]}" -C "$work/bundle/root" ./usr/lib/emts/install-os
		mv -- "$work/bundle/root/usr/lib/emts/install-os" "$bundle"
		rm -rf -- "$work/bundle/root"
		log "install-os bundle (out of the $label ISO): $(find "$bundle" -type f | wc -l) files, $(mb "$(dir_bytes "$bundle")")"
	fi
done

# --- the runs -----------------------------------------------------------------------------------------------------
# sample_disk OUT DIR...: the peak of dir_bytes over the DIRs, every SAMPLE_INTERVAL seconds, into OUT.
# The output: the ISO, its manifest, and their files being written (emts-iso: .out.iso.XXXX.partial and
# .out.iso.manifest.json.partial-*; its .out.iso.partial-XXXX/ scratch directory of ESP and FAT images is counted).
excludes=(--exclude=out.iso --exclude='.out.iso.*.partial' --exclude=out.iso.manifest.json
	--exclude='.out.iso.manifest.json.partial-*')
sample_disk() {
	local out=$1 peak=0 bytes
	shift
	set +e
	echo 0 >"$out"
	while :; do
		bytes=$(dir_bytes "$@" "${excludes[@]}")
		if (( ${bytes:-0} > peak )); then peak=$bytes; echo "$peak" >"$out"; fi
		sleep "$SAMPLE_INTERVAL"
	done
}

IFS=, read -ra methods <<<"${METHODS:-today as-is,today no-copy,emts-iso,floor,floor+deflate}"
declare -A walls cpus rsss temps outs
run_method() {
	local label=$1 method=$2 run=$3 input=${!1} dir=$work/run
	rm -rf -- "$dir"
	mkdir -p "$dir/out" "$dir/tmp"
	sync
	sample_disk "$work/disk-peak" "$dir" &
	sampler=$!
	case $method in
		"today as-is" | "today no-copy")
			/usr/bin/time -v -o "$work/time.txt" "$ROOT/bench/today-flow.sh" "${method#today }" "$kernel" "$input" \
				"${deb_list[$label]}" "$bundle" "$unit" "$dir/work" "$dir/out/out.iso" ;;
		emts-iso)
			TMPDIR=$dir/tmp /usr/bin/time -v -o "$work/time.txt" \
				"$bin" build --kernel "$kernel" --initramfs "$input" --packages "$packages" -o "$dir/out/out.iso" \
				>/dev/null ;;
		floor)
			/usr/bin/time -v -o "$work/time.txt" bash -c 'set -o pipefail; '"$GUNZIP"' "$1" | cpio -i --quiet --to-stdout "$2" | '"$GUNZIP"' >/dev/null && cp -- "$3" "$4"' \
				_ "$input" "${nested_path[$label]}" "${ref_iso[$label]}" "$dir/out/out.iso" ;;
		floor+deflate)
			/usr/bin/time -v -o "$work/time.txt" bash -c 'set -o pipefail; '"$GUNZIP"' "$1" | cpio -i --quiet --to-stdout "$2" | '"$GUNZIP"' >/dev/null && '"$GUNZIP"' "$5" | '"$DEFLATE"' >/dev/null && cp -- "$3" "$4"' \
				_ "$input" "${nested_path[$label]}" "${ref_iso[$label]}" "$dir/out/out.iso" "${nested_out_file[$label]}" ;;
	esac
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	sampler=
	local peak final wall cpu rss
	peak=$(cat "$work/disk-peak")
	final=$(dir_bytes "$dir" "${excludes[@]}")
	(( final > peak )) && peak=$final
	[[ -s $dir/out/out.iso ]] || die "$label $method wrote no ISO"
	read -r wall cpu rss < <(parse_time "$work/time.txt")
	local k="$label|$method"
	walls[$k]+="$wall " cpus[$k]+="$cpu " rsss[$k]+="$rss " temps[$k]+="$peak "
	outs[$k]=$(size "$dir/out/out.iso")
	log "$(printf '%-5s %-13s run %d/%d: %7.2f s wall, %7.2f s CPU, %8s peak RSS, %9s temp disk, ISO %s' "$label" \
		"$method" "$run" "$RUNS" "$wall" "$cpu" "$(mib "$rss")" "$(mb "$peak")" "$(mb "${outs[$k]}")")"
	rm -rf -- "$dir"
}

for label in $INPUTS; do
	for (( run = 1; run <= RUNS; run++ )); do
		for method in "${methods[@]}"; do run_method "$label" "$method" "$run"; done
	done
done

# --- the table ----------------------------------------------------------------------------------------------------
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
mx() { tr ' ' '\n' <<<"$1" | grep . | max; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo
printf '%-5s | %-13s | %12s | %16s | %12s | %14s | %10s | %15s | %14s\n' input method "wall s (med)" \
	"user+sys s (med)" "peak RSS" "temp disk peak" "ISO" "emts-iso/x wall" "emts-iso/x CPU"
printf '%s\n' "------+---------------+--------------+------------------+--------------+----------------+------------+-----------------+---------------"
declare -A summary
for label in $INPUTS; do
	ew=$(med "${walls[$label|emts-iso]:-}") ec=$(med "${cpus[$label|emts-iso]:-}")
	for method in "${methods[@]}"; do
		k="$label|$method"
		w=$(med "${walls[$k]:-}") c=$(med "${cpus[$k]:-}")
		printf '%-5s | %-13s | %12.2f | %16.2f | %12s | %14s | %10s | %15s | %14s\n' "$label" "$method" "$w" "$c" \
			"$(mib "$(mx "${rsss[$k]}")")" "$(mb "$(mx "${temps[$k]}")")" "$(mb "${outs[$k]}")" \
			"$(ratio "$ew" "$w")" "$(ratio "$ec" "$c")"
	done
	summary[$label]=$(printf '%s: today as-is / emts-iso wall %sx (CPU %sx), today no-copy / emts-iso wall %sx; emts-iso / floor wall %sx (CPU %sx), emts-iso / floor+deflate wall %sx; emts-iso peak RSS %s, temp disk peak %s' \
		"$label" "$(ratio "$(med "${walls[$label|today as-is]:-}")" "$ew")" "$(ratio "$(med "${cpus[$label|today as-is]:-}")" "$ec")" \
		"$(ratio "$(med "${walls[$label|today no-copy]:-}")" "$ew")" "$(ratio "$ew" "$(med "${walls[$label|floor]:-}")")" \
		"$(ratio "$ec" "$(med "${cpus[$label|floor]:-}")")" "$(ratio "$ew" "$(med "${walls[$label|floor+deflate]:-}")")" \
		"$(mib "$(mx "${rsss[$label|emts-iso]:-}")")" "$(mb "$(mx "${temps[$label|emts-iso]:-}")")")
done
echo
for label in $INPUTS; do
	input=${!label}
	echo "$label: $input: $(mb "$(size "$input")"); nested ${nested_path[$label]} $(mb "${nested_in_bytes[$label]}") gzip'd, $(mb "${nested_unpacked[$label]}") unpacked; $(wc -l <"${deb_list[$label]}") packages injected"
done
echo "kernel $kernel; packages $packages; emts-iso $bin; floor: $GUNZIP; floor+deflate adds: $GUNZIP NESTED_OUT | $DEFLATE"
echo "$RUNS runs per method, in turn; times are medians, peak RSS and temp disk the maximum over the runs."
echo "peak RSS of a pipeline (today's flow, floor) is its largest single process (GNU time), not the sum."
echo "temp disk: du -sb of the work directories and TMPDIR, the output ISO excluded, sampled every ${SAMPLE_INTERVAL} s."
echo
echo "targets (issue 9): emts-iso >= 10x faster than today's flow on the large input, <= 2x the floor; peak RSS < 300 MB"
for label in $INPUTS; do echo "  ${summary[$label]}"; done

# --- profile (optional) ----------------------------------------------------------------------------------------------
if [[ $PROFILE == 1 ]] && command -v perf >/dev/null; then
	for label in $INPUTS; do
		input=${!label}
		log "$label: perf record -g of emts-iso build"
		mkdir -p "$work/prof"
		perf record -q -g -o "$work/perf-$label.data" -- "$bin" build --kernel "$kernel" --initramfs "$input" \
			--packages "$packages" -o "$work/prof/out.iso" >/dev/null 2>"$work/perf-record.log" \
			|| { cat "$work/perf-record.log" >&2; log "perf record failed"; continue; }
		echo
		echo "perf profile of emts-iso build, $label input (share of all samples by library, then by thread):"
		perf report -i "$work/perf-$label.data" --no-children --sort dso --stdio 2>/dev/null \
			| awk '/^ +[0-9.]+%/ && n++ < 8' || true
		perf report -i "$work/perf-$label.data" --no-children --sort pid,comm -g none --stdio 2>/dev/null \
			| awk '/^ +[0-9.]+%/ && n++ < 6' || true
		rm -rf -- "$work/prof" "$work/perf-$label.data"
	done
fi

if [[ $INSTALL_WRITE == 1 ]]; then
	echo
	log "bench/install-write.sh (install-os's writer vs zcat | dd)"
	RUNS=$RUNS SCRATCH_PATH=$SCRATCH_PATH "$ROOT/bench/install-write.sh"
else
	echo "install-os's image write against zcat | dd: bench/install-write.sh (INSTALL_WRITE=1 runs it here)"
fi
