#!/usr/bin/env python3
"""How long a revocation made on instance A takes to show at instance B's POST /verify.

Two servers share one database (and data directory, hence keys). For each code in the file
(one per permit, written by the verify_tokens example): B must not answer PERMIT_REVOKED;
staff revoke the permit on A (POST /api/v1/staff/permits/{no}/revoke); B's /verify is then
polled with the permit's code every POLL_MS until it answers PERMIT_REVOKED. Each revocation
waits a random 0-300 ms first, so that it falls anywhere in B's poll period. Times are
counted from when A answered the revocation (committed) and, for reference, from when it was
sent. Prints one line of key=value pairs (read by bench/run); each sample goes to stderr.

usage: revocation.py BASE_A BASE_B STAFF_USER:STAFF_PASSWORD TOKENS_FILE N [POLL_MS]
"""
import http.client
import json
import random
import sys
import time
import urllib.parse


class Client:
    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def call(self, method, path, body=None, token=None):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = "Bearer " + token
        data = json.dumps(body) if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                res = self.conn.getresponse()
                raw = res.read()
                return res.status, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, ConnectionError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)


# Longer than the followers' poll period (YUEJU_STATUS_SYNC_MS, 250 ms by default).
JITTER_S = 0.3


def pct(sorted_ms, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_ms) - 1, -(-len(sorted_ms) * p // 100) - 1))
    return sorted_ms[int(k)]


def main():
    base_a, base_b, staff, tokens_file, n = sys.argv[1:6]
    n = int(n)
    poll = (float(sys.argv[6]) if len(sys.argv) > 6 else 10.0) / 1000
    user, password = staff.split(":", 1)
    a, b = Client(base_a), Client(base_b)
    status, body = a.call("POST", "/api/v1/staff/login", {"username": user, "password": password})
    if status != 200:
        sys.exit(f"staff login on A: {status} {body}")
    staff_token = body.get("access_token") or body.get("token")
    with open(tokens_file) as f:
        tokens = [line.strip() for line in f if line.strip()]
    if len(tokens) < n:
        sys.exit(f"{len(tokens)} codes for {n} revocations")
    after_commit, after_send, polls = [], [], []
    for i, code in enumerate(tokens[:n]):
        status, verdict = b.call("POST", "/api/v1/verify", {"token": code})
        if status != 200 or "permit" not in verdict:
            sys.exit(f"B does not verify code {i}: {status} {verdict}")
        if verdict.get("reason") == "PERMIT_REVOKED":
            sys.exit(f"permit of code {i} is revoked already")
        permit_no = verdict["permit"]["permit_no"]
        # At a random moment of the followers' poll period: one revocation right after
        # another would always land just after B's poll, the worst case every time.
        time.sleep(random.uniform(0, JITTER_S))
        sent = time.monotonic()
        status, body = a.call(
            "POST", f"/api/v1/staff/permits/{permit_no}/revoke", {"reason": "bench: revocation latency"},
            token=staff_token,
        )
        committed = time.monotonic()
        if status != 204:
            sys.exit(f"revoke {permit_no} on A: {status} {body}")
        k, next_poll = 0, committed
        while True:
            status, verdict = b.call("POST", "/api/v1/verify", {"token": code})
            k += 1
            seen = time.monotonic()
            if verdict.get("reason") == "PERMIT_REVOKED":
                break
            if seen - committed > 10:
                sys.exit(f"permit {permit_no}: not revoked at B after 10 s: {verdict}")
            next_poll += poll
            time.sleep(max(0.0, next_poll - time.monotonic()))
        after_commit.append((seen - committed) * 1000)
        after_send.append((seen - sent) * 1000)
        polls.append(k)
        print(f"  {permit_no}: revoke answered in {(committed - sent) * 1000:.1f} ms, "
              f"seen at B {after_commit[-1]:.1f} ms later ({k} polls)", file=sys.stderr)
    c, s = sorted(after_commit), sorted(after_send)
    print(" ".join([
        f"revocations={n}",
        f"poll_ms={poll * 1000:g}",
        f"p50_ms={pct(c, 50):.1f}",
        f"p99_ms={pct(c, 99):.1f}",
        f"max_ms={c[-1]:.1f}",
        f"min_ms={c[0]:.1f}",
        f"mean_ms={sum(c) / len(c):.1f}",
        f"from_send_p50_ms={pct(s, 50):.1f}",
        f"from_send_p99_ms={pct(s, 99):.1f}",
        f"from_send_max_ms={s[-1]:.1f}",
    ]))


if __name__ == "__main__":
    main()
