#!/usr/bin/env bash
# Builds Berth's libFuzzer harnesses and runs them.
#
#   fuzz/run.sh [HARNESS|all] [SECONDS]   build, then fuzz each harness in turn (default: all, 60 s)
#   fuzz/run.sh build                     build only: .build/fuzz/<harness>
#   fuzz/run.sh merge [HARNESS|all]       add what fuzzing found to the committed corpus, keeping
#                                         only inputs that reach code it does not reach yet
#                                         (libFuzzer -merge=1, by edges, not hit counts)
#   fuzz/run.sh replay HARNESS FILE...    run inputs once, e.g. a crash-… file
#
# The harnesses are Tests/FuzzReplayTests/Harnesses/*.swift, one per folder of
# Tests/FuzzReplayTests/Corpus/; `swift test --filter FuzzReplay` runs the committed corpora
# through the same code. Fuzzing reads that corpus, writes what it finds to
# .build/fuzz/corpus/<harness>/ and crashes to .build/fuzz/artifacts/<harness>/. One fuzzer at a
# time, one process, at the lowest priority: other builds on the machine keep their CPU.
#
# How the binary is made, without touching the package's own build: the modules under test are
# compiled again from their sources with -sanitize=fuzzer,address (coverage and ASan for them
# only), under their own names and with -enable-testing, so the harnesses' `@testable import`
# works unchanged; BerthServer is only the parser files listed in SERVER_SOURCES (the whole
# module needs TLS and the app loader). Everything else (NIOCore, NIOHTTP1, NIOHPACK, BerthConfig,
# their C shims) is linked from the ordinary debug build, uninstrumented, through an archive, so
# the linker takes only the objects it needs. This script runs `swift build --target
# BerthServer` first, which is a no-op after a `swift build`.
#
# Environment: FUZZ_SANITIZERS (default fuzzer,address), FUZZ_FLAGS (more libFuzzer flags,
# e.g. "-max_len=512 -only_ascii=1"). A harness's dictionary, if any, is fuzz/<harness>.dict.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
HARNESSES=$ROOT/Tests/FuzzReplayTests/Harnesses
CORPUS=$ROOT/Tests/FuzzReplayTests/Corpus
# The parts of BerthServer the harnesses test, and what those files need.
SERVER_SOURCES=(HTTP1/HTTP1RequestParser.swift Exchange/RequestHeadCheck.swift Exchange/FieldSyntax.swift ConnectionLimits.swift HTTP1/RequestFields.swift
    HTTP2/HTTP2FrameDecoder.swift HTTP2/HTTP2Frames.swift HTTP2/HTTP2ConnectionState.swift HTTP2/HTTP2Stream.swift
    HTTP2/HTTP2FloodGuard.swift HTTP2/HTTP2PeerSettings.swift HTTP2/HTTP2RequestFields.swift HTTP2/HTTP2FrameWriter.swift
    HTTP2/HPACKResponseEncoder.swift)
SANITIZERS=${FUZZ_SANITIZERS:-fuzzer,address}

harness_names() {
    find "$CORPUS" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort
}

