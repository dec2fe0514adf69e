#!/usr/bin/env bash
# Runs every cargo-fuzz target for the given number of seconds each, one after another, at the
# lowest CPU priority. Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   npm run fuzz -- 600              # 10 minutes per target
#   npm run fuzz -- 60 jwt_verify    # one target
#
# The checked-in corpus (fuzz/corpus/<target>) is the read-only seed; what the fuzzer finds is
# kept in fuzz/target/corpus/<target> (gitignored), crashes in fuzz/artifacts/<target>.
# Each target's libFuzzer log ends with its execution count: fuzz/target/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(authorization jwt_verify jwks_parse discovery_parse dpop_proof)
fi
mkdir -p target/logs
status=0
for t in "${targets[@]}"; do
  mkdir -p "target/corpus/$t"
  echo "== $t: ${seconds}s"
  if ! nice -n 19 cargo +nightly fuzz run "$t" "target/corpus/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -print_final_stats=1 -timeout=10 >"target/logs/$t.log" 2>&1; then
    echo "!! $t found a crash; see fuzz/target/logs/$t.log and fuzz/artifacts/$t/"
    status=1
  fi
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "target/logs/$t.log" || tail -5 "target/logs/$t.log"
done
exit $status
