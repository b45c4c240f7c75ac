#!/usr/bin/env python3
"""Prepares the apply -> issue load: imports N eligible people into the embedded government
data (as staff), logs each in with a dev login code and binds the identity, then writes a wrk
Lua script that files one application per person (each is issued at once).

usage: apply_setup.py BASE_URL N OUT.lua
"""
import datetime
import http.client
import json
import sys
import urllib.parse

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def id_number(k):
    born = datetime.date(1980, 1, 1) + datetime.timedelta(days=k // 900)
    body = "440511" + born.strftime("%Y%m%d") + "%03d" % (100 + k % 900)
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def main():
    base, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port)

    def call(method, path, body=None, token=None):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = "Bearer " + token
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = conn.getresponse()
        data = r.read()
        if r.status >= 300:
            raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
        return json.loads(data) if data else None

    staff = call("POST", "/api/v1/staff/login",
                 {"username": "demo-admin", "password": "demo-admin-pass"})
    staff_token = staff.get("access_token") or staff.get("token")
    ids = [id_number(k) for k in range(n)]
    for start in range(0, n, 500):
        chunk = ids[start:start + 500]
        report = call("POST", "/api/v1/staff/gov-records", {
            "people": [{"id_number": i, "name": "测试" + "甲乙丙丁戊己庚辛壬癸"[j % 10],
                        "gender": "male" if int(i[16]) % 2 else "female",
                        "ethnicity": "汉族",
                        "hukou_address": "广东省汕头市金平区金砂路88号"}
                       for j, i in enumerate(chunk, start)],
            "residence_registrations": [{"id_number": i, "city": "广州市", "district": "天河区",
                                         "address": "广州市天河区天河路385号501房",
                                         "since": "2024-01-15"} for i in chunk],
            "employment": [{"id_number": i, "employer": "广州云帆科技有限公司",
                            "city": "广州市", "since": "2024-02-01"} for i in chunk],
        }, staff_token)
        if report.get("errors"):
            raise SystemExit(f"gov-records import: {report['errors'][:3]}")
    tokens = []
    for j, i in enumerate(ids):
        login = call("POST", "/api/v1/auth/miniprogram/login",
                     {"app": "yss", "code": f"dev:bench-apply-{j}"})
        call("POST", "/api/v1/me/identity",
             {"name": "测试" + "甲乙丙丁戊己庚辛壬癸"[j % 10], "id_number": i},
             login["access_token"])
        tokens.append(login["access_token"])
    body = json.dumps({"city": "广州市", "district": "天河区", "address": "天河路385号501房",
                       "residence_since": "2024-01-15", "basis": "employment"},
                      ensure_ascii=False)
    with open(out, "w") as f:
        f.write("tokens = {\n" + ",\n".join('"%s"' % t for t in tokens) + "\n}\n")
        f.write("body = [[%s]]\n" % body)
        f.write("""
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local counter = 0
function request()
  -- Two wrk threads: thread 0 takes the odd people, thread 1 the even ones.
  local i = counter * 2 + tid + 1
  counter = counter + 1
  if i > #tokens then i = #tokens end
  return wrk.format("POST", "/api/v1/applications",
    {["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json"}, body)
end
""")
    print(f"{n} people ready")


main()
