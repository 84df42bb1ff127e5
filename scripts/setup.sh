#!/usr/bin/env bash
# Installs what pgcockpit needs on a fresh Debian machine, only what is missing, then builds:
#   - the Debian packages of the native lab (PostgreSQL 15, Patroni, etcd, HAProxy, Barman) and tmux
#     (the end-to-end tests drive the cockpit in a tmux pseudo-terminal);
#   - the npm dependencies, Node 24 among them (the `node` devDependency);
#   - dist/ (TypeScript compiled, and the CLI bundled into dist/bundle/, which bin/pgcockpit.js runs);
#   - a container engine for the compose stack (scripts/setup-containers.sh; not fatal when impossible).
# As root it installs Debian packages itself; otherwise it prints the apt-get line and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql-15 patroni etcd-server etcd-client haproxy barman barman-cli tmux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "  run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (Node 24 among them)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# dist/: tsc's output (tests, benches) and the bundled CLI bin/pgcockpit.js runs (npm run build: tsc, then esbuild).
PATH="$PWD/node_modules/.bin:$PATH" npm run --silent build

# The compose stack's suite (test/compose) needs a container engine: Podman serving the Docker API. A
# machine that cannot host containers still passes setup; that suite then says what is missing.
if ! bash scripts/setup-containers.sh; then
  echo "setup: this machine cannot host the compose stack (see the reason above); the compose tests will say what is missing" >&2
fi
