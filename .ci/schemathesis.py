#!/usr/bin/env python3
"""schemathesis against the running demo: every operation of /api/openapi.json,
with valid and invalid input, with the tokens that may call it and without.

    python3 .ci/schemathesis.py http://127.0.0.1:<port>

1. Prepares real data: staff tokens (Redaktion, Sachbearbeitung), an
   application submitted through the API (its reference, access token and a
   file of an answer), the ids of services, forms, org units and cases.
2. Writes a schemathesis config per run: the real ids as dictionaries that the
   path parameters draw from most of the time (the rest is generated, so
   unknown ids are tried too), the token of the role each operation needs as
   its Authorization header (the staff run), or no token at all (the
   anonymous run). `DELETE /auth/token` gets a throwaway token of its own.
3. Runs `st run --checks all` (not_a_server_error, status_code_conformance,
   content_type_conformance, response_schema_conformance,
   negative_data_rejection, positive_data_acceptance, ...), every schemathesis
   warning made an error (`warnings.fail-on`).
4. Prints per operation how many cases were sent and which statuses came back,
   and fails if schemathesis failed, warned, or an operation was not reached
   with a 2xx answer in the staff run (or not at all).

Bounded: SCHEMATHESIS_MAX_EXAMPLES (default 25) examples per operation and
phase; SCHEMATHESIS_WORKERS (default 2).
"""

