"""A real SMTP server for the tests (aiosmtpd, from Debian's python3-aiosmtpd).

Every message received is parsed with Python's own e-mail parser, independent of the sender's
library, and written as one JSON file: envelope, decoded subject, plain and HTML parts. A test
that reads the subject in Chinese therefore proves the headers were encoded correctly.

usage: smtp_sink.py PORT OUT_DIR [--drop-ack-every N] [--delay-ms MS]

--drop-ack-every N keeps every Nth message and then closes the connection instead of answering
250: the sender never learns it was delivered (a lost acknowledgement). Such messages are
written with "ack_dropped": true. --delay-ms waits that long before taking each message, so
that a sender killed mid-delivery has messages in flight.
"""

import argparse
import asyncio

import email
import email.policy
import json
import os
import time
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir, drop_ack_every=0, delay_ms=0):
        self.out_dir = out_dir
        self.drop_ack_every = drop_ack_every
        self.delay_ms = delay_ms
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay_ms:
            await asyncio.sleep(self.delay_ms / 1000)
        self.received += 1
        drop_ack = self.drop_ack_every > 0 and self.received % self.drop_ack_every == 0
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "text": plain.get_content() if plain is not None else None,
            "html": html.get_content() if html is not None else None,
            "raw_headers": envelope.content.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace"),
            "ack_dropped": drop_ack,
        }
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.json"
        tmp = os.path.join(self.out_dir, "." + name)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.out_dir, name))
        if drop_ack:
            # Kept, but the sender sees the connection end before any answer.
            server.transport.abort()
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("out_dir")
    parser.add_argument("--drop-ack-every", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    sink = Sink(args.out_dir, args.drop_ack_every, args.delay_ms)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
