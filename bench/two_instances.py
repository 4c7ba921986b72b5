#!/usr/bin/env python3
"""Checks for two Tessera replicas on one PostgreSQL database (driven by
bench/two-instances.sh, which starts everything and passes the addresses and secrets in
the environment). Standard library only.

One line per check on stdout, "PASS"/"FAIL" first, with its figures; exit status 1 when a
check failed. Checks (run in this order, `CHECKS` picks a subset, e.g. "a,b,d,e"):

  a  sign in through A, refresh through B, log out through A: B refuses the refresh token,
     the access token at userinfo, and the SSO session (prompt=none -> login_required)
  b  an admin change made through A (the realm's access-token lifetime) is seen by B: the
     delay is measured; the check passes within MAX_PROPAGATION_S (1 s)
  d  failed logins through A count against B: after 5 failures for a name through A, B
     answers "too many failed attempts" for it
  e  kill -9 of B under load: parallel refreshes and code redemptions through the load
     balancer, and the same code / refresh token raced through A and B at once; then B is
     killed. Counts double redemptions (must be 0) and acknowledged grants that no longer
     work afterwards (grants lost, must be 0)

Environment: LB, A, B (base URLs), B_PID (for e), CLIENT_SECRET (demo-app), DEMO_PASSWORD,
ADMIN_SECRET (tessera-admin in realm master), REDIRECT (demo-app's redirect URI),
E_SECONDS (8), E_STEADY (6), E_RACE (3), MAX_PROPAGATION_S (1), PROPAGATION_TIMEOUT_S (40).
"""

import base64
import hashlib
import html
import http.client
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse

ENV = os.environ
LB, A, B = ENV["LB"], ENV["A"], ENV["B"]
REALM = "demo"
CLIENT_ID = "demo-app"
CLIENT_SECRET = ENV["CLIENT_SECRET"]
DEMO_PASSWORD = ENV["DEMO_PASSWORD"]
REDIRECT = ENV.get("REDIRECT", "http://127.0.0.1:9999/cb")
SCOPE = "openid profile email"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
PROTO = f"/realms/{REALM}/protocol/openid-connect"

results = []


def report(ok, name, detail):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


class Down(Exception):
    """The server could not be reached or dropped the connection."""


def request(base, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection (nothing is ever replayed): status, headers, body."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    hdrs = dict(headers or {})
    if isinstance(body, dict):
        body = urllib.parse.urlencode(body)
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=hdrs)
        res = conn.getresponse()
        data = res.read()
        return res.status, res.getheaders(), data
    except (OSError, http.client.HTTPException) as e:
        raise Down(str(e)) from e
    finally:
        conn.close()


def header(headers, name):
    return next((v for k, v in headers if k.lower() == name), None)


class Browser:
    """Cookies by name (every cookie Tessera sets is for the realm's paths)."""

    def __init__(self):
        self.cookies = {}

    def send(self, base, method, path, body=None):
        hdrs = {}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        status, headers, data = request(base, method, path, body, hdrs)
        for k, v in headers:
            if k.lower() == "set-cookie":
                name, _, value = v.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
        return status, headers, data


def auth_path(extra=None):
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = {
        "client_id": CLIENT_ID, "response_type": "code", "scope": SCOPE, "redirect_uri": REDIRECT,
        "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge, "code_challenge_method": "S256",
    }
    q.update(extra or {})
    return f"{PROTO}/auth?{urllib.parse.urlencode(q)}", verifier


def callback_params(status, headers):
    loc = header(headers, "location") or ""
    if status != 303 or not loc.startswith(REDIRECT):
        return None
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))


def login_page(b, base):
    path, verifier = auth_path()
    status, _, page = b.send(base, "GET", path)
    m = re.search(rb'name="state" value="([^"]*)"', page)
    if status != 200 or not m:
        raise RuntimeError(f"no login page from {base} ({status})")
    return html.unescape(m.group(1).decode()), verifier


