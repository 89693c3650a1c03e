#!/bin/sh
# Installs pySigma with its SQLite backend (PyPI) for bench/e2e's peer run.
set -e
python3 -c "import sigma.backends.sqlite" 2>/dev/null && exit 0
python3 -m pip install -q pysigma-backend-sqlite >/dev/null 2>&1 || python3 -m pip install -q --user pysigma-backend-sqlite
python3 -c "import sigma.backends.sqlite"
