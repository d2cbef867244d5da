#!/usr/bin/python3
"""The lab's mail relay and on-call webhook (lab only, roles/monitoring).

A real SMTP server (aiosmtpd, Debian's python3-aiosmtpd) on 127.0.0.1:2525 and
an HTTP listener on 127.0.0.1:9099 that Alertmanager delivers to. Each message
becomes one JSON line with the time it arrived, so the lab tests
(tests/lab/test_60_alerting.py) can tell when a notification reached "the
on-call engineer":

    /var/lib/mimamori-lab-sink/mail.jsonl      {"received", "from", "to", "subject", "body"}
    /var/lib/mimamori-lab-sink/webhook.jsonl   {"received", "path", "payload"}
"""

import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

STATE = Path("/var/lib/mimamori-lab-sink")
LOCK = threading.Lock()


def keep(name: str, record: dict) -> None:
    record = {"received": time.time(), **record}
    with LOCK, open(STATE / name, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


class Mail:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain", "html"))
        keep("mail.jsonl", {
            "from": envelope.mail_from, "to": envelope.rcpt_tos,
            "subject": str(message["Subject"]),
            "body": part.get_content() if part is not None else "",
        })
        return "250 Message accepted"


class Webhook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", "replace")
        keep("webhook.jsonl", {"path": self.path, "payload": payload})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    STATE.mkdir(parents=True, exist_ok=True)
    smtp = Controller(Mail(), hostname="127.0.0.1", port=2525)
    smtp.start()
    ThreadingHTTPServer(("127.0.0.1", 9099), Webhook).serve_forever()


if __name__ == "__main__":
    main()
