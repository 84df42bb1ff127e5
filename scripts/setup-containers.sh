#!/usr/bin/env bash
# Prepares this machine to host the Docker Compose stack of compose/ without a Docker engine:
# Podman serves the Docker Engine API on a unix socket, Debian's docker-compose (v1) drives it.
# Idempotent: every step checks first and does only what is missing.
#   1. Debian packages: podman crun runc slirp4netns uidmap fuse-overlayfs debootstrap docker-compose;
#   2. /etc/containers/containers.conf: ulimits this sandbox accepts, runc (crun refuses a mixed
#      cgroup v1/v2 layout);
#   3. the base image debian:bookworm-slim, built with debootstrap from the mirror apt uses (no
#      container registry is reachable), so `FROM debian:bookworm-slim` builds without a pull;
#   4. `podman system service` on unix:///run/podman/podman.sock (the Docker API), if not serving.
# Exits non-zero with the reason on the last line when the machine cannot host containers;
# scripts/setup.sh treats that as "the compose tests will say what is missing", not as a failure.
set -euo pipefail

socket=/run/podman/podman.sock
log_dir=/var/log/pgcockpit
say() { echo "setup-containers: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "not root: cannot install packages nor start the Podman service (run: sudo bash $0)"
  exit 1
fi

packages=(podman crun runc slirp4netns uidmap fuse-overlayfs debootstrap docker-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

conf=/etc/containers/containers.conf
want='[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"'
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
  say "writing $conf (ulimits this sandbox accepts, runtime runc)"
  mkdir -p /etc/containers
  [ -f "$conf" ] && cp "$conf" "$conf.pgcockpit-backup"
  printf '%s\n' "$want" > "$conf"
fi

# The Debian mirror apt is configured with (deb822 sources first, then the one-line format).
apt_mirror() {
  local m=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

if ! podman image exists debian:bookworm-slim; then
  mirror=$(apt_mirror)
  root=$(mktemp -d /var/tmp/pgcockpit-bookworm.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  say "building the base image debian:bookworm-slim with debootstrap from $mirror (about 40 s)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import - debian:bookworm-slim >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

serving() {
  [ -S "$socket" ] && curl -fsS --max-time 5 --unix-socket "$socket" http://d/_ping >/dev/null 2>&1
}
if ! serving; then
  say "starting the Docker API: podman system service on unix://$socket (log: $log_dir/podman-service.log)"
  mkdir -p "$(dirname "$socket")" "$log_dir"
  rm -f "$socket"
  setsid nohup podman system service --time=0 "unix://$socket" >>"$log_dir/podman-service.log" 2>&1 < /dev/null &
  for _ in $(seq 1 100); do serving && break; sleep 0.1; done
  if ! serving; then
    say "podman system service did not answer on $socket; see $log_dir/podman-service.log"
    exit 1
  fi
fi
say "ready: DOCKER_HOST=unix://$socket ($(podman --version), $(docker-compose version --short 2>/dev/null || echo docker-compose))"