build() {
    echo "== swift build --target BerthServer (the modules linked as they are)"
    nice -n 10 swift build --target BerthServer
    local bin scratch out
    bin=$(swift build --show-bin-path)
    scratch=$(dirname "$(dirname "$bin")")
    out=$scratch/fuzz
    mkdir -p "$out/modules"

    # The C modules NIO and Berth import, as SwiftPM declares them to the compiler.
    local cflags=()
    local map include
    for map in "$bin"/*.build/module.modulemap "$scratch"/checkouts/*/Sources/*/include/module.modulemap; do
        [[ -f $map ]] && cflags+=(-Xcc "-fmodule-map-file=$map")
    done
    for include in "$ROOT"/Sources/*/include "$scratch"/checkouts/*/Sources/*/include; do
        [[ -d $include ]] && cflags+=(-Xcc -I -Xcc "$include")
    done
    # `package` declarations of BerthConfig are visible only under the name SwiftPM gave the
    # package (its folder's name, as an identifier).
    local package
    package=$(grep -o '"-module-name","BerthConfig".*' "$scratch/debug.yaml" 2>/dev/null |
        grep -o '"-package-name","[^"]*"' | head -n 1 | cut -d '"' -f 4 || true)
    [[ -n $package ]] || package=$(basename "$ROOT" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9_]/_/g; s/^[0-9]/_&/')
    # Modules compiled here come first, so they shadow the ordinary build's of the same name.
    # Nothing to do when no source, harness or linked object is newer than the binary.
    if [[ -x $out/berth-fuzz && -z $(find "$ROOT/Sources/BerthStatic" "$ROOT/Sources/BerthServer" "$HARNESSES" \
        "$ROOT/fuzz/Entry.swift" "$ROOT/fuzz/run.sh" "$bin"/*.build -newer "$out/berth-fuzz" \( -name '*.swift' -o -name '*.o' -o -name run.sh \) -print -quit) ]]; then
        echo "== $out/berth-fuzz is up to date"
        link_names "$out"
        return
    fi
    local swiftc=(nice -n 10 swiftc -swift-version 6 -O -g -DSWIFT_PACKAGE -package-name "$package"
        -sanitize="$SANITIZERS" -I "$out/modules" -I "$bin/Modules" "${cflags[@]}")

    echo "== compiling BerthStatic and the BerthServer parsers instrumented"
    "${swiftc[@]}" -module-name BerthStatic -parse-as-library -enable-testing -wmo \
        -emit-module -emit-module-path "$out/modules/BerthStatic.swiftmodule" \
        -c "$ROOT"/Sources/BerthStatic/*.swift -o "$out/BerthStatic.o"
    "${swiftc[@]}" -module-name BerthServer -parse-as-library -enable-testing -wmo \
        -emit-module -emit-module-path "$out/modules/BerthServer.swiftmodule" \
        -c "${SERVER_SOURCES[@]/#/$ROOT/Sources/BerthServer/}" -o "$out/BerthServer.o"

    echo "== compiling the harnesses"
    "${swiftc[@]}" -module-name BerthFuzz -parse-as-library -wmo \
        -c "$HARNESSES"/*.swift "$ROOT/fuzz/Entry.swift" -o "$out/BerthFuzz.o"

    echo "== linking"
    # Every object of the ordinary build but the modules compiled above, tests, build tools and
    # anything defining main (libFuzzer brings its own).
    local objects=() dir name
    for dir in "$bin"/*.build; do
        name=$(basename "$dir" .build)
        case $name in
            BerthStatic | BerthServer | *Tests | *-tool) continue ;;
        esac
        for object in "$dir"/*.o; do
            [[ -f $object ]] || continue
            nm -g --defined-only "$object" 2>/dev/null | grep -q ' T main$' || objects+=("$object")
        done
    done
    rm -f "$out/dependencies.a"
    printf '%s\0' "${objects[@]}" | xargs -0 ar qcs "$out/dependencies.a"
    nice -n 10 swiftc -sanitize="$SANITIZERS" -use-ld=lld \
        "$out/BerthFuzz.o" "$out/BerthServer.o" "$out/BerthStatic.o" "$out/dependencies.a" -o "$out/berth-fuzz"
    echo "== built $out/berth-fuzz"
    link_names "$out"
}

# The binary picks its harness by the name it was started as.
link_names() {
    OUT=$1
    for name in $(harness_names); do
        ln -sf berth-fuzz "$OUT/$name"
    done
}

fuzz() {
    local name=$1 seconds=$2 dict=()
    mkdir -p "$OUT/corpus/$name" "$OUT/artifacts/$name" "$OUT/logs/$name"
    [[ -f $ROOT/fuzz/$name.dict ]] && dict=(-dict="$ROOT/fuzz/$name.dict")
    echo "== fuzzing $name for $seconds s (log: $OUT/logs/$name/fuzz-0.log)"
    # -jobs runs the fuzzer in a child that logs to fuzz-0.log in the working directory.
    local status=0
    (cd "$OUT/logs/$name" && SWIFT_BACKTRACE=enable=no nice -n 19 "$OUT/$name" \
        -workers=1 -jobs=1 -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$name/" "${dict[@]}" ${FUZZ_FLAGS:-} \
        "$OUT/corpus/$name" "$CORPUS/$name") || status=$?
    grep -E '^#[0-9]+.*(DONE|pulse)|^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|ERROR|invariant|Fatal error|SUMMARY' \
        "$OUT/logs/$name/fuzz-0.log" | tail -n 12 || true
    if compgen -G "$OUT/artifacts/$name/crash-*" > /dev/null || [[ $status -ne 0 ]]; then
        echo "== $name FAILED; inputs in $OUT/artifacts/$name/, rerun with: fuzz/run.sh replay $name FILE"
        return 1
    fi
}

merge() {
    local name=$1
    echo "== merging new finds of $name into $CORPUS/$name"
    SWIFT_BACKTRACE=enable=no nice -n 19 "$OUT/$name" -merge=1 -use_counters=0 "$CORPUS/$name" "$OUT/corpus/$name" 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
}

selected() {
    if [[ ${1:-all} == all ]]; then harness_names; else echo "$1"; fi
}

command=${1:-all}
case $command in
    build)
        build
        ;;
    merge)
        build
        for name in $(selected "${2:-all}"); do merge "$name"; done
        ;;
    replay)
        [[ $# -ge 3 ]] || { echo "usage: fuzz/run.sh replay HARNESS FILE..." >&2; exit 2; }
        build
        name=$2
        shift 2
        SWIFT_BACKTRACE=enable=no "$OUT/$name" "$@"
        ;;
    *)
        seconds=${2:-60}
        build
        failed=0
        for name in $(selected "$command"); do
            [[ -d $CORPUS/$name ]] || { echo "no harness $name; harnesses: $(harness_names | tr '\n' ' ')" >&2; exit 2; }
            fuzz "$name" "$seconds" || failed=1
        done
        exit $failed
        ;;
esac
