#!/usr/bin/env bash
# npm test: every check the project has, in order, stopping at the first failure.
# Prints a header per stage and, at the end, each stage's time.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

STAGES=()
TIMES=()
START=$SECONDS

summary() {
  local status=$1
  echo
  echo "================ summary ================"
  for i in "${!STAGES[@]}"; do
    printf '  %-34s %s\n' "${STAGES[$i]}" "${TIMES[$i]}"
  done
  printf '  %-34s %ss\n' "total" "$((SECONDS - START))"
  local failed=0
  [ "$status" -eq 0 ] || failed=1
  echo "stages: $((${#STAGES[@]} - failed)) passed, $failed failed"
}

stage() {
  local name=$1
  shift
  echo
  echo "================ $name ================"
  echo "\$ $*"
  local t0=$SECONDS
  "$@"
  local rc=$?
  STAGES+=("$name")
  if [ $rc -ne 0 ]; then
    TIMES+=("FAILED after $((SECONDS - t0))s")
    summary 1
    exit $rc
  fi
  TIMES+=("$((SECONDS - t0))s")
}

stage "setup (install what is missing)" bash .ci/setup.sh
stage "format (rustfmt)" cargo fmt --all -- --check
# --workspace: the root package (the wasm module and the tests), the core (crate/) and the
# kernels (crate/kernels/).
stage "lint native (clippy)" cargo clippy --workspace --all-targets -- -D warnings
# For wasm32: the library and the tests (tests/web.rs runs there). The benchmarks use criterion,
# a native-only dev-dependency (see Cargo.toml), so they are linted natively only.
stage "lint wasm32 (clippy)" cargo clippy --workspace --lib --tests --target wasm32-unknown-unknown -- -D warnings
# The lean module the page starts with: the same crate without the `extras` exports.
stage "lint wasm32 lean (clippy)" cargo clippy --workspace --lib --target wasm32-unknown-unknown --no-default-features -- -D warnings
stage "native tests (cargo test)" cargo test --workspace
stage "build wasm package" node .ci/build.mjs
# ESLint over the page, tests and scripts; tsc over every module of the page (tsconfig.json),
# with the built wasm package's .d.ts.
stage "lint and type-check JavaScript" npm run --silent lint
stage "build settings, notation, history, compute client and corpus engine tests" node --test tests/build_config.test.mjs tests/notation.test.mjs tests/history.test.mjs tests/client.test.mjs tests/corpus_engine.test.mjs
# 50,000 calls of every export and Model method with adversarial JS values (deep, shared, cyclic,
# Proxies, lone surrogates, …): none may trap the module. FUZZ_SEED=n replays a printed seed.
stage "wasm API fuzz (node)" node --test tests/fuzz_wasm.test.mjs
stage "wasm API fuzz, lean module (node)" env FUZZ_MODULE=lean node --test tests/fuzz_wasm.test.mjs
# The exported JAX files under real JAX (.venv, from setup.sh); PyTorch: npm run test:pytorch.
stage "Python export under JAX" node --test tests/pyexport.test.mjs
stage "browser tests (wasm-pack test)" node .ci/browser-test.mjs
if [ -d tests/e2e ]; then
  stage "page end-to-end tests" npm run test:e2e
else
  echo
  echo "(no tests/e2e/ yet: page end-to-end tests skipped)"
fi
summary 0
