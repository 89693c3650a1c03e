#!/usr/bin/env bash
# Installs the Debian packages Vigil builds, runs and tests with. Idempotent: packages already
# present are not fetched again, and `apt-get update` runs only when something is missing.
set -euo pipefail
packages=(
  libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev sqlite3
  protobuf-compiler python3 python3-zmq python3-protobuf python3-yaml
  libcurl4-openssl-dev libyaml-dev libsystemd-dev systemd-journal-remote libedit-dev tmux python3-aiosmtpd
  slapd ldap-utils libldap2-dev openssl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "system packages present: ${packages[*]}"
