#!/usr/bin/env bash
# Makes this machine ready for the README's commands, and says nothing when it already is.
#   scripts/setup-machine.sh run    the Debian packages the served pages and documents need
#   scripts/setup-machine.sh test   those, the ones the suite needs, and PostgreSQL + Redis running
# Debian packages are installed only when missing (as root, or through sudo when it is there).
set -euo pipefail
mode="${1:-test}"
# Setting up needs the real time; under faketime (CI's future-date run) its timed waits hang.
unset LD_PRELOAD FAKETIME

# fonts-wqy-zenhei: the contribution-record image draws Chinese with it (the PDFs need no font file).
packages=(fonts-wqy-zenhei)
if [ "$mode" = test ]; then
  # chromium: the browser tests (Playwright drives it by path, never downloading a browser);
  # poppler-utils: the tests render and read the PDFs, with poppler-data to map the PDFs' CID font
  # (STSong-Light) back to text; faketime: the future-date run in CI.
  packages+=(chromium poppler-utils poppler-data faketime)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "$mode" = test ]; then  # pg_isready and redis-cli, below, from whichever package has them
  command -v pg_isready >/dev/null || missing+=(postgresql-client)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
fi
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
  echo "setup: installing ${missing[*]}" >&2
  if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq &&
         "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
           --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "setup: could not install ${missing[*]}; install them with apt-get (as root)" >&2
    [ "$mode" = test ] && exit 1
  fi
fi

[ "$mode" = test ] || exit 0

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "setup: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "setup: starting Redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
