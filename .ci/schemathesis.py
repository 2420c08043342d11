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

Bounded: SCHEMATHESIS_MAX_EXAMPLES (default 10) examples per operation and
phase; SCHEMATHESIS_WORKERS (default 1).
"""

import base64
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/")
API = BASE + "/api/v1"
PASSWORD = "demo"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))
# One worker: hypothesis under CPython 3.11 fails now and then with "AST
# constructor recursion depth mismatch" when several threads generate at once.
WORKERS = os.environ.get("SCHEMATHESIS_WORKERS", "1")
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


def call_xml(path, xml, token, expect=(200,)):
    req = urllib.request.Request(API + path, data=xml.encode(), method="POST")
    req.add_header("Content-Type", "application/xml")
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    if status not in expect:
        sys.exit(f"preparing schemathesis: POST {path} answered {status}: {text[:500]!r}")
    return json.loads(text) if text else None


def get_raw(path, token):
    req = urllib.request.Request(API + path)
    req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return r.read()


def call_raw(path, data, token, expect=(200, 201), content_type="application/octet-stream"):
    req = urllib.request.Request(API + path, data=data, method="POST")
    req.add_header("Content-Type", content_type)
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    if status not in expect:
        sys.exit(f"preparing schemathesis: POST {path} answered {status}: {text[:500]!r}")
    return json.loads(text) if text else None


def archive_message(process, code, name, body):
    """A message of the archive (xdomea 3.0.0), as the Landesarchiv sends it."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<xdomea:{name}.{code} xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0"><xdomea:Kopf>'
        f'<xdomea:ProzessID>{process}</xdomea:ProzessID>'
        '<xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0">'
        f'<code>{code}</code><name>{name}</name></xdomea:Nachrichtentyp>'
        '<xdomea:Erstellungszeitpunkt>2100-01-02T10:00:00Z</xdomea:Erstellungszeitpunkt>'
        '<xdomea:Absender><xdomea:Institution><xdomea:Name>Stadtarchiv</xdomea:Name></xdomea:Institution></xdomea:Absender>'
        '<xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Stadt Musterstadt</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>'
        '<xdomea:SendendesSystem><xdomea:InstanzID>2f1ee0f2-61c7-4c29-9f3a-6c1c1a0e33b1</xdomea:InstanzID>'
        '<xdomea:Produktname>Archiv</xdomea:Produktname><xdomea:Version>1</xdomea:Version></xdomea:SendendesSystem>'
        + ('<xdomea:Empfangsbestaetigung>0</xdomea:Empfangsbestaetigung>' if code == "0502" else '')
        + '</xdomea:Kopf>'
        f'{body}</xdomea:{name}.{code}>'
    )


def evaluation_0502(process, ids):
    body = "".join(
        f'<xdomea:BewertetesObjekt><xdomea:ID>{i}</xdomea:ID><xdomea:Aussonderungsart>'
        '<xdomea:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" listVersionID="1.0">'
        '<code>A</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart></xdomea:BewertetesObjekt>'
        for i in ids)
    return archive_message(process, "0502", "Aussonderung.Bewertungsverzeichnis", body)


def import_0506(process, ids):
    body = "".join(
        f'<xdomea:AusgesondertesSGO><xdomea:IDSGO>{i}</xdomea:IDSGO><xdomea:Erfolgreich>1</xdomea:Erfolgreich>'
        '<xdomea:Archivkennung>StA 1</xdomea:Archivkennung></xdomea:AusgesondertesSGO>'
        for i in ids)
    return archive_message(process, "0506", "Aussonderung.AussonderungImportBestaetigen", body)


def prepare_records(clerk, admin, hund, data):
    """Hand-overs in each state the records operations need: evaluated (0503),
    confirmed (destruction request), destruction requested (approval by a
    second admin), a closed file still due (a new hand-over), and an open
    Vorgang for the legal hold."""
    import time

    def closed_record(cancel=True):
        ref = call("POST", "/applications", {"form": hund["key"], "data": data})["reference"]
        case = call("GET", f"/applications/{ref}", token=clerk)["case"]
        if cancel:
            call("POST", f"/cases/{case}/status", {"action": "cancel"}, token=clerk)
        for _ in range(120):
            rec = call("GET", f"/cases/{case}/record", token=admin)
            if not cancel or rec["status"] == "closed":
                return case, rec["id"]
            time.sleep(0.5)
        sys.exit(f"preparing schemathesis: the Vorgang of case {case} was not closed by the filing job")

    def disposal_with_one_file():
        _, rec = closed_record()
        d = call("POST", "/records/disposals", {"as_of": "2100-01-01"}, token=admin, expect=(201,))
        ids = [i["record"]["id"] for i in d["items"]]
        if rec not in ids:
            sys.exit(f"preparing schemathesis: the closed Vorgang {rec} is not in the hand-over {d!r}")
        return d["id"], ids

    evaluated, ids = disposal_with_one_file()
    call_xml(f"/records/disposals/{evaluated}/0502", evaluation_0502(evaluated, ids), admin)
    confirmed, ids = disposal_with_one_file()
    call_xml(f"/records/disposals/{confirmed}/0502", evaluation_0502(confirmed, ids), admin)
    get_raw(f"/records/disposals/{confirmed}/0503", admin)
    call_xml(f"/records/disposals/{confirmed}/receipt", import_0506(confirmed, ids), admin)
    requested, ids = disposal_with_one_file()
    call_xml(f"/records/disposals/{requested}/0502", evaluation_0502(requested, ids), admin)
    get_raw(f"/records/disposals/{requested}/0503", admin)
    call_xml(f"/records/disposals/{requested}/receipt", import_0506(requested, ids), admin)
    call("POST", f"/records/disposals/{requested}/destruction", {}, token=admin)
    # Due and not yet offered: POST /records/disposals has something to start.
    closed_record()
    # An open Vorgang for the legal hold (holds keep nothing else from its 2xx).
    hold_case, hold_record = closed_record(cancel=False)
    return {
        "evaluated_disposal_ids": [evaluated],
        "confirmed_disposal_ids": [confirmed],
        "requested_disposal_ids": [requested],
        "disposal_ids": [evaluated, confirmed, requested],
        "hold_record_ids": [hold_record],
        "as_of_dates": ["2100-01-01"],
    }


