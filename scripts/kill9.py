#!/usr/bin/env python3
"""kill -9 under load: is an acknowledged request ever lost, a number duplicated or skipped?

Registers service requests through the API from several client threads, each with its own
Idempotency-Key, retrying the same key (and body) after any failure until it is acknowledged, as a
careful integration would, while the server instances are killed with SIGKILL and restarted. Then
it checks the database: every acknowledged request is there once with the number it was answered;
no request was written twice; the day's numbers run without gaps; the audit chain verifies.

  scripts/kill9.py --backend sqlite   [--kills 12] [--clients 6] [--bin target/release/shouhou]
  scripts/kill9.py --backend postgres [--kills 12]   # two instances on one database

Only loopback addresses are used. Standard library only (psql for PostgreSQL).
"""
import argparse, json, os, random, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request

PASSWORD = "Shouhou@2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, url, body=None, token=None, key=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    if key:
        req.add_header("idempotency-key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            try:
                return r.status, json.loads(raw or b"null")
            except ValueError:
                return r.status, raw.decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, None


class Instance:
    def __init__(self, binary, args, env, log):
        self.binary, self.args, self.env, self.log = binary, args, env, log
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, command="serve"):
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([self.binary, command, "--addr", f"127.0.0.1:{self.port}", *self.args],
                                     env=self.env, stdout=out, stderr=out)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if call("GET", self.url + "/readyz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit(f"the server ended at start (see {self.log})")
            time.sleep(0.1)
        sys.exit(f"the server did not get ready (see {self.log})")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--bin", default=os.environ.get("SHOUHOU_BIN", "target/release/shouhou"))
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between kills")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="shouhou-kill9-")
    env = dict(os.environ, SHOUHOU_LOG="warn", SHOUHOU_KEYS_FILE=os.path.join(work, "keys.txt"))
    env.pop("SHOUHOU_DATABASE_URL", None)
    if a.backend == "sqlite":
        db_url = f"sqlite://{work}/demo.db"  # where `demo` writes its database
    else:
        name = f"shouhou_kill9_{os.getpid()}"
        subprocess.run(["psql", a.pg + "/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run(["psql", a.pg + "/postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)
        db_url = f"{a.pg}/{name}"
    common = ["--data-dir", work, "--database-url", db_url]
    log = os.path.join(work, "server.log")
    # Seed the demo data once through `demo`, then serve the same database with `serve`.
    seed = Instance(a.bin, common, env, log)
    seed.start("demo")
    seed.stop()
    if a.backend == "sqlite" and not os.path.exists(f"{work}/demo.db"):
        sys.exit("demo did not write the database it was given")
    instances = [Instance(a.bin, common, env, log) for _ in range(1 if a.backend == "sqlite" else 2)]
    for i in instances:
        i.start()

    def any_url():
        return random.choice(instances).url

    status, body = call("POST", instances[0].url + "/api/v1/auth/login", {"username": "agent", "password": PASSWORD})
    token = body["token"]
    status, customers = call("GET", instances[0].url + "/api/v1/customers?per_page=5", token=token)
    customer = customers["items"][0]["id"]

    acknowledged, retries, given_up, lock = {}, [0], [0], threading.Lock()
    stop = threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            i += 1
            key = f"kill9-{n}-{i}"
            body = {"customer_id": customer, "type": "repair", "channel": "phone", "description": key}
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    status, answer = call("POST", any_url() + "/api/v1/service-requests", body, token, key)
                except OSError:
                    status, answer = None, None
                if status == 201:
                    with lock:
                        acknowledged[key] = answer["number"]
                    break
                with lock:
                    retries[0] += 1
                time.sleep(0.05)
            else:
                with lock:
                    given_up[0] += 1
                print(f"gave up on {key}", file=sys.stderr)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(a.clients)]
    started = time.time()
    for t in threads:
        t.start()
    for k in range(a.kills):
        time.sleep(a.interval * random.uniform(0.5, 1.5))
        victim = instances[k % len(instances)]
        victim.kill()
        time.sleep(random.uniform(0.0, 0.5))
        victim.start()
    stop.set()
    for t in threads:
        t.join(timeout=150)
    elapsed = time.time() - started
    status, verify = call("POST", instances[0].url + "/api/v1/audit/verify", {},
                          token=call("POST", instances[0].url + "/api/v1/auth/login",
                                     {"username": "admin", "password": PASSWORD})[1]["token"], timeout=120)
    for i in instances:
        i.stop()

    # What the database holds.
    sql_rows = "SELECT description, number FROM service_requests WHERE description LIKE 'kill9-%'"
    if a.backend == "sqlite":
        con = sqlite3.connect(f"{work}/demo.db")
        rows = con.execute(sql_rows).fetchall()
        numbers = [r[0] for r in con.execute("SELECT number FROM service_requests")]
    else:
        def psql(q):
            out = subprocess.run(["psql", db_url, "-AtF", "\t", "-c", q], check=True, capture_output=True, text=True).stdout
            return [tuple(line.split("\t")) for line in out.splitlines() if line]
        rows = psql(sql_rows)
        numbers = [r[0] for r in psql("SELECT number FROM service_requests")]
    stored = {}
    for desc, number in rows:
        stored.setdefault(desc, []).append(number)
    lost = [k for k in acknowledged if k not in stored]
    wrong = [k for k, n in acknowledged.items() if k in stored and n not in stored[k]]
    duplicated = [k for k, ns in stored.items() if len(ns) > 1]
    # Written but never acknowledged to the client, who retried until told.
    unacknowledged = [k for k in stored if k not in acknowledged]
    by_day = {}
    for n in numbers:
        _, day, seq = n.split("-")
        by_day.setdefault(day, []).append(int(seq))
    gaps = sum(max(s) - len(set(s)) for s in by_day.values())
    result = {
        "backend": a.backend,
        "instances": len(instances),
        "kills": a.kills,
        "seconds": round(elapsed, 1),
        "acknowledged": len(acknowledged),
        "retries": retries[0],
        "stored": len(rows),
        "lost": len(lost),
        "answered_with_another_number": len(wrong),
        "duplicated": len(duplicated),
        "stored_never_acknowledged": len(unacknowledged),
        "given_up": given_up[0],
        "number_gaps": gaps,
        "audit_intact": bool(verify and verify.get("intact")),
    }
    print(json.dumps(result, ensure_ascii=False))
    ok = (not lost and not wrong and not duplicated and not unacknowledged and not given_up[0] and gaps == 0
          and result["audit_intact"] and acknowledged)
    if a.backend == "postgres":
        subprocess.run(["psql", a.pg + "/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work} for a look", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