import base64
import collections
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/")
API = BASE + "/api/v1"
PASSWORD = "demo"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
WORKERS = os.environ.get("SCHEMATHESIS_WORKERS", "2")
# A PDF the content check accepts (the answer's file).
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def call(method, path, body=None, token=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(API + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    if status not in expect:
        sys.exit(f"preparing schemathesis: {method} {path} answered {status}: {text[:500]!r}")
    return json.loads(text) if text else None


def token(email):
    return call("POST", "/auth/token", {"email": email, "password": PASSWORD, "name": "schemathesis"})["token"]


def toml_str(s):
    return json.dumps(s)


def toml_list(values):
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def prepare():
    editor = token("redaktion@musterstadt.example")
    clerk = token("sachbearbeitung@musterstadt.example")
    revoke = token("admin@musterstadt.example")
    forms = call("GET", "/forms")["forms"]
    form_ids = [f["id"] for f in forms] + [f["key"] for f in forms]
    hund = next((f for f in forms if f["key"].startswith("hundesteuer")), None)
    if hund is None:
        sys.exit("preparing schemathesis: the demo has no Hundesteuer form")
    data = {
        "vorname": "Erika", "familienname": "Mustermann", "geburtsdatum": "1980-05-17",
        "anschrift": {"strasse": "Hauptstraße", "hausnummer": "1", "plz": "12345", "ort": "Musterstadt"},
        "hunde": [{"name": "Bello", "rasse": "mischling", "wurfdatum": "2021-03-01", "haltung_seit": "2021-06-01"}],
        "ermaessigung": False, "lastschrift": False, "richtigkeit": True,
    }
    # Three applications: one the applicant answers, two for the clerk's steps.
    received = [call("POST", "/applications", {"form": hund["key"], "data": data}) for _ in range(3)]
    reference = received[0]["reference"]
    access = received[0]["access_token"]
    inbox = call("GET", "/cases?limit=200", token=clerk)["cases"]
    cases = [c for c in inbox if c["reference"] in {r["reference"] for r in received}]
    if len(cases) != 3:
        sys.exit(f"preparing schemathesis: the clerk does not see the new cases ({inbox!r})")
    case_of = {c["reference"]: c["id"] for c in cases}
    first = case_of[reference]
    call("POST", f"/cases/{first}/claim", {}, token=clerk)
    call("POST", f"/cases/{first}/messages",
         {"body": "Bitte den Impfpass.", "requested_documents": ["Impfpass"]}, token=clerk)
    call("POST", f"/applications/{reference}/messages",
         {"body": "Anbei.", "files": [{"name": "impfpass.pdf", "content": base64.b64encode(PDF).decode()}]},
         token=access)
    application = call("GET", f"/applications/{reference}", token=access)
    files = [f["id"] for f in application["files"]]
    files += [f["id"] for m in application["messages"] for f in m["files"]]
    if not files:
        sys.exit("preparing schemathesis: the answer's file is missing")
    units = call("GET", "/org-units", token=clerk)["items"]
    services = call("GET", "/services")["items"]
    return {
        "tokens": {"editor": editor, "clerk": clerk, "applicant": access, "revoke": revoke},
        "dictionaries": {
            "service_ids": [s["id"] for s in services],
            "form_ids": form_ids,
            "case_ids": [c["id"] for c in cases],
            "org_unit_ids": [u["id"] for u in units],
            "references": [r["reference"] for r in received],
            "file_ids": files,
            "form_keys": [hund["key"]],
            "service_slugs": [s["slug"] for s in services],
        },
    }


# Which real ids a path parameter draws from, and whose token an operation needs.
PATH_PARAMS = [
    ("^/api/v1/services/\\{id\\}", "path.id", "service_ids"),
    ("^/api/v1/forms/\\{id\\}", "path.id", "form_ids"),
    ("^/api/v1/cases/\\{id\\}", "path.id", "case_ids"),
    ("^/api/v1/org-units/\\{id\\}", "path.id", "org_unit_ids"),
    ("^/api/v1/applications/\\{reference\\}", "path.reference", "references"),
    ("^/api/v1/applications/\\{reference\\}/files/\\{file\\}$", "path.file", "file_ids"),
]
ROLE = [
    ("^/api/v1/(services|forms|catalog)", "editor"),
    ("^/api/v1/(cases|org-units|me)", "clerk"),
    ("^/api/v1/applications/\\{reference\\}/(messages|files)", "applicant"),
    ("^/api/v1/applications/\\{reference\\}$", "clerk"),
]
# Where the schema cannot say all the server checks: a body valid by the
# document may still be refused with 422 naming the field (semantics beyond
# the schema: a form definition's lint, a service's Leika key and its org unit
# by name, form data checked against the form's own rules, FIM XML).
SEMANTIC_422 = [
    ("^/api/v1/services(/\\{id\\})?$", "POST|PUT"),
    ("^/api/v1/forms(/\\{id\\})?$", "POST|PUT"),
    ("^/api/v1/forms/import$", "POST"),
    ("^/api/v1/forms/\\{id\\}/validate$", "POST"),
    ("^/api/v1/applications$", "POST"),
    ("^/api/v1/catalog/import$", "POST"),
]


def config(prep, staff, report):
    d = prep["dictionaries"]
    t = prep["tokens"]
    out = [
        f"workers = {WORKERS if WORKERS == 'auto' else int(WORKERS)}",
        "seed = 20261130",
        "[warnings]",
        "fail-on = true",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        "[reports.ndjson]",
        "enabled = true",
        f"path = {toml_str(report)}",
    ]
    for name, values in d.items():
        out += [f"[dictionaries.{name}]", f"values = {toml_list(values)}"]
    for regex, param, dictionary in PATH_PARAMS:
        out += [
            "[[operations]]",
            f"include-path-regex = {toml_str(regex)}",
            f'parameters = {{ "{param}" = {{ dictionary = "{dictionary}", probability = 0.8 }} }}',
        ]
    # Body fields that name other records.
    out += [
        "[[operations]]",
        'include-path-regex = "^/api/v1/applications$"',
        'parameters = { "body.form" = { dictionary = "form_keys", probability = 0.8 } }',
        "[[operations]]",
        'include-path-regex = "^/api/v1/cases/\\\\{id\\\\}/forward$"',
        'parameters = { "body.org_unit" = { dictionary = "org_unit_ids", probability = 0.8 } }',
        "[[operations]]",
        'include-path-regex = "^/api/v1/forms/\\\\{id\\\\}/attach$"',
        'parameters = { "body.service" = { dictionary = "service_slugs", probability = 0.8 } }',
    ]
    for regex, methods in SEMANTIC_422:
        out += [
            "[[operations]]",
            f"include-path-regex = {toml_str(regex)}",
            f"include-method-regex = {toml_str('^(' + methods + ')$')}",
            "checks.positive_data_acceptance.expected-statuses = "
            '["2xx", "401", "403", "404", "409", "422", "429"]',
        ]
    if staff:
        for regex, role in ROLE:
            out += [
                "[[operations]]",
                f"include-path-regex = {toml_str(regex)}",
                f'headers = {{ Authorization = {toml_str("Bearer " + t[role])} }}',
            ]
        out += [
            "[[operations]]",
            'include-path = "/api/v1/auth/token"',
            'include-method = "DELETE"',
            f'headers = {{ Authorization = {toml_str("Bearer " + t["revoke"])} }}',
        ]
    return "\n".join(out) + "\n"


def run(label, prep, staff, tmp):
    report = os.path.join(tmp, f"{label}.ndjson")
    path = os.path.join(tmp, f"{label}.toml")
    with open(path, "w") as f:
        f.write(config(prep, staff, report))
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", path, "run",
        BASE + "/api/openapi.json", "--checks", "all", "--url", BASE,
    ]
    print(f"--- schemathesis ({label}): {' '.join(cmd[2:])}", flush=True)
    rc = subprocess.call(cmd)
    return rc, coverage(report)


def coverage(report):
    """Per operation: cases sent and statuses answered, from the ndjson events."""
    seen = collections.defaultdict(collections.Counter)
    if not os.path.exists(report):
        return seen

    def walk(node, label=None):
        if isinstance(node, dict):
            label = node.get("label", label) if isinstance(node.get("label"), str) else label
            resp = node.get("response")
            if isinstance(resp, dict) and isinstance(resp.get("status_code"), int) and label:
                seen[label][resp["status_code"]] += 1
            for k, v in node.items():
                if k != "response":
                    walk(v, label)
        elif isinstance(node, list):
            for v in node:
                walk(v, label)

    with open(report) as f:
        for line in f:
            try:
                walk(json.loads(line))
            except json.JSONDecodeError:
                pass
    return seen


def main():
    doc = json.load(urllib.request.urlopen(BASE + "/api/openapi.json"))
    operations = [f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item]
    prep = prepare()
    with tempfile.TemporaryDirectory() as tmp:
        staff_rc, staff_cov = run("staff", prep, True, tmp)
        anon_rc, anon_cov = run("anonymous", prep, False, tmp)
    problems = []
    print("\n--- per-operation coverage: cases sent (statuses), staff run | anonymous run")
    for op in operations:
        s, a = staff_cov.get(op, collections.Counter()), anon_cov.get(op, collections.Counter())
        fmt = lambda c: f"{sum(c.values()):4d} ({', '.join(f'{k}×{v}' for k, v in sorted(c.items()))})"
        print(f"{op:55s} {fmt(s)} | {fmt(a)}")
        if not any(200 <= k < 300 for k in s):
            problems.append(f"{op}: no 2xx answer in the staff run")
        if not a:
            problems.append(f"{op}: not reached in the anonymous run")
    if staff_rc or anon_rc:
        problems.append(f"schemathesis failed or warned (staff run: {staff_rc}, anonymous run: {anon_rc})")
    if problems:
        print("\nschemathesis: FAILED\n  " + "\n  ".join(problems))
        sys.exit(1)
    print(f"\nschemathesis: all {len(operations)} operations reached, no failures, no warnings")


if __name__ == "__main__":
    main()
