"""A store holding N finished no-op tasks, for scenarios 6 and 7 (bench/scale.py, bench/startup.py).

Building 1,000,000 tasks through the daemon is too slow for a benchmark run (the release build
here submits and completes ~1,500 no-op tasks/s, so ~11 minutes), so the store is generated:

  1. boardd itself creates the database (schema and migrations exactly as it runs them) and works
     ONE template plan of --per-plan no-op tasks (backend "noop") to the end: the plan is closed,
     its final plan saved, every task completed with its result, every event written.
  2. Python's sqlite3 then deletes the template and inserts N / per_plan clones of it in one
     transaction: every row of plans, tasks, events and final_plans is a copy of the row boardd
     wrote, column for column, with fresh 16-hex-digit ids (plan_, task_, evt_; the ids inside
     JSON text, e.g. the final plan's contributors, follow), a goal of its own, and every
     timestamp shifted so that the clones were created one after the other, in the past. The
     ids follow the binary's own scheme, read off the template: random 64-bit values (older
     builds), or time-ordered ones (milliseconds << 20 | a counter, Sources/BoardStore/
     IDSequence.swift), which are shifted by the same milliseconds as the timestamps.
     Nothing else changes: the shapes (NULLs, JSON payloads, results, 6.5 KB final plans) are
     boardd's own, and no index, ANALYZE statistics or pragma is added. The file is left in WAL
     mode, as boardd leaves it.
  3. boardd opens the result once (validating it: daemon.status must show N completed tasks'
     worth of nothing to do, plan.get must decode a generated plan) and stops cleanly.

The result is cached under CACHE_DIR, keyed by N, per_plan, this generator's version, the
schema boardd created (so a new migration in the binary invalidates the cache), its id scheme
and the template's configuration (boardbench.noop_config: which agents are no-ops); each benchmark
run copies the cached file into its own state directory (`install`).
"""
import datetime, hashlib, json, os, random, re, shutil, sqlite3, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boardbench import Conn, Daemon, NOOP_AGENTS, noop_config, wait_idle  # noqa: E402

GENERATOR_VERSION = 1
TEMPLATE_GOAL = "bigstore template goal"
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_ID = re.compile(r"\b(?:plan|task|evt)_[0-9a-f]{16}\b")


