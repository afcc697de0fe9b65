"""The hotline part of the demo: a demo NGO with a local webhook receiver, notices that go
through a reviewer's decisions to an outcome the NGO is told about (signed), an anonymous report
through the public form's path, and a submission of on-device hashes.

The demo runs without a browser: the on-device submission carries the hashes rempart's browser
engine computes for the picture (MD5 of the file, PDQ bit-exact with Python's), computed here by
Python for the same picture, and the summary says so.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from sqlalchemy import select

from rempart.authz import Actor, Role
from rempart.demo.pictures import jpeg, picture
from rempart.hotline import Channel
from rempart.hotline.models import Notice, Organisation
from rempart.hotline.orgs import create_org, notice_json, set_endpoint
from rempart.hotline.public import Gate, load_or_create_key, read_report, submit_report
from rempart.hotline.service import submit_batch
from rempart.localserver import LocalServer
from rempart.moderation import ActionKind, ActionRequest, claim, decide, deliver_pending
from rempart.moderation import signing
from rempart.people import actor_of
from rempart.people.models import ConsoleUser
from rempart.runtime import Runtime
from rempart.scanning.service import ScanContext

NGO = "Demo Child Protection NGO"
SEEDS = (20_001, 20_002, 20_003)  # benign stand-ins, posted in a demo group and then reported


class Receiver(LocalServer):
    """The NGO's side: a local HTTP server that checks each webhook's signature."""

    path = "/rempart"

    def __init__(self) -> None:
        self.secret = ""
        self.received: list[dict] = []
        self.rejected = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    signing.verify(outer.secret, self.headers.get(signing.TIMESTAMP_HEADER, ""),
                                   body, self.headers.get(signing.SIGNATURE_HEADER, ""),
                                   now=time.time())
                except Exception:  # a wrong or missing signature: refused
                    outer.rejected += 1
                    self.send_response(401)
                else:
                    outer.received.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(Handler)


@dataclass
class HotlineDemo:
    ngo_key: str | None = None
    notices: list[dict] = field(default_factory=list)
    webhooks: list[dict] = field(default_factory=list)
    public_code: str = ""
    on_device_code: str = ""
    on_device_hashes: int = 0

    def to_json(self) -> dict:
        return {"ngo": NGO, "ngo_key": self.ngo_key, "notices": self.notices,
                "webhooks_received": self.webhooks, "public_report_code": self.public_code,
                "on_device_code": self.on_device_code, "on_device_hashes": self.on_device_hashes}

    def render(self) -> list[str]:
        lines = ["  hotline:"]
        if self.ngo_key:
            lines.append(f"    {NGO}: API key (shown once) {self.ngo_key}")
        lines += [f"    notice {n['id']} ({n['reference']}): {n['status']}" for n in self.notices]
        lines.append(f"    the NGO's webhook receiver got {len(self.webhooks)} signed outcome(s): "
                     + ", ".join(f"notice {w['data']['notice']} {w['data']['status']}"
                                 for w in self.webhooks))
        lines.append(f"    anonymous public report: receipt code {self.public_code} "
                     "(follow it at /report/status)")
        lines.append(f"    on-device submission: {self.on_device_hashes} hashes, receipt code "
                     f"{self.on_device_code} (hashes computed by Python for the picture, as the "
                     "browser engine at /report/hash would: no browser in the demo)")
        return lines


def run_hotline_demo(rt: Runtime, log=print) -> HotlineDemo:
    out = HotlineDemo()
    log("hotline: a demo NGO sends notices; a reviewer decides them; the NGO hears back ...")
    for i, seed in enumerate(SEEDS):
        rt.scan_media(jpeg(picture(seed)), ScanContext(account=f"acct-ngo-{i}",
                                                       space="group-hotline",
                                                       message=f"msg-{seed}"))
    receiver = Receiver().start()
    try:
        with rt.db.session() as s:
            org = s.scalar(select(Organisation).where(Organisation.name == NGO))
            if org is None:
                new = create_org(s, NGO, "ngo", "FR")
                org, out.ngo_key = new.org, new.key
            _, receiver.secret = set_endpoint(s, Actor(None, "demo", Role.ADMIN), org,
                                              receiver.url)
            org_id = org.id
        body = {"notices": [
            {"reference": f"NGO-{seed}", "category": "csam", "good_faith": True,
             "explanation": "Seen by our analysts in a public group (demo stand-in).",
             "locations": [{"account": f"acct-ngo-{i}", "space": "group-hotline",
                            "message": f"msg-{seed}"}], "classification": "baseline"}
            for i, seed in enumerate(SEEDS[:2])]}
        _, answer = submit_batch(rt.hotline, org_id, f"demo-{time.time_ns()}", body)
        ids = [n["id"] for n in answer["notices"]]
        with rt.db.session() as s:
            cs = actor_of(s.scalar(select(ConsoleUser).where(ConsoleUser.username == "demo-cs1")))
        _decide(rt, cs, ids[0], [ActionKind.REMOVE_ITEM], "csam")
        _decide(rt, cs, ids[1], [ActionKind.DISMISS], None)
        deliver_pending(rt.db)
        out.webhooks = list(receiver.received)
        with rt.db.session() as s:
            out.notices = [{"id": n["id"], "reference": n["reference"], "status": n["status"]}
                           for n in (notice_json(s, s.get(Notice, i)) for i in ids)]
    finally:
        receiver.stop()
    _public(rt, out)
    return out


def _decide(rt: Runtime, actor, notice_id: int, kinds, policy) -> None:
    with rt.db.session() as s:
        case_id = s.get(Notice, notice_id).case_id
        claim(s, actor, case_id, rt.moderation)
        decide(s, actor, case_id, actions=[ActionRequest(k) for k in kinds], policy=policy,
               facts="Notice from the demo NGO, checked against the item (demo).",
               config=rt.moderation)


def _public(rt: Runtime, out: HotlineDemo) -> None:
    # the form's challenge as if it was served a minute ago (a person takes that long)
    gate = Gate(load_or_create_key(rt.settings.home))
    served = Gate(gate.key, clock=lambda: time.time() - 60)
    report = read_report(rt.hotline, {"category": "csam", "account": "acct-ngo-2",
                                      "space": "group-hotline", "message": f"msg-{SEEDS[2]}",
                                      "explanation": "Seen in a group I am in.",
                                      "good_faith": "yes"})
    out.public_code = submit_report(rt.hotline, gate, report, Channel.FORM, served.challenge(),
                                    "demo-visitor").code
    fp = rt.fingerprint(jpeg(picture(SEEDS[2])))
    hashes = [{"type": "md5", "value": fp.md5}, {"type": "pdq", "value": fp.pdq().pdq}]
    on_device = read_report(rt.hotline, {"category": "csam", "good_faith": "yes",
                                         "explanation": "Pictures of me"}, hashes=hashes)
    out.on_device_code = submit_report(rt.hotline, gate, on_device, Channel.ON_DEVICE,
                                       served.challenge(), "demo-young-person").code
    out.on_device_hashes = len(hashes)
