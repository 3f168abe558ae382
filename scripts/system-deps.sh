#!/usr/bin/env bash
# Installs (or names) what Parley needs from the operating system: a Chromium for the WhatsApp driver, Xvfb for
# screenshot runs (and xdotool for their real clicks), Qt's xcb libraries for a real window, PostgreSQL server
# binaries for the sync tests, and a real Secret Service (gnome-keyring on a private D-Bus) for the keyring tests.
# On Debian/Ubuntu as root it installs what is missing with apt-get; anywhere else it prints exactly what to install
# and fails, so a missing dependency is never discovered halfway through the test suite.
set -euo pipefail

debian_packages=(
  chromium xvfb xauth xdotool
  libxcb1 libx11-6 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0
  libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0 libgl1 libegl1 libfontconfig1 libfreetype6 libglib2.0-0
  libdbus-1-3 fonts-dejavu-core fonts-noto-core fonts-noto-color-emoji
  dbus-daemon gnome-keyring
  postgresql
)

have_pg() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${debian_packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    exit 0
  fi
  if [ "$(id -u)" -eq 0 ]; then
    echo "system-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
  fi
  echo "system-deps: missing Debian/Ubuntu packages. Install them with:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

# Not Debian: check the things themselves and name what is missing.
problems=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
  || command -v google-chrome >/dev/null 2>&1 || problems+=("Chromium or Google Chrome (the WhatsApp driver's browser)")
have_pg || problems+=("PostgreSQL >= 15 server binaries: initdb and pg_ctl on PATH (the sync tests)")
if [ "$(uname -s)" = "Linux" ]; then
  command -v Xvfb >/dev/null 2>&1 || problems+=("Xvfb (screenshot runs)")
  ldconfig -p 2>/dev/null | grep -q libxcb-cursor.so.0 || problems+=("libxcb-cursor0 and Qt's other xcb libraries")
fi
if [ ${#problems[@]} -gt 0 ]; then
  echo "system-deps: this machine lacks:" >&2
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  exit 1
fi