def prepare_records_work(clerk, admin, admin2, hund, data):
    """Data for the e-file at work: open Vorgänge with filed (and sealed)
    documents, two Vorgänge a document moves between, plan changes to approve
    and to reject, Umlaufmappen where the admin's step is current, in-tray
    items to read, file and discard, routing rules to delete."""
    import time

    def open_record():
        ref = call("POST", "/applications", {"form": hund["key"], "data": data})["reference"]
        case = call("GET", f"/applications/{ref}", token=clerk)["case"]
        for _ in range(120):
            rec = call("GET", f"/cases/{case}/record", token=admin)
            if rec.get("id"):
                return rec["id"]
            time.sleep(0.5)
        sys.exit(f"preparing schemathesis: case {case} has no Vorgang")

    work = [open_record() for _ in range(2)]
    move_a, move_b = open_record(), open_record()
    text = "Stellungnahme zur Hundesteuer: keine Bedenken.\n".encode()
    docs = [call_raw(f"/records/{work[0]}/documents?title=Stellungnahme&name=s.txt", text, admin)["id"]
            for _ in range(2)]
    moving = call_raw(f"/records/{move_a}/documents?title=Umzug&name=u.txt", text, admin)["id"]
    # The seal follows in the job records.process.
    for _ in range(120):
        try:
            get_raw(f"/records/documents/{docs[0]}/seal", admin)
            break
        except urllib.error.HTTPError:
            time.sleep(0.5)
    else:
        sys.exit("preparing schemathesis: the filed document was not sealed")
    change = {"action": "set_file_number_scheme", "scheme": "{plan}-{reference}"}
    approve = [call("POST", "/records/plan/changes", change, token=admin, expect=(201,))["id"] for _ in range(4)]
    reject = [call("POST", "/records/plan/changes", change, token=admin, expect=(201,))["id"] for _ in range(4)]
    admin_id = call("GET", "/me", token=admin)["id"]
    clerk_id = call("GET", "/me", token=clerk)["id"]

    def circulation():
        return call("POST", f"/records/{work[1]}/circulations",
                    {"title": "Zur Kenntnis", "people": [admin_id, clerk_id]}, token=admin, expect=(201,))["id"]

    sign = [circulation() for _ in range(4)]
    give_back = [circulation() for _ in range(4)]
    cancel = [circulation() for _ in range(4)]
    mail = "Sehr geehrte Damen und Herren, anbei die Unterlagen zur Hundesteuer.\n".encode()
    intray = [call_raw("/intray?name=brief.txt", mail, admin)["id"] for _ in range(2)]
    to_file = [call_raw("/intray?name=brief.txt", mail, admin)["id"] for _ in range(4)]
    to_discard = [call_raw("/intray?name=brief.txt", mail, admin)["id"] for _ in range(4)]
    rules = [call("POST", "/intray/rules", {"name": f"Regel {i}", "keywords": ["Hund"],
                                            "target": {"kind": "plan_node", "code": "32.10.05"}},
                  token=admin, expect=(201,))["id"] for i in range(4)]
    return {
        "work_record_ids": work,
        "document_ids": docs,
        "move_document_ids": [moving],
        "move_record_ids": [move_a, move_b],
        "approve_change_ids": approve,
        "reject_change_ids": reject,
        "circulation_ids": sign + give_back + cancel,
        "sign_circulation_ids": sign,
        "return_circulation_ids": give_back,
        "cancel_circulation_ids": cancel,
        "intray_ids": intray,
        "intray_file_ids": to_file,
        "intray_discard_ids": to_discard,
        "rule_ids": rules,
        "search_words": ["Hundesteuer", "Stellungnahme", "Bedenken"],
    }


def token(email):
    return call("POST", "/auth/token", {"email": email, "password": PASSWORD, "name": "schemathesis"})["token"]


def toml_str(s):
    return json.dumps(s)


def toml_list(values):
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def prepare_payments(clerk, admin, hund, data, case_ids):
    """A paid payment (the Hundesteuer costs 1.000,00 EUR before sending for a
    moment: submitted through the API, paid at the demo's test provider), a
    refund above the threshold waiting for a second person, a fee request.
    The amount is large so that the generated refunds of 1,00 EUR (each done
    at once, below the threshold) never use up what the pending refund needs."""
    fee = {"collect": "before", "haushaltsstelle": "6.1.1.01.403300", "objektnummer": "P-61100-HST"}
    call("PUT", "/services/hundesteuer-anmeldung/fee", {**fee, "fee": {"kind": "fixed", "amount": "1000.00"}},
         token=admin)
    received = call("POST", "/applications", {"form": hund["key"], "data": data})
    call("PUT", "/services/hundesteuer-anmeldung/fee", {**fee, "fee": {"kind": "free"}}, token=admin)
    payment = received.get("payment") or {}
    if not payment.get("url"):
        sys.exit(f"preparing schemathesis: the fee was not started at the provider: {received!r}")
    pay = urllib.request.Request(payment["url"], method="POST",
                                 data=urllib.parse.urlencode({"method": "creditcard", "action": "pay"}).encode())
    pay.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(pay) as r:  # follows the provider's 303 back to the platform
        r.read()
    mine = call("GET", f"/applications/{received['reference']}", token=received["access_token"])
    if mine["payments"][0]["status"] != "paid":
        sys.exit(f"preparing schemathesis: the payment is not paid: {mine['payments']!r}")
    refund = call("POST", f"/payments/{payment['id']}/refunds",
                  {"amount": "60.00", "reason": "Schemathesis"}, token=clerk)
    if refund["status"] != "pending":
        sys.exit(f"preparing schemathesis: the refund does not wait for a second person: {refund!r}")
    requested = call("POST", f"/cases/{case_ids[0]}/fee-requests",
                     {"amount": "15.00", "purpose": "Auskunft"}, token=clerk)
    return {
        "payment_ids": [payment["id"], requested["id"]],
        "paid_payment_ids": [payment["id"]],
        "pending_refund_ids": [refund["id"]],
        "fee_amounts": ["15.00"],
        "refund_amounts": ["1.00"],
    }


