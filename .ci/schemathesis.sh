#!/usr/bin/env bash
# schemathesis (PyPI) against the OpenAPI document of a running demo:
#   .ci/schemathesis.sh http://127.0.0.1:<port>
# Installs schemathesis with pip if it is missing, then runs
# .ci/schemathesis.py: real ids and tokens from the demo, one run with the
# staff (and applicant) tokens and one without, every check; any failure and
# any schemathesis warning fails. Bounded by SCHEMATHESIS_MAX_EXAMPLES
# (examples per operation and phase, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_URL="${1:?usage: .ci/schemathesis.sh BASE_URL}"
# The version the checks were written against (newer ones may add checks).
ST_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
if ! python3 -c "import schemathesis" 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
python3 -c "import importlib.metadata as m; print('schemathesis', m.version('schemathesis'))"
exec python3 .ci/schemathesis.py "$BASE_URL"