def submit_login(b, base, state, username, password):
    return b.send(base, "POST", f"/realms/{REALM}/login-actions/authenticate",
                  {"state": state, "username": username, "password": password})


def sign_in(b, base):
    """Password login: the code and its PKCE verifier."""
    state, verifier = login_page(b, base)
    status, headers, body = submit_login(b, base, state, "demo", DEMO_PASSWORD)
    cb = callback_params(status, headers)
    if not cb or "code" not in cb:
        raise RuntimeError(f"login through {base} failed ({status}): {body[:200]!r}")
    return cb["code"], verifier


def sso_code(b, base):
    """Authorization with the browser's SSO session: the code and verifier, or None."""
    path, verifier = auth_path()
    status, headers, _ = b.send(base, "GET", path)
    cb = callback_params(status, headers)
    return (cb["code"], verifier) if cb and "code" in cb else None


def token(base, form):
    status, _, body = request(base, "POST", f"{PROTO}/token", form, {"Authorization": BASIC})
    try:
        data = json.loads(body)
    except ValueError:
        data = {}
    return status, data


def redeem(base, code, verifier):
    return token(base, {"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT, "code_verifier": verifier})


def refresh(base, rt):
    return token(base, {"grant_type": "refresh_token", "refresh_token": rt})


# ---------------------------------------------------------------------------------------

def check_a():
    b = Browser()
    code, verifier = sign_in(b, A)
    status, t = redeem(A, code, verifier)
    if status != 200:
        return report(False, "a logout across instances", f"code exchange through A: {status} {t}")
    status, t2 = refresh(B, t["refresh_token"])
    if status != 200:
        return report(False, "a logout across instances", f"refresh through B: {status} {t2}")
    userinfo_before, _, _ = request(B, "GET", f"{PROTO}/userinfo",
                                    headers={"Authorization": "Bearer " + t2["access_token"]})
    hint = urllib.parse.urlencode({"id_token_hint": t["id_token"]})
    logout_status, _, _ = b.send(A, "GET", f"{PROTO}/logout?{hint}")
    refresh_after, _ = refresh(B, t2["refresh_token"])
    userinfo_after, _, _ = request(B, "GET", f"{PROTO}/userinfo",
                                   headers={"Authorization": "Bearer " + t2["access_token"]})
    path, _ = auth_path({"prompt": "none"})
    status, headers, _ = b.send(B, "GET", path)
    cb = callback_params(status, headers) or {}
    ok = (userinfo_before == 200 and logout_status in (200, 303) and refresh_after == 400
          and userinfo_after == 401 and cb.get("error") == "login_required")
    report(ok, "a logout across instances",
           f"signed in on A, refreshed on B (userinfo {userinfo_before}), logout on A {logout_status}; "
           f"then on B: refresh {refresh_after} (want 400), userinfo {userinfo_after} (want 401), "
           f"prompt=none -> {cb.get('error', status)} (want login_required)")


def admin_token():
    auth = "Basic " + base64.b64encode(f"tessera-admin:{ENV['ADMIN_SECRET']}".encode()).decode()
    status, _, body = request(A, "POST", "/realms/master/protocol/openid-connect/token",
                              {"grant_type": "client_credentials"}, {"Authorization": auth})
    if status != 200:
        raise RuntimeError(f"admin token: {status} {body[:200]!r}")
    return json.loads(body)["access_token"]


def lifetime_seen_by(base, rt_holder):
    """The realm's access-token lifetime as `base` issues it (a refresh of our own grant)."""
    status, t = refresh(base, rt_holder[0])
    if status != 200:
        raise RuntimeError(f"refresh through {base}: {status} {t}")
    rt_holder[0] = t["refresh_token"]
    return t["expires_in"]


def check_b():
    limit = float(ENV.get("MAX_PROPAGATION_S", "1"))
    timeout = float(ENV.get("PROPAGATION_TIMEOUT_S", "40"))
    b = Browser()
    code, verifier = sign_in(b, A)
    status, t = redeem(A, code, verifier)
    if status != 200:
        return report(False, "b admin change propagation", f"code exchange: {status} {t}")
    rt = [t["refresh_token"]]
    before = lifetime_seen_by(B, rt)  # B has the realm cached from here on
    new = before + 17 if before < 3000 else before - 17
    admin = admin_token()
    status, _, body = request(A, "PUT", f"/admin/realms/{REALM}",
                              json.dumps({"access_token_lifetime_secs": new}),
                              {"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
    changed = time.monotonic()
    if status != 200:
        return report(False, "b admin change propagation", f"PUT on A: {status} {body[:200]!r}")
    on_a = lifetime_seen_by(A, rt)
    seen = None
    while time.monotonic() - changed < timeout:
        if lifetime_seen_by(B, rt) == new:
            seen = time.monotonic() - changed
            break
        time.sleep(0.05)
    # Put the lifetime back so later runs start from the same realm.
    request(A, "PUT", f"/admin/realms/{REALM}", json.dumps({"access_token_lifetime_secs": before}),
            {"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
    if seen is None:
        return report(False, "b admin change propagation",
                      f"access-token lifetime {before} -> {new} on A (A issues {on_a}); B still issued the old one after {timeout:.0f} s")
    report(seen <= limit and on_a == new, "b admin change propagation",
           f"access-token lifetime {before} -> {new} on A (A issues {on_a} at once); B issued it after {seen:.2f} s (want <= {limit:g} s)")


def check_d():
    name = "ghost-" + secrets.token_hex(4)
    answers = []
    b = Browser()
    state, _ = login_page(b, A)
    for _ in range(5):
        status, _, page = submit_login(b, A, state, name, "wrong")
        answers.append((status, b"Too many failed attempts" in page))
    limited_on_a = sum(1 for _, limited in answers if limited)
    b2 = Browser()
    state2, _ = login_page(b2, B)
    status, _, page = submit_login(b2, B, state2, name, "wrong")
    limited_on_b = b"Too many failed attempts" in page
    report(limited_on_a == 0 and limited_on_b, "d shared failed-login budget",
           f"5 failures for one name through A (rate-limited there: {limited_on_a}), "
           f"6th attempt through B -> {status} {'too many failed attempts' if limited_on_b else 'NOT limited'}")


# ---------------------------------------------------------------------------------------

class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}

    def add(self, k, n=1):
        with self.lock:
            self.c[k] = self.c.get(k, 0) + n

    def get(self, k):
        return self.c.get(k, 0)


def steady_worker(stop, counts, grants, uncertain):
    """Refreshes and new grants (SSO code + exchange) through the load balancer. Every
    grant whose token response arrived is recorded with its latest refresh token; a request
    that failed in transit makes that grant's state unknown to us (its rotation may have
    committed), so it is set aside, not counted as lost."""
    b = Browser()
    code, verifier = sign_in(b, LB)
    status, t = redeem(LB, code, verifier)
    if status != 200:
        counts.add("setup_failed")
        return
    mine = [t["refresh_token"]]
    grants.append(mine)
    i = 0
    while not stop.is_set():
        i += 1
        try:
            if i % 4 == 0:
                got = sso_code(b, LB)
                if not got:
                    counts.add("authorize_failed")
                    continue
                status, t = redeem(LB, *got)
                counts.add("codes_redeemed" if status == 200 else f"code_{status}")
                if status == 200:
                    mine = [t["refresh_token"]]
                    grants.append(mine)
            else:
                status, t = refresh(LB, mine[0])
                if status == 200:
                    mine[0] = t["refresh_token"]
                    counts.add("refreshes")
                else:
                    counts.add(f"refresh_{status}")
                    if status >= 500:
                        # 502: sent to B as it died; the rotation may or may not have committed.
                        grants.remove(mine)
                        uncertain.append(mine)
                        mine = None
                        got = sso_code(b, LB)
                        if got:
                            status, t = redeem(LB, *got)
                            if status == 200:
                                mine = [t["refresh_token"]]
                                grants.append(mine)
                        if mine is None:
                            return
        except Down:
            counts.add("transport_errors")


def race(counts, kind, send):
    """Sends the same code or refresh token to A and B at the same moment."""
    outcome = {}
    barrier = threading.Barrier(2)

    def one(base):
        barrier.wait()
        try:
            outcome[base] = send(base)[0]
        except Down:
            outcome[base] = "down"

    threads = [threading.Thread(target=one, args=(base,)) for base in (A, B)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wins = sum(1 for s in outcome.values() if s == 200)
    counts.add(f"{kind}_races")
    if wins > 1:
        counts.add(f"{kind}_double")
    if wins == 0 and all(s != "down" for s in outcome.values()):
        counts.add(f"{kind}_no_winner")


def race_worker(stop, counts):
    b = Browser()
    try:
        sign_in(b, A)
    except (Down, RuntimeError):
        counts.add("setup_failed")
        return
    while not stop.is_set():
        try:
            got = sso_code(b, A)
            if not got:
                counts.add("authorize_failed")
                continue
            code, verifier = got
            race(counts, "code", lambda base: redeem(base, code, verifier))
            got = sso_code(b, A)
            if not got:
                continue
            status, t = redeem(A, *got)
            if status == 200:
                rt = t["refresh_token"]
                race(counts, "refresh", lambda base: refresh(base, rt))
        except Down:
            counts.add("transport_errors")


def check_e():
    seconds = float(ENV.get("E_SECONDS", "8"))
    steady_n, race_n = int(ENV.get("E_STEADY", "6")), int(ENV.get("E_RACE", "3"))
    b_pid = int(ENV["B_PID"])
    counts, grants, uncertain = Counts(), [], []
    stop = threading.Event()
    threads = [threading.Thread(target=steady_worker, args=(stop, counts, grants, uncertain))
               for _ in range(steady_n)]
    threads += [threading.Thread(target=race_worker, args=(stop, counts)) for _ in range(race_n)]
    for th in threads:
        th.start()
    time.sleep(seconds / 2)
    before_kill = counts.get("refreshes") + counts.get("codes_redeemed")
    os.kill(b_pid, signal.SIGKILL)
    killed = time.monotonic()
    time.sleep(seconds / 2)
    stop.set()
    for th in threads:
        th.join()
    # Every grant whose latest token response arrived must still refresh (through A).
    lost = 0
    for g in list(grants):
        try:
            status, _ = refresh(A, g[0])
        except Down:
            status = "down"
        if status != 200:
            lost += 1
    # Grants whose last request failed in transit: either its rotation never committed (the
    # old token still works) or it did (the old token is then a replay, refused).
    unc_ok = sum(1 for g in uncertain if refresh(A, g[0])[0] == 200)
    doubles = counts.get("code_double") + counts.get("refresh_double")
    c = counts.c
    report(doubles == 0 and lost == 0 and counts.get("setup_failed") == 0, "e kill -9 under load",
           f"B killed after {before_kill} acknowledged refreshes/exchanges; in {seconds:g} s: "
           f"{c.get('refreshes', 0)} refreshes, {c.get('codes_redeemed', 0)} code exchanges through the LB, "
           f"{c.get('code_races', 0)} code and {c.get('refresh_races', 0)} refresh-token races A vs B; "
           f"double redemptions = {doubles}, grants lost = {lost} of {len(grants)}; "
           f"in transit at the kill = {len(uncertain)} (old token still valid: {unc_ok}); "
           f"other answers {dict((k, v) for k, v in c.items() if k not in ('refreshes', 'codes_redeemed', 'code_races', 'refresh_races'))}")


def main():
    checks = {"a": check_a, "b": check_b, "d": check_d, "e": check_e}
    chosen = ENV.get("CHECKS", "a,b,d,e").split(",")
    for name in chosen:
        try:
            checks[name]()
        except Exception as e:  # a broken check is a failed check, with its reason
            report(False, f"{name}", f"{type(e).__name__}: {e}")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