def prepare_appointments(clerk):
    """Bookings of the demo's Bürgerbüro for the appointment operations (the
    proof of work solved here; the demo runs with high booking limits): free
    times for new bookings and moves, bookings to look at, confirm (a staff
    booking is confirmed: confirming it again is a 200 whatever the token),
    move and cancel, a past booking for check-in, places on the waiting list
    (a Sunday: the Bürgerbüro is closed, so nobody waits in vain there)."""
    import datetime
    import hashlib

    def pow_solution():
        """A solved proof-of-work challenge (base64 JSON, as the ALTCHA widget
        sends it), or None when the proof of work is off."""
        got = call("GET", "/appointments/challenge")
        c = got.get("challenge")
        if not got.get("required") or not c:
            return None
        for number in range(int(c["maxnumber"]) + 1):
            if hashlib.sha256(f"{c['salt']}{number}".encode()).hexdigest() == c["challenge"]:
                solution = {k: c[k] for k in ("algorithm", "challenge", "salt", "signature")}
                solution["number"] = number
                return base64.b64encode(json.dumps(solution).encode()).decode()
        sys.exit("preparing schemathesis: a proof-of-work challenge without a solution")

    where = {"service": "meldebescheinigung", "location": "buergerbuero"}
    slots = call("GET", "/appointments/slots?" + urllib.parse.urlencode(where))
    starts = [t["start"][:16] for d in slots["days"] for t in d["times"]]
    if len(starts) < 80:
        sys.exit(f"preparing schemathesis: too few free times ({len(starts)})")
    n = [0]

    def book(start):
        n[0] += 1
        body = {**where, "start": start, "name": f"Schema Thesis {n[0]}", "email": f"prep{n[0]}@example.org"}
        pow_ = pow_solution()
        if pow_:
            body["pow"] = pow_
        return call("POST", "/appointments", body)

    def staff_book(start, channel="internal"):
        n[0] += 1
        return call("POST", "/appointments/locations/buergerbuero/bookings",
                    {"service": "meldebescheinigung", "start": start, "name": f"Schema Thesis {n[0]}",
                     "channel": channel}, token=clerk)

    look = [book(s)["code"] for s in starts[0:3]]
    # Ten to cancel for each run (a cancelled booking answers 409; only 404s
    # and 409s would be a warning).
    cancel = [book(s)["code"] for s in starts[3:23]]
    move = [book(s)["code"] for s in starts[23:26]]
    # The slots of a few days: their internal and phone places, slots to block.
    internal, phone, blocks = [], [], []
    for d in sorted({s[:10] for s in starts})[:6]:
        listed = call("GET", "/appointments/locations/buergerbuero/day?date=" + d, token=clerk)
        internal += [x["start"][:16] for x in listed["slots"] if x["cap_internal"] > x["booked_internal"]]
        phone += [x["start"][:16] for x in listed["slots"] if x["cap_phone"] > x["booked_phone"]]
        blocks += [x["start"][:16] for x in listed["slots"]]
    if len(internal) < 6 or len(phone) < 10:
        sys.exit(f"preparing schemathesis: too few internal/phone places ({len(internal)}, {len(phone)})")
    # Staff bookings are confirmed at once: confirming one again is a 200.
    made = [staff_book(s) for s in internal[:6]]
    confirmed = [b["code"] for b in made[:3]]
    staff_cancel = []
    for b in made[3:]:
        listed = call("GET", "/appointments/locations/buergerbuero/day?date=" + b["start"][:10], token=clerk)
        staff_cancel += [x["id"] for x in listed["bookings"] if x["code"] == b["code"]]
    phone = [p for p in phone if p not in internal[:6]]
    # A confirmed booking in the past (the demo seeds some) for check-in and no-show.
    today = datetime.date.today()
    past = []
    for k in range(1, 8):
        d = (today - datetime.timedelta(days=k)).isoformat()
        listed = call("GET", "/appointments/locations/buergerbuero/day?date=" + d, token=clerk)
        past += [b["id"] for b in listed["bookings"] if b["status"] == "confirmed"]
    if not past:
        sys.exit("preparing schemathesis: the demo has no past booking to check in")
    sunday = today + datetime.timedelta(days=(6 - today.weekday()) % 7 or 7)
    waiting = []
    for k in range(2):
        waiting.append(call("POST", "/appointments/waitlist",
                            {**where, "from": sunday.isoformat(), "to": sunday.isoformat(),
                             "name": "Wera Warten", "email": f"wartet{k}@example.org"})["code"])
    # Solutions for the generated bookings (each good once, for 10 minutes;
    # later ones are refused as expired, a 422 the run expects).
    pows = [p for p in (pow_solution() for _ in range(30)) if p]
    return {
        "appointment_pows": pows or ["-"],
        "appointment_services": ["meldebescheinigung"],
        "appointment_locations": ["buergerbuero"],
        "appointment_starts": starts[40:],
        "appointment_emails": [f"schemathesis{k}@example.org" for k in range(40)],
        "appointment_codes": look,
        # The runs draw the same codes (one seed): each run gets codes of its own.
        "appointment_cancel_codes": cancel[:10],
        "appointment_cancel_codes_anonymous": cancel[10:],
        "appointment_move_codes": move,
        "appointment_confirmed_codes": confirmed,
        "appointment_staff_cancel_ids": staff_cancel,
        "appointment_phone_starts": phone,
        "appointment_block_starts": blocks,
        "appointment_past_ids": past,
        "appointment_wait_codes": waiting,
        "appointment_closed_days": [sunday.isoformat()],
    }


OPEN311_KEY = "o311_demo_musterstadt_app"


