#!/usr/bin/env bash
# Installs what building and testing this project needs, and skips whatever is already there.
# Safe to run again and again: a second run only checks, which takes a few seconds.
# Needs no network but the package registries: crates.io, the npm registry and Debian's mirrors.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

say() { printf '[setup] %s\n' "$*"; }

# --- Rust: the WebAssembly target and the lint tools -------------------------------------------
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rust target wasm32-unknown-unknown: present"
else
  say "rust target wasm32-unknown-unknown: installing"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if rustup component list --installed | grep -q "^$component"; then
    say "rust component $component: present"
  else
    say "rust component $component: installing"
    rustup component add "$component"
  fi
done

# --- wasm-pack --------------------------------------------------------------------------------
if command -v wasm-pack >/dev/null 2>&1; then
  say "wasm-pack: present ($(wasm-pack --version))"
else
  say "wasm-pack: not found, building it from crates.io (takes a few minutes)"
  cargo install wasm-pack --locked
fi

# --- wasm-bindgen-cli at exactly the version in Cargo.lock -------------------------------------
# The CLI must match the wasm-bindgen library the crate links, to the patch version.
BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [ -z "$BINDGEN_VERSION" ]; then
  echo "[setup] could not read the wasm-bindgen version from Cargo.lock" >&2
  exit 1
fi
HAVE_BINDGEN="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
if [ "$HAVE_BINDGEN" = "$BINDGEN_VERSION" ]; then
  say "wasm-bindgen-cli $BINDGEN_VERSION: present"
else
  say "wasm-bindgen-cli $BINDGEN_VERSION: found '${HAVE_BINDGEN:-none}', building it from crates.io (takes a few minutes)"
  # Not --locked: one of the versions its lockfile pins is no longer on crates.io.
  cargo install wasm-bindgen-cli --version "$BINDGEN_VERSION" --force
fi

# --- Debian packages: Chromium and its WebDriver, for the browser tests ----------------------
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -eq 0 ]; then
  say "chromium, chromedriver: present"
else
  say "Debian packages ${missing[*]}: installing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- npm packages ----------------------------------------------------------------------------
# node_modules is current when it was installed from this very package.json and package-lock.json
# (a stamp holds their checksum) and still holds every locked package at its locked version.
npm_stamp() { cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1; }
STAMP=node_modules/.setup-stamp
npm_current() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(npm_stamp)" ] || return 1
  node - <<'JS'
const fs = require("fs");
const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
try {
  const want = read("package-lock.json").packages;
  const have = read("node_modules/.package-lock.json").packages;
  for (const [path, entry] of Object.entries(want)) {
    if (path === "" || entry.optional) continue;
    if (!have[path] || have[path].version !== entry.version) process.exit(1);
  }
} catch {
  process.exit(1);
}
JS
}
if npm_current; then
  say "npm packages: present"
elif [ -f package-lock.json ] && { say "npm packages: installing what package-lock.json lists (npm ci)"; npm ci --no-audit --no-fund; }; then
  npm_stamp > "$STAMP"
else
  say "npm packages: package-lock.json does not match package.json; npm install updates it"
  npm install --no-audit --no-fund
  npm_stamp > "$STAMP"
fi

# --- Python: JAX (CPU) in a project-local virtual environment, for the exported JAX files --------
source "$ROOT/.ci/python-env.sh"
ensure_venv
pip_install .ci/requirements-jax.txt "JAX $(sed -n 's/^jax\[cpu\]==//p' .ci/requirements-jax.txt), optax"

say "done"
