#!/bin/sh
# Installs pySigma with its SQLite backend (PyPI) for bench/e2e's peer runs, and the Sysmon and
# Windows processing pipelines the full-rule-set run converts with (what Zircolite's "sysmon"
# ruleset is built with). The pipelines' metadata still pins pySigma < 2 although they work
# with pySigma 2 (checked with 2.0.1), so they go in with --no-deps: resolving their pin would
# downgrade pySigma below what the SQLite backend needs. They are optional: without them the
# full run converts without a pipeline and says so.
set -e
python3 -c "import sigma.backends.sqlite" 2>/dev/null || {
  python3 -m pip install -q pysigma-backend-sqlite >/dev/null 2>&1 || python3 -m pip install -q --user pysigma-backend-sqlite
  python3 -c "import sigma.backends.sqlite"
}
python3 -c "import sigma.pipelines.sysmon, sigma.pipelines.windows" 2>/dev/null && exit 0
python3 -m pip install -q --no-deps pysigma-pipeline-sysmon pysigma-pipeline-windows >/dev/null 2>&1 \
  || python3 -m pip install -q --no-deps --user pysigma-pipeline-sysmon pysigma-pipeline-windows >/dev/null 2>&1 \
  || echo "install-pysigma.sh: the Sysmon/Windows pipelines could not be installed; the full-rule-set run converts without them" >&2
exit 0