def open311_post(form):
    """POST /open311/v2/requests.json with the demo app's key: the new reference and token."""
    data = urllib.parse.urlencode({"api_key": OPEN311_KEY, **form}).encode()
    req = urllib.request.Request(BASE + "/open311/v2/requests.json", data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    if status != 200:
        sys.exit(f"preparing schemathesis: POST /open311/v2/requests.json answered {status}: {text[:500]!r}")
    created = json.loads(text)[0]
    return created["service_request_id"], created["token"]


def prepare_defects():
    """Defect reports of the road office (its clerk's token), fresh ones for
    each status step and merge, and the Open311 values (codes, references,
    tokens, the demo app's key)."""
    roads = token("strassen@musterstadt.example")
    pothole = {"service_code": "schlagloch", "lat": "50.1990", "long": "9.2010",
               "description": "Schlagloch (schemathesis)", "attribute[groesse]": "klein"}
    target, target_token = open311_post(pothole)
    steps = [open311_post(pothole)[0] for _ in range(4)]
    merges = [open311_post(pothole)[0] for _ in range(3)]
    reports = call("GET", "/defects?limit=200", token=roads)["reports"]
    id_of = {r["reference"]: r["id"] for r in reports}
    missing = [r for r in [target] + steps + merges if r not in id_of]
    if missing:
        sys.exit(f"preparing schemathesis: the road office's clerk does not see {missing}")
    return roads, {
        "defect_ids": [id_of[target]],
        "defect_status_ids": [id_of[r] for r in steps],
        "defect_statuses": ["acknowledged"],
        "defect_merge_ids": [id_of[r] for r in merges],
        "defect_merge_into": [target],
        "defect_codes": ["schlagloch"],
        "o311_codes": ["schlagloch", "strassenbeleuchtung", "graffiti"],
        "o311_references": [target],
        "o311_tokens": [target_token],
        "o311_keys": [OPEN311_KEY],
        "o311_jurisdictions": ["musterstadt"],
        "o311_lat": ["50.2010"],
        "o311_long": ["9.1950"],
    }


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
    refs = {r["reference"] for r in received}
    inbox = call("GET", "/cases?limit=200", token=clerk)["cases"]
    if not refs & {c["reference"] for c in inbox}:
        # The demo clerk works the Bürgerbüro and Gewerbe; the Hundesteuer
        # goes to another unit: the clerk gets a role there too.
        unit = call("GET", f"/applications/{reference}", token=access)["org_unit"]
        admin = os.environ.get("RATHAUS_ADMIN_CMD")
        if not admin or not unit:
            sys.exit("preparing schemathesis: set RATHAUS_ADMIN_CMD (e.g. 'rathaus admin' with the "
                     "demo's environment) so that the demo clerk can be given the case's unit")
        subprocess.check_call(f"{admin} grant-role --tenant musterstadt --email "
                              f"sachbearbeitung@musterstadt.example --role clerk --org-unit '{unit}'",
                              shell=True, stdout=subprocess.DEVNULL)
        inbox = call("GET", "/cases?limit=200", token=clerk)["cases"]
    cases = [c for c in inbox if c["reference"] in refs]
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
    status_refs = [call("POST", "/applications", {"form": hund["key"], "data": data})["reference"]
                   for _ in range(4)]
    status_cases = [call("GET", f"/applications/{r}", token=clerk)["case"] for r in status_refs]
    admin = token("admin@musterstadt.example")
    admin2 = token("admin2@musterstadt.example")
    records = prepare_records(clerk, admin, hund, data)
    records.update(prepare_records_work(clerk, admin, admin2, hund, data))
    records.update(prepare_payments(clerk, admin, hund, data, [c["id"] for c in cases]))
    records.update(prepare_appointments(clerk))
    units = call("GET", "/org-units", token=clerk)["items"]
    services = call("GET", "/services")["items"]
    # Editorial states for the workflow steps: a draft to submit, versions in
    # review to approve (a second editor: four eyes) or reject.
    editor2 = token("redaktion2@musterstadt.example")
    export = call("GET", "/catalog/export")["services"]
    by_slug = {s["slug"]: s["id"] for s in services}
    editable = [(by_slug[c["slug"]], c) for c in export if c["slug"] in by_slug][:3]
    for i, (sid, content) in enumerate(editable):
        call("PUT", f"/services/{sid}", content, token=editor)
        if i:
            call("POST", f"/services/{sid}/submit", {}, token=editor)
    # A draft to submit (a demo form with a new draft version), and two forms
    # of their own in review, one to approve and one to reject: nothing else
    # draws their ids, so neither step can use up the other's version (on
    # PostgreSQL the approve step once got only 409s).
    first = forms[0]
    envelope = call("GET", f"/forms/{first['id']}")
    call("PUT", f"/forms/{first['id']}", {"definition": envelope["definition"]}, token=editor)
    draft_forms = [first["id"]]

    def mini_form(name):
        return {"format": "rathaus.form/1", "key": f"schemathesis-{name}",
                "definition": {"key": f"schemathesis_{name.replace('-', '_')}",
                               "title": {"de": name, "en": name},
                               "steps": [{"key": "a", "title": {"de": "A", "en": "A"}, "items": [
                                   {"type": "field", "key": "x", "label": {"de": "X", "en": "X"},
                                    "kind": "text"}]}]}}

    review_forms = []
    for name in ("review-approve", "review-reject"):
        created = call("POST", "/forms", mini_form(name), token=editor)
        call("POST", f"/forms/{created['id']}/submit", {}, token=editor)
        review_forms.append(created["id"])
    step_services = [sid for sid, _ in editable]
    # Pending changes (four eyes) for the change/approve|reject steps: an
    # archive request of a service, and a form linked to its own service again.
    archivable = [s["id"] for s in services if s["id"] not in step_services]
    change_services = archivable[-2:]
    for sid in change_services:
        call("POST", f"/services/{sid}/archive", {}, token=editor, expect=(200, 202, 204))
    # Two forms of their own for the link changes (a pending change on a form
    # in review would hold up its approval).
    change_forms = []
    for n in (1, 2):
        mini = {"format": "rathaus.form/1", "key": f"schemathesis-link-{n}",
                "definition": {"key": f"schemathesis_link_{n}", "title": {"de": "Verknüpfung", "en": "Link"},
                               "steps": [{"key": "a", "title": {"de": "A", "en": "A"}, "items": [
                                   {"type": "field", "key": "x", "label": {"de": "X", "en": "X"},
                                    "kind": "text"}]}]}}
        created = call("POST", "/forms", mini, token=editor)
        call("POST", f"/forms/{created['id']}/attach", {"service": services[0]["slug"]}, token=editor,
             expect=(200, 202))
        change_forms.append(created["id"])
    in_review = set(review_forms) | {f"schemathesis-{n}" for n in ("review-approve", "review-reject")}
    roads, defects = prepare_defects()
    return {
        "tokens": {"editor": editor, "editor2": editor2, "clerk": clerk, "applicant": access,
                   "revoke": revoke, "admin": admin, "admin2": admin2, "roads": roads},
        "dictionaries": {
            "service_ids": [s["id"] for s in services],
            "archivable_service_ids": archivable[:-2] or archivable,
            # Approve and reject each get their own record, so that one does
            # not use up what the other needs for its 2xx.
            "change_service_ids_approve": change_services[:1] or archivable[:1],
            "change_service_ids_reject": change_services[1:] or change_services[:1] or archivable[:1],
            "change_form_ids_approve": change_forms[:1] or form_ids[:1],
            "change_form_ids_reject": change_forms[1:] or change_forms[:1] or form_ids[:1],
            "draft_service_ids": step_services[:1],
            "review_service_ids_approve": step_services[1:2],
            "review_service_ids_reject": step_services[2:3] or step_services[1:2],
            "form_ids": form_ids,
            # Not the forms in review: a pending link change on one holds up
            # its approval (409), and then approve never reaches a 2xx.
            "attach_form_ids": [f for f in form_ids if f not in in_review],
            "draft_form_ids": draft_forms,
            "review_form_ids_approve": review_forms[:1],
            "review_form_ids_reject": review_forms[1:],
            "case_ids": [c["id"] for c in cases],
            "org_unit_ids": [u["id"] for u in units],
            "org_unit_names": [u["name"] for u in units],
            "references": [r["reference"] for r in received],
            "own_reference": [reference],
            "file_ids": files,
            "form_keys": [hund["key"]],
            "service_slugs": [s["slug"] for s in services],
            "leika_keys": [c["leika_key"] for c in export],
            "emails": ["redaktion@musterstadt.example"],
            "passwords": [PASSWORD],
            "tenants": ["musterstadt"],
            "status_case_ids": status_cases,
            "status_actions": ["start"],
            **records,
            **defects,
        },
    }


# Which real values a parameter draws from (most of the time; the rest is
# generated): (path regex, method regex, parameter, dictionary).
BINDINGS = [
    ("^/api/v1/services/\\{id\\}$", ".*", "path.id", "service_ids"),
    ("^/api/v1/services/\\{id\\}/submit$", ".*", "path.id", "draft_service_ids"),
    ("^/api/v1/services/\\{id\\}/approve$", ".*", "path.id", "review_service_ids_approve"),
    ("^/api/v1/services/\\{id\\}/reject$", ".*", "path.id", "review_service_ids_reject"),
    ("^/api/v1/services/\\{id\\}/archive$", ".*", "path.id", "archivable_service_ids"),
    ("^/api/v1/forms/\\{id\\}(/draft|/schema|/validate)?$", ".*", "path.id", "form_ids"),
    ("^/api/v1/forms/\\{id\\}/attach$", ".*", "path.id", "attach_form_ids"),
    ("^/api/v1/forms/\\{id\\}/submit$", ".*", "path.id", "draft_form_ids"),
    ("^/api/v1/forms/\\{id\\}/approve$", ".*", "path.id", "review_form_ids_approve"),
    ("^/api/v1/forms/\\{id\\}/reject$", ".*", "path.id", "review_form_ids_reject"),
    ("^/api/v1/services/\\{id\\}/change/approve$", ".*", "path.id", "change_service_ids_approve"),
    ("^/api/v1/services/\\{id\\}/change/reject$", ".*", "path.id", "change_service_ids_reject"),
    ("^/api/v1/forms/\\{id\\}/change/approve$", ".*", "path.id", "change_form_ids_approve"),
    ("^/api/v1/forms/\\{id\\}/change/reject$", ".*", "path.id", "change_form_ids_reject"),
    ("^/api/v1/records/disposals/\\{id\\}/0503$", ".*", "path.id", "evaluated_disposal_ids"),
    ("^/api/v1/records/disposals/\\{id\\}/destruction$", ".*", "path.id", "confirmed_disposal_ids"),
    ("^/api/v1/records/disposals/\\{id\\}/destruction/approve$", ".*", "path.id", "requested_disposal_ids"),
    ("^/api/v1/records/disposals/\\{id\\}(/0501|/0502|/receipt)?$", ".*", "path.id", "disposal_ids"),
    ("^/api/v1/records/\\{id\\}/hold$", ".*", "path.id", "hold_record_ids"),
    ("^/api/v1/records/disposals$", "^POST$", "body.as_of", "as_of_dates"),
    ("^/api/v1/records/documents/\\{id\\}(/seal)?$", ".*", "path.id", "document_ids"),
    ("^/api/v1/records/documents/\\{id\\}/move$", ".*", "path.id", "move_document_ids"),
    ("^/api/v1/records/documents/\\{id\\}/move$", ".*", "body.to", "move_record_ids"),
    ("^/api/v1/records/\\{id\\}/(documents|circulations)$", ".*", "path.id", "work_record_ids"),
    ("^/api/v1/records/plan/changes/\\{id\\}/approve$", ".*", "path.id", "approve_change_ids"),
    ("^/api/v1/records/plan/changes/\\{id\\}/reject$", ".*", "path.id", "reject_change_ids"),
    ("^/api/v1/records/search$", ".*", "query.q", "search_words"),
    ("^/api/v1/circulations/\\{id\\}$", ".*", "path.id", "circulation_ids"),
    ("^/api/v1/circulations/\\{id\\}/sign$", ".*", "path.id", "sign_circulation_ids"),
    ("^/api/v1/circulations/\\{id\\}/return$", ".*", "path.id", "return_circulation_ids"),
    ("^/api/v1/circulations/\\{id\\}/cancel$", ".*", "path.id", "cancel_circulation_ids"),
    ("^/api/v1/intray/\\{id\\}(/content)?$", ".*", "path.id", "intray_ids"),
    ("^/api/v1/intray/\\{id\\}/file$", ".*", "path.id", "intray_file_ids"),
    ("^/api/v1/intray/\\{id\\}/file$", ".*", "body.record", "work_record_ids"),
    ("^/api/v1/intray/\\{id\\}/discard$", ".*", "path.id", "intray_discard_ids"),
    ("^/api/v1/intray/rules/\\{id\\}$", ".*", "path.id", "rule_ids"),
    ("^/api/v1/records/due$", ".*", "query.as_of", "as_of_dates"),
    ("^/api/v1/payments/\\{id\\}$", ".*", "path.id", "payment_ids"),
    ("^/api/v1/payments/\\{id\\}/refunds$", ".*", "path.id", "paid_payment_ids"),
    ("^/api/v1/payments/\\{id\\}/refunds$", ".*", "body.amount", "refund_amounts"),
    ("^/api/v1/refunds/\\{id\\}/approve$", ".*", "path.id", "pending_refund_ids"),
    ("^/api/v1/cases/\\{id\\}/fee-requests$", ".*", "body.amount", "fee_amounts"),
    ("^/api/v1/appointments/slots$", ".*", "query.service", "appointment_services"),
    ("^/api/v1/appointments/slots$", ".*", "query.location", "appointment_locations"),
    ("^/api/v1/appointments(/waitlist)?$", "^POST$", "body.service", "appointment_services"),
    ("^/api/v1/appointments(/waitlist)?$", "^POST$", "body.location", "appointment_locations"),
    ("^/api/v1/appointments(/waitlist)?$", "^POST$", "body.email", "appointment_emails"),
    ("^/api/v1/appointments$", "^POST$", "body.start", "appointment_starts"),
    ("^/api/v1/appointments$", "^POST$", "body.pow", "appointment_pows"),
    ("^/api/v1/appointments/waitlist$", "^POST$", "body.from", "appointment_closed_days"),
    ("^/api/v1/appointments/waitlist$", "^POST$", "body.to", "appointment_closed_days"),
    ("^/api/v1/appointments/waitlist/\\{code\\}$", ".*", "path.code", "appointment_wait_codes"),
    ("^/api/v1/appointments/\\{code\\}(\\.ics)?$", "^GET$", "path.code", "appointment_codes"),
    ("^/api/v1/appointments/\\{code\\}$", "^DELETE$", "path.code", "appointment_cancel_codes"),
    ("^/api/v1/appointments/\\{code\\}/confirm$", ".*", "path.code", "appointment_confirmed_codes"),
    ("^/api/v1/appointments/\\{code\\}/move$", ".*", "path.code", "appointment_move_codes"),
    ("^/api/v1/appointments/\\{code\\}/move$", ".*", "body.start", "appointment_starts"),
    ("^/api/v1/appointments/locations/\\{id\\}", ".*", "path.id", "appointment_locations"),
    ("^/api/v1/appointments/locations/\\{id\\}/bookings$", ".*", "body.service", "appointment_services"),
    ("^/api/v1/appointments/locations/\\{id\\}/bookings$", ".*", "body.start", "appointment_phone_starts"),
    ("^/api/v1/appointments/locations/\\{id\\}/blocks$", ".*", "body.start", "appointment_block_starts"),
    ("^/api/v1/appointments/bookings/\\{id\\}/attendance$", ".*", "path.id", "appointment_past_ids"),
    ("^/api/v1/appointments/bookings/\\{id\\}/cancel$", ".*", "path.id", "appointment_staff_cancel_ids"),
    ("^/api/v1/services/\\{id\\}/fee$", ".*", "path.id", "service_ids"),
    ("^/api/v1/defects/\\{id\\}$", ".*", "path.id", "defect_ids"),
    ("^/api/v1/defects/\\{id\\}/(status|moderation)$", ".*", "path.id", "defect_status_ids"),
    ("^/api/v1/defects/\\{id\\}/status$", ".*", "body.status", "defect_statuses"),
    ("^/api/v1/defects/\\{id\\}/merge$", ".*", "path.id", "defect_merge_ids"),
    ("^/api/v1/defects/\\{id\\}/merge$", ".*", "body.into", "defect_merge_into"),
    ("^/api/v1/defects$", ".*", "query.service_code", "defect_codes"),
    ("^/open311/v2/(services|requests|tokens)", "^GET$", "query.jurisdiction_id", "o311_jurisdictions"),
    ("^/open311/v2/requests\\.", "^GET$", "query.service_code", "o311_codes"),
    ("^/open311/v2/requests\\.", "^GET$", "query.service_request_id", "o311_references"),
    ("^/open311/v2/services/", ".*", "path.service_code", "o311_codes"),
    ("^/open311/v2/requests/", ".*", "path.service_request_id", "o311_references"),
    ("^/open311/v2/tokens/", ".*", "path.token", "o311_tokens"),
    ("^/open311/v2/requests\\.", "^POST$", "query.api_key", "o311_keys"),
    ("^/open311/v2/requests\\.", "^POST$", "body.jurisdiction_id", "o311_jurisdictions"),
    ("^/open311/v2/requests\\.", "^POST$", "body.service_code", "o311_codes"),
    ("^/open311/v2/requests\\.", "^POST$", "body.lat", "o311_lat"),
    ("^/open311/v2/requests\\.", "^POST$", "body.long", "o311_long"),
    # Status steps on cases of their own, all received: "start" is possible
    # on each once (the other cases are claimed, decided, cancelled … by
    # the other operations, in an order the generator chooses).
    ("^/api/v1/cases/\\{id\\}/status$", ".*", "path.id", "status_case_ids"),
    ("^/api/v1/cases/\\{id\\}/status$", ".*", "body.action", "status_actions"),
    ("^/api/v1/cases/\\{id\\}(?!/status$)", ".*", "path.id", "case_ids"),
    ("^/api/v1/org-units/\\{id\\}", ".*", "path.id", "org_unit_ids"),
    ("^/api/v1/applications/\\{reference\\}$", ".*", "path.reference", "references"),
    ("^/api/v1/applications/\\{reference\\}/", ".*", "path.reference", "own_reference"),
    ("^/api/v1/applications/\\{reference\\}/files/\\{file\\}$", ".*", "path.file", "file_ids"),
    ("^/api/v1/applications$", ".*", "body.form", "form_keys"),
    ("^/api/v1/cases/\\{id\\}/forward$", ".*", "body.org_unit", "org_unit_ids"),
    ("^/api/v1/forms/\\{id\\}/attach$", ".*", "body.service", "service_slugs"),
    ("^/api/v1/services(/\\{id\\})?$", "^(POST|PUT)$", "body.org_unit", "org_unit_names"),
    ("^/api/v1/services(/\\{id\\})?$", "^(POST|PUT)$", "body.leika_key", "leika_keys"),
    ("^/api/v1/auth/token$", "^POST$", "body.email", "emails"),
    ("^/api/v1/auth/token$", "^POST$", "body.password", "passwords"),
    ("^/api/v1/auth/token$", "^POST$", "body.tenant", "tenants"),
]
ROLE = [
    ("^/api/v1/records/disposals/\\{id\\}/destruction/approve$", "admin2"),
    ("^/api/v1/records/plan/changes/\\{id\\}/approve$", "admin2"),
    ("^/api/v1/(circulations|intray)", "admin"),
    ("^/api/v1/records", "admin"),
    ("^/api/v1/services/\\{id\\}/fee$", "admin"),
    ("^/api/v1/(payments|refunds)", "admin"),
    ("^/api/v1/appointments/(locations|bookings)", "clerk"),
    ("^/api/v1/defects", "roads"),
    ("^/api/v1/cases/\\{id\\}/payments$", "admin"),
    ("^/api/v1/(services|forms)/\\{id\\}/change/(approve|reject)$", "editor2"),
    ("^/api/v1/(services|forms)/\\{id\\}/(approve|reject)$", "editor2"),
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
    # At least a text or a file; a file's type is checked by its content.
    ("^/api/v1/applications/\\{reference\\}/messages$", "POST"),
    # The tenant is named by its slug.
    ("^/api/v1/auth/token$", "POST"),
    # A document request's deadline is today or later.
    ("^/api/v1/cases/\\{id\\}/messages$", "POST"),
    # The archive's xdomea messages: a generated string is no xdomea message.
    ("^/api/v1/records/disposals/\\{id\\}/(0502|receipt)$", "POST"),
    # The service is named by its slug; an unknown one is a 422 naming the field.
    ("^/api/v1/forms/\\{id\\}/attach$", "POST"),
    # Documents and mail are typed by their content: generated bytes are no PDF, mail or text.
    ("^/api/v1/records/\\{id\\}/documents$", "POST"),
    ("^/api/v1/intray$", "POST"),
    # A plan change is checked against the plan (codes that exist, a parent, a known service).
    ("^/api/v1/records/plan/changes$", "POST"),
    # The people of an Umlaufmappe are the tenant's clerks and administrators, named by id.
    ("^/api/v1/records/\\{id\\}/circulations$", "POST"),
    # A rule's target is a plan node of the tenant; the item is filed into a Vorgang named by id or number.
    ("^/api/v1/intray/rules$", "POST"),
    ("^/api/v1/intray/\\{id\\}/file$", "POST"),
    # The provider's notification is form-encoded pmPayment: generated text is no notification.
    ("^/api/v1/payments/notify$", "POST"),
    # Amounts and purposes beyond the schema (above zero, not more than is left to refund, a purpose).
    ("^/api/v1/payments/\\{id\\}/refunds$", "POST"),
    ("^/api/v1/cases/\\{id\\}/fee-requests$", "POST"),
    # A fee with the Bescheid is an amount above zero, written as a German or English decimal (`30,70`, `1.234,50`).
    ("^/api/v1/cases/\\{id\\}/decide$", "POST"),
    # A fee rule's conditions and the booking data's characters are checked beyond the schema.
    ("^/api/v1/services/\\{id\\}/fee$", "PUT"),
    # Appointments: the service and location by slug, a start on the grid and in the window, a
    # name with a letter, one open booking per address, the confirmation link's secret.
    ("^/api/v1/appointments/slots$", "GET"),
    ("^/api/v1/appointments(/waitlist)?$", "POST"),
    ("^/api/v1/appointments/\\{code\\}/(confirm|move)$", "POST"),
    ("^/api/v1/appointments/locations/\\{id\\}/(bookings|blocks)$", "POST"),
    # A range of days: the end not before the start, at most a year.
    ("^/api/v1/appointments/locations/\\{id\\}/utilisation$", "GET"),
    # Defect steps the status machine refuses (409); a forward needs a note, a merge a report of the
    # same category that exists (422).
    ("^/api/v1/defects/\\{id\\}/(status|merge)$", "POST"),
]
# Open311 answers what it cannot fulfil with 400, as the specification says
# (a place that is not in the town, a bad description, a start after the end).
OPEN311_400 = [
    ("^/open311/v2/requests\\.(json|xml)$", "GET|POST"),
]
WARNINGS = [
    "missing_auth", "missing_test_data", "base_url_mismatch", "validation_mismatch",
    "missing_deserializer", "unused_openapi_auth", "unsupported_regex", "method_not_allowed",
    "constants_extraction", "unmatched_filter", "unresolvable_reference", "rate_limited",
    "dictionary_mismatch", "timeout_units",
]


def config(prep, operations, staff, report):
    """The config of one run: one [[operations]] entry per operation (the
    first entry that sets an option wins, so entries must not overlap)."""
    import re

    d = dict(prep["dictionaries"])
    anonymous_codes = d.pop("appointment_cancel_codes_anonymous")
    if not staff:
        d["appointment_cancel_codes"] = anonymous_codes
    t = prep["tokens"]
    # Every warning fails the run; the anonymous run expects 401 of every
    # staff operation, so "only 401/403" is no warning there.
    run_warnings = [w for w in WARNINGS if staff or w != "missing_auth"]
    out = [
        f"workers = {WORKERS if WORKERS == 'auto' else int(WORKERS)}",
        "seed = 20261130",
        "[warnings]",
        f"display = {toml_list(run_warnings)}",
        "fail-on = true",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        "[reports.ndjson]",
        "enabled = true",
        f"path = {toml_str(report)}",
    ]
    for name, values in d.items():
        out += [f"[dictionaries.{name}]", f"values = {toml_list(values)}"]
    for method, path in operations:
        m = method.upper()
        entry = []
        params = [
            f'"{param}" = {{ dictionary = "{dictionary}", probability = 0.8 }}'
            for regex, methods, param, dictionary in BINDINGS
            if re.search(regex, path) and re.search(methods, m)
        ]
        if params:
            entry.append(f"parameters = {{ {', '.join(params)} }}")
        if staff:
            role = "revoke" if (m, path) == ("DELETE", "/api/v1/auth/token") else next(
                (r for regex, r in ROLE if re.search(regex, path)), None)
            if role:
                entry.append(f'headers = {{ Authorization = {toml_str("Bearer " + t[role])} }}')
        if any(re.search(regex, path) and re.search(f"^({methods})$", m) for regex, methods in SEMANTIC_422):
            entry.append("checks.positive_data_acceptance.expected-statuses = "
                         '["2xx", "401", "403", "404", "409", "422", "429"]')
            # ... and then most generated bodies get 422 by design, and an
            # unknown record named in the body 404.
            semantic_warnings = [w for w in run_warnings if w not in ("validation_mismatch", "missing_test_data")]
            entry.append(f"warnings = {{ display = {toml_list(semantic_warnings)}, fail-on = true }}")
        if any(re.search(regex, path) and re.search(f"^({methods})$", m) for regex, methods in OPEN311_400):
            entry.append("checks.positive_data_acceptance.expected-statuses = "
                         '["2xx", "400", "403", "404", "429"]')
            # A POST needs the app's key, which generated bodies rarely carry
            # (403): the preparation and it/defects.rs send real reports.
            semantic_warnings = [w for w in run_warnings
                                 if w not in ("validation_mismatch", "missing_test_data", "missing_auth")]
            entry.append(f"warnings = {{ display = {toml_list(semantic_warnings)}, fail-on = true }}")
        if entry:
            # include-path and include-method would match either; the name is both.
            out += ["[[operations]]", f"include-name = {toml_str(m + ' ' + path)}"] + entry
    return "\n".join(out) + "\n"


def run(label, prep, operations, staff, tmp):
    report = os.path.join(tmp, f"{label}.ndjson")
    path = os.path.join(tmp, f"{label}.toml")
    with open(path, "w") as f:
        f.write(config(prep, operations, staff, report))
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", path, "run",
        BASE + "/api/openapi.json", "--checks", "all", "--url", BASE,
    ]
    print(f"--- schemathesis ({label}): {' '.join(cmd[2:])}", flush=True)
    rc = subprocess.call(cmd)
    return rc, coverage(report)