def _ms(ts):
    return int(datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def _ts(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _template(bin_dir, work, per_plan, config):
    """boardd creates the schema and works one plan of per_plan no-op tasks to `closed`."""
    state = os.path.join(work, "template")
    with Daemon(bin_dir, state, config) as d:
        c = Conn(d.sock)
        tasks = [{"agent": NOOP_AGENTS[i % len(NOOP_AGENTS)], "description": f"stored no-op task {i}"} for i in range(per_plan)]
        plan = c.call("plan.create", {"goal": TEMPLATE_GOAL, "tasks": tasks})
        wait_idle(d.sock)
        got = c.call("plan.get", {"plan_id": plan["plan_id"]})
        c.close()
        if got["status"] != "closed":
            raise SystemExit(f"template plan is {got['status']}, expected closed")
    return os.path.join(state, "board.db")


def _time_ordered(plan_id, created_at):
    """Whether boardd made this id from the time (ms << 20 | counter) rather than at random."""
    return abs((int(plan_id.split("_", 1)[1], 16) >> 20) - _ms(created_at)) < 60_000


def _schema_key(db, n_tasks, per_plan, config):
    con = sqlite3.connect(db)
    sql = sorted(r[0] or "" for r in con.execute("SELECT sql FROM sqlite_master"))
    migrations = [r[0] for r in con.execute("SELECT identifier FROM grdb_migrations ORDER BY identifier")]
    ordered = _time_ordered(*con.execute("SELECT plan_id, created_at FROM plans").fetchone())
    con.close()
    text = json.dumps([GENERATOR_VERSION, n_tasks, per_plan, sql, migrations] + (["time-ordered ids"] if ordered else [])
                      + [config])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _columns(con, table):
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]


def _generate(db, n_tasks, per_plan, log):
    """Replaces the template plan in `db` by n_tasks / per_plan clones of it (one transaction)."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")      # one big transaction: a rollback journal of the few original pages
    con.execute("PRAGMA synchronous=OFF")          # a crash while building just means building again
    con.execute("PRAGMA cache_size=-1000000")      # keep the random-key indexes (task_id, event task_id) in memory
    tables = ["plans", "tasks", "events", "final_plans"]
    cols = {t: [c for c in _columns(con, t) if c != "seq"] for t in tables}
    tpl = {t: [r for r in con.execute(f"SELECT {', '.join(cols[t])} FROM {t}" + (" ORDER BY seq" if t != "final_plans" else ""))]
           for t in tables}
    if len(tpl["plans"]) != 1 or len(tpl["tasks"]) != per_plan or len(tpl["final_plans"]) != 1:
        raise SystemExit(f"unexpected template: { {t: len(v) for t, v in tpl.items()} }")
    extra = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN "
                                       "('plans','tasks','events','final_plans','grdb_migrations','task_dependencies')")]
    if extra or con.execute("SELECT count(*) FROM task_dependencies").fetchone()[0]:
        raise SystemExit(f"the schema has tables this generator does not know: {extra}; update bench/bigstore.py")

    # Each template value becomes a recipe: kept, an id to replace, a timestamp to shift, or text
    # holding ids / timestamps / the goal to rewrite.
    stamps = set()

    def recipe(value):
        if not isinstance(value, str):
            return (0, value)
        if _TS.fullmatch(value):
            stamps.add(value)
            return (2, value)
        if _ID.fullmatch(value):
            return (1, value)
        if _ID.search(value) or _TS.search(value) or TEMPLATE_GOAL in value:
            stamps.update(_TS.findall(value))
            return (3, value)
        return (0, value)

    recipes = {t: [[recipe(v) for v in row] for row in tpl[t]] for t in tables}
    ids = set()
    for t in tables:
        for row in tpl[t]:
            for v in row:
                if isinstance(v, str):
                    ids.update(_ID.findall(v))
    base = {s: _ms(s) for s in stamps}
    t_first = min(base.values())
    span = max(base.values()) - t_first + 1
    plans = n_tasks // per_plan
    ordered = _time_ordered(tpl["plans"][0][cols["plans"].index("plan_id")], tpl["plans"][0][cols["plans"].index("created_at")])
    # Clone k starts at `start + k * step`, finished before now: plans a few ms apart, or, with
    # time-ordered ids, one after the other (so that shifted ids cannot collide).
    if ordered:
        id_ms = [int(i.split("_", 1)[1], 16) >> 20 for i in ids]
        step = max(span, max(id_ms) - min(id_ms) + 1) + 1
    else:
        step = max(1, span // 8)
    start = int(time.time() * 1000) - 3600_000 - plans * step - span
    rng = random.Random(20261126)
    log(f"    bigstore: ids {'time-ordered (ms << 20 | counter), shifted with the timestamps' if ordered else 'random'}, "
        f"like the template's")

    def fresh(old, offset):
        prefix, hexpart = old.split("_", 1)
        if ordered:
            return f"{prefix}_{int(hexpart, 16) + (offset << 20):016x}"
        return f"{prefix}_{rng.getrandbits(64):016x}"

    sqls = {t: f"INSERT INTO {t} ({', '.join(cols[t])}) VALUES ({', '.join('?' * len(cols[t]))})" for t in tables}
    t0 = time.perf_counter()
    con.execute("BEGIN")
    for t in ("final_plans", "events", "tasks", "plans"):
        con.execute(f"DELETE FROM {t}")
    for k in range(plans):
        offset = start + k * step - t_first
        idmap = {old: fresh(old, offset) for old in ids}
        tsmap = {s: _ts(ms + offset) for s, ms in base.items()}
        goal = f"stored plan {k}"

        def text(v):
            v = _ID.sub(lambda m: idmap[m.group(0)], v)
            v = _TS.sub(lambda m: tsmap[m.group(0)], v)
            return v.replace(TEMPLATE_GOAL, goal)

        for t in ("plans", "events", "tasks", "final_plans"):
            rows = []
            for row in recipes[t]:
                out = []
                for kind, v in row:
                    if kind == 0:
                        out.append(v)
                    elif kind == 1:
                        out.append(idmap[v])
                    elif kind == 2:
                        out.append(tsmap[v])
                    else:
                        out.append(text(v))
                rows.append(out)
            con.executemany(sqls[t], rows)
        if k and k % 2000 == 0:
            log(f"    bigstore: {k * per_plan:,} / {plans * per_plan:,} tasks ({time.perf_counter() - t0:.0f} s)")
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    log(f"    bigstore: {plans * per_plan:,} tasks inserted in {time.perf_counter() - t0:.0f} s")


def _validate(bin_dir, state, n_tasks, per_plan):
    """boardd opens the generated store and reads it; stops cleanly (WAL folded back)."""
    with Daemon(bin_dir, state, noop_config(sync="normal"), keep=True) as d:
        c = Conn(d.sock)
        s = c.call("daemon.status")
        if s["tasks"].get("pending") or s["tasks"].get("in_progress") or s["plans"].get("open"):
            raise SystemExit(f"generated store is not idle: {s}")
        con = sqlite3.connect(f"file:{state}/board.db?mode=ro", uri=True)
        (plan_id,) = con.execute("SELECT plan_id FROM plans ORDER BY random() LIMIT 1").fetchone()
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("plans", "tasks", "events")}
        con.close()
        p = c.call("plan.get", {"plan_id": plan_id})
        assert p["status"] == "closed" and len(p["tasks"]) == per_plan and all(t["state"] == "completed" for t in p["tasks"]), p
        assert c.call("plan.result", {"plan_id": plan_id})["plan_id"] == plan_id
        c.call("events.list", {"plan_id": plan_id})
        c.close()
    if counts["tasks"] != n_tasks:
        raise SystemExit(f"generated store has {counts['tasks']} tasks, expected {n_tasks}")
    return counts


def build(bin_dir, cache_dir, n_tasks, per_plan=64, log=print):
    """Returns the path of a cached, cleanly closed board.db holding n_tasks finished tasks."""
    if n_tasks % per_plan:
        raise SystemExit(f"--stored ({n_tasks}) must be a multiple of the plan size ({per_plan})")
    os.makedirs(cache_dir, exist_ok=True)
    work = os.path.join(cache_dir, "work")
    shutil.rmtree(work, ignore_errors=True)
    config = noop_config(sync="normal")
    template = _template(bin_dir, work, per_plan, config)
    key = _schema_key(template, n_tasks, per_plan, config)
    cached = os.path.join(cache_dir, f"bigstore-{n_tasks}-{key}.db")
    if os.path.exists(cached):
        shutil.rmtree(work, ignore_errors=True)
        log(f"  store of {n_tasks:,} finished tasks: cached {cached} ({os.path.getsize(cached) / 1e6:,.0f} MB)")
        return cached
    log(f"  building a store of {n_tasks:,} finished tasks (boardd template + sqlite3 clones) ...")
    t0 = time.perf_counter()
    _generate(template, n_tasks, per_plan, log)
    counts = _validate(bin_dir, os.path.dirname(template), n_tasks, per_plan)
    os.replace(template, cached + ".tmp")
    os.replace(cached + ".tmp", cached)
    shutil.rmtree(work, ignore_errors=True)
    log(f"  built {cached}: {counts['plans']:,} plans, {counts['tasks']:,} tasks, {counts['events']:,} events, "
        f"{os.path.getsize(cached) / 1e6:,.0f} MB, in {time.perf_counter() - t0:.0f} s")
    return cached


def install(cached, state):
    """Copies the cached store into a (wiped) state directory as board.db.

    The copy is written 4 KiB at a time, like SQLite writes its pages: a bulk copy
    (copy_file_range) leaves the file in the page cache as large folios, and this kernel then
    charges each later 4 KiB page write by boardd as a whole folio (write_bytes 5x inflated,
    whole folios written back). It is then flushed to disk: otherwise the kernel writes ~1.5 GB
    of dirty pages back while the benchmark runs, and boardd's checkpoint fsync of board.db
    waits for them."""
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    path = os.path.join(state, "board.db")
    with open(cached, "rb", buffering=0) as src, open(path, "wb", buffering=0) as dst:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            view = memoryview(chunk)
            for i in range(0, len(view), 4096):
                dst.write(view[i:i + 4096])
        os.fsync(dst.fileno())
    os.chmod(path, 0o640)


def stored_plan_ids(db, limit, seed=1):
    """`limit` plan ids of the generated (stored) plans, spread over the whole store."""
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)   # immutable: no -wal/-shm beside the cache
    ids = [r[0] for r in con.execute("SELECT plan_id FROM plans WHERE goal LIKE 'stored plan %'")]
    con.close()
    random.Random(seed).shuffle(ids)
    return ids[:limit]


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="Build (or find cached) the generated store.")
    ap.add_argument("--bin", default=".build/release")
    ap.add_argument("--dir", default="/tmp/board-bench/bigstore")
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--per-plan", type=int, default=64)
    a = ap.parse_args()
    print(build(a.bin, a.dir, a.stored, a.per_plan))
