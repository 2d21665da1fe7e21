#!/bin/bash
# Builds the libFuzzer targets and runs each for a while on a copy of its seed corpus.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     SECONDS per target (default 600); all targets unless named
#
# Environment: FUZZ_JOBS (targets run at once, default 2: one per core), FUZZ_SANITIZERS (default
# "fuzzer address": AddressSanitizer finds memory errors and leaks; "fuzzer" alone runs faster),
# FUZZ_CONFIG (release, falling back to debug when release does not build), FUZZ_ARGS (more libFuzzer flags).
#
# Findings (crash-*, leak-*, timeout-*, oom-*, slow-unit-*) go to fuzz/findings/<target>/; the growing corpus
# and the logs to fuzz/work/ (both ignored by git). Prints a table and exits 1 if a target found anything.
# Replay a finding: .build-fuzz/release/<target> fuzz/findings/<target>/crash-...
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
main=$(dirname "$here")
targets_all=(FuzzInitramfs FuzzRootfsArchive FuzzRPM FuzzDeb FuzzISO FuzzInstallerYAML FuzzLegacyConfig)

seconds=600
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${targets_all[@]}")
for target in "${targets[@]}"; do
    [[ " ${targets_all[*]} " == *" $target "* ]] || { echo "run.sh: unknown target $target (known: ${targets_all[*]})" >&2; exit 2; }
done
jobs_max=${FUZZ_JOBS:-2}
sanitizers=${FUZZ_SANITIZERS:-fuzzer address}
config=${FUZZ_CONFIG:-release}
scratch=$main/.build-fuzz

