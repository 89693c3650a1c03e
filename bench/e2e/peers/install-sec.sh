#!/bin/sh
# Installs SEC (Simple Event Correlator, Debian package `sec`, Perl) for bench/e2e's peer run.
# Run by e2e-bench when `sec` is not on the PATH; uses sudo when not root.
set -e
command -v sec >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y sec >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null 2>&1; $SUDO apt-get install -y sec >/dev/null; }
command -v sec >/dev/null