# Per operation: a few answer bodies of non-2xx statuses (to say why an
# operation never got a 2xx).
SAMPLES = collections.defaultdict(list)


def response_text(resp):
    import base64
    for key in ("body", "content", "text"):
        v = resp.get(key)
        if isinstance(v, str) and v:
            try:
                return base64.b64decode(v, validate=True).decode("utf-8", "replace")
            except Exception:
                return v
    return ""


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
                code = resp["status_code"]
                if code >= 400 and code not in (401, 405) and len(SAMPLES[label]) < 3:
                    text = response_text(resp)[:300]
                    if text and (code, text) not in SAMPLES[label]:
                        SAMPLES[label].append((code, text))
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
    pairs = [(m, p) for p, item in doc["paths"].items() for m in item]
    operations = [f"{m.upper()} {p}" for m, p in pairs]
    prep = prepare()
    with tempfile.TemporaryDirectory() as tmp:
        staff_rc, staff_cov = run("staff", prep, pairs, True, tmp)
        anon_rc, anon_cov = run("anonymous", prep, pairs, False, tmp)
    problems = []
    notes = []
    print("\n--- per-operation coverage: cases sent (statuses), staff run | anonymous run")
    for op in operations:
        s, a = staff_cov.get(op, collections.Counter()), anon_cov.get(op, collections.Counter())
        fmt = lambda c: f"{sum(c.values()):4d} ({', '.join(f'{k}×{v}' for k, v in sorted(c.items()))})"
        print(f"{op:55s} {fmt(s)} | {fmt(a)}")
        method, path = op.split(" ", 1)
        semantic = any(re.search(r, path) and re.search(f"^({ms})$", method)
                       for r, ms in SEMANTIC_422 + OPEN311_400)
        if not any(200 <= k < 300 for k in s):
            if semantic:
                notes.append(f"{op}: no 2xx in the staff run (generated bodies rarely pass the checks beyond the schema)")
            else:
                problems.append(f"{op}: no 2xx answer in the staff run"
                                + "".join(f"\n      {c}: {t}" for c, t in SAMPLES.get(op, [])))
        if not a:
            problems.append(f"{op}: not reached in the anonymous run")
    if staff_rc or anon_rc:
        problems.append(f"schemathesis failed or warned (staff run: {staff_rc}, anonymous run: {anon_rc})")
    for n in notes:
        print("note: " + n)
    if problems:
        print("\nschemathesis: FAILED\n  " + "\n  ".join(problems))
        sys.exit(1)
    print(f"\nschemathesis: all {len(operations)} operations reached, no failures, no warnings")


if __name__ == "__main__":
    main()