# --- Tools: nothing is installed here, only checked.
[[ -x /opt/swift/usr/bin/swift ]] && ! command -v swift >/dev/null && export PATH=/opt/swift/usr/bin:$PATH
missing=0
need() {
    command -v "$1" >/dev/null && return
    echo "run.sh: $1 not found: $2" >&2
    missing=1
}
need swift "a Swift 6.2+ toolchain from swift.org (its clang runtime carries libFuzzer); put its usr/bin on PATH"
need awk "apt-get install gawk (or mawk)"
need nice "coreutils"
swift_root=$(dirname "$(dirname "$(command -v swift 2>/dev/null || echo /x/x/x)")")
if ! ls "$swift_root"/lib/clang/*/lib/*/libclang_rt.fuzzer*.a "$swift_root"/lib/swift/clang/lib/*/libclang_rt.fuzzer*.a \
        >/dev/null 2>&1 && ! ls "$swift_root"/lib/swift/linux/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
    echo "run.sh: no libclang_rt.fuzzer in the toolchain at $swift_root: use a swift.org Linux toolchain" >&2
    missing=1
fi
for lib in libarchive libisofs-1 blkid libparted liblzma libxcrypt libselinux; do
    pkg-config --exists "$lib" 2>/dev/null || { echo "run.sh: pkg-config $lib missing: scripts/bootstrap installs the -dev packages" >&2; missing=1; }
done
[[ $missing -eq 0 ]] || exit 2
symbolizer=$(command -v llvm-symbolizer || ls "$swift_root"/bin/llvm-symbolizer 2>/dev/null || true)

# --- Build (the main package's Package.resolved pins the dependencies).
[[ -f $here/Package.resolved || ! -f $main/Package.resolved ]] || cp "$main/Package.resolved" "$here/Package.resolved"
# `--sanitize fuzzer --sanitize address` would reach swiftc as two -sanitize= flags, and the last one wins:
# no coverage instrumentation. So SwiftPM gets `--sanitize fuzzer` (libFuzzer linked, C code instrumented)
# and every Swift compile and the link one combined flag.
[[ " $sanitizers " == *" fuzzer "* ]] || sanitizers="fuzzer $sanitizers"
flags=(--sanitize fuzzer)
[[ $sanitizers != fuzzer ]] && flags+=(-Xswiftc "-sanitize=$(tr -s ' ' ',' <<<"$sanitizers")")
build() {
    echo "run.sh: building the fuzz targets ($1, sanitizers: $sanitizers)" >&2
    nice -n 10 swift build -c "$1" "${flags[@]}" --package-path "$here" --scratch-path "$scratch" >&2
}
if ! build "$config"; then
    [[ $config == debug ]] && { echo "run.sh: build failed" >&2; exit 2; }
    echo "run.sh: the $config build failed; trying debug" >&2
    config=debug
    build debug || { echo "run.sh: build failed" >&2; exit 2; }
fi
bin=$(swift build -c "$config" "${flags[@]}" --package-path "$here" --scratch-path "$scratch" --show-bin-path)

# --- Run.
export SWIFT_BACKTRACE=enable=no   # else the Swift runtime handles the crash and libFuzzer saves nothing
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:suppressions=$here/asan.supp}
[[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer
work=$here/work
results=$work/results
mkdir -p "$results"
shm=/dev/shm
[[ -d $shm && -w $shm ]] || shm=$work

# One target: libFuzzer stops at its first finding, so it is restarted until the time is used up (at most 20
# runs: an input that fails at once would only repeat itself).
run_target() {
    local target=$1 dir=$work/$1 findings=$here/findings/$1
    local tmp=$shm/emts-fuzz-run-$$-$1
    rm -rf "$dir" "$tmp"
    mkdir -p "$dir/corpus" "$findings" "$tmp"
    cp -r "$here/corpus/$target/." "$dir/corpus/"
    local dict=() marker=$dir/started
    [[ -f $here/dict/$target.dict ]] && dict=(-dict="$here/dict/$target.dict")
    touch "$marker"
    local start=$SECONDS executions=0 runs=0 remaining=$seconds
    while (( remaining > 0 && runs < 20 )); do
        runs=$((runs + 1))
        TMPDIR=$tmp nice -n 10 "$bin/$target" "$dir/corpus" "${dict[@]}" -max_total_time="$remaining" -timeout=10 \
            -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 ${FUZZ_ARGS:-} \
            >"$dir/run-$runs.log" 2>&1
        local rc=$? units
        units=$(awk '/^stat::number_of_executed_units:/ { n = $NF } END { print n + 0 }' "$dir/run-$runs.log")
        executions=$((executions + units))
        remaining=$((seconds - (SECONDS - start)))
        [[ $rc -eq 0 ]] && break
        grep -q -E '^(==[0-9]+==ERROR|INFO: libFuzzer|SUMMARY|Test unit written)' "$dir/run-$runs.log" ||
            { echo "run.sh: $target exited $rc without a finding; see $dir/run-$runs.log" >&2; break; }
    done
    local elapsed=$((SECONDS - start))
    local found corpus_files
    found=$(find "$findings" -type f -newer "$marker" | wc -l)
    corpus_files=$(find "$dir/corpus" -type f | wc -l)
    rm -rf "$tmp"
    printf '%s %s %s %s %s %s\n' "$target" "$elapsed" "$executions" "$(( elapsed > 0 ? executions / elapsed : executions ))" \
        "$corpus_files" "$found" >"$results/$target"
    echo "run.sh: $target done: $executions executions in ${elapsed}s, $found finding(s)" >&2
}

rm -f "$results"/*
echo "run.sh: ${#targets[@]} target(s), ${seconds}s each, $jobs_max at a time; logs in $work/<target>/" >&2
for target in "${targets[@]}"; do
    while (( $(jobs -rp | wc -l) >= jobs_max )); do wait -n; done
    run_target "$target" &
done
wait

printf '\n%-20s %8s %12s %8s %8s %9s\n' target seconds executions exec/s corpus findings
total=0
for target in "${targets[@]}"; do
    if [[ -f $results/$target ]]; then
        read -r name elapsed executions rate corpus found <"$results/$target"
        printf '%-20s %8s %12s %8s %8s %9s\n' "$name" "$elapsed" "$executions" "$rate" "$corpus" "$found"
        total=$((total + found))
    else
        printf '%-20s %8s %12s %8s %8s %9s\n' "$target" - - - - "error"
        total=$((total + 1))
    fi
done
if (( total > 0 )); then
    echo "run.sh: findings in $here/findings/ (replay: $bin/<target> <file>)" >&2
    exit 1
fi
