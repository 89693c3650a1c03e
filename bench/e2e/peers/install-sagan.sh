#!/bin/sh
# Installs Sagan (Debian package `sagan` 1.2.0, C, Snort-like rules over syslog) for bench/e2e's
# peer run. Run by e2e-bench when `sagan` is not on the PATH; uses sudo when not root.
set -e
command -v sagan >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y sagan >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null 2>&1; $SUDO apt-get install -y sagan >/dev/null; }
command -v sagan >/dev/null
