"""redis-py against mullet: what a Python function and worker would do.

Run by server/redispy_test.go as `python3 client.py PORT`; prints one JSON
object with what the client saw.
"""
import json
import sys

import redis


def main():
    port = int(sys.argv[1])
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, decode_responses=True)
    out = {}
    out["ping"] = r.ping()
    info = r.info()
    out["redis_version"] = info.get("redis_version")
    out["loading"] = info.get("loading")
    r.client_setname("py-worker")
    out["name"] = r.client_getname()

    # A function: LPUSH a JSON order and return.
    order = {"id": 7, "total": 9.5, "items": ["a", "b"]}
    out["lpush"] = r.lpush("order_queue", json.dumps(order))
    # The worker: BRPOP it.
    key, payload = r.brpop("order_queue", timeout=1)
    out["brpop_key"] = key
    out["order"] = json.loads(payload)
    # An empty queue times out with None.
    out["brpop_timeout"] = r.brpop("order_queue", timeout=0.1)

    # A pipeline inside MULTI/EXEC, as redis-py sends it.
    with r.pipeline(transaction=True) as p:
        p.rpush("q", "x", "y", "z")
        p.llen("q")
        p.lrange("q", 0, -1)
        p.lpop("q", 2)
        out["multi"] = p.execute()
    # A pipeline without a transaction.
    with r.pipeline(transaction=False) as p:
        for i in range(100):
            p.rpush("batch", str(i))
        p.llen("batch")
        out["pipeline_llen"] = p.execute()[-1]
    out["lmove"] = r.lmove("batch", "inflight", "RIGHT", "LEFT")
    out["lpos"] = r.lpos("batch", "50")

    # Errors come back as exceptions with Redis's text.
    r.set("s", "v")
    try:
        r.lpush("s", "x")
        out["wrongtype"] = None
    except redis.ResponseError as e:
        out["wrongtype"] = str(e)
    try:
        r.execute_command("NOSUCHCOMMAND")
        out["unknown"] = None
    except redis.ResponseError as e:
        out["unknown"] = str(e)

    # WATCH and a transaction that another client breaks.
    other = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    with r.pipeline() as p:
        p.watch("s")
        other.set("s", "changed")
        p.multi()
        p.set("s", "mine")
        try:
            p.execute()
            out["watch"] = "committed"
        except redis.WatchError:
            out["watch"] = "aborted"
    out["s"] = r.get("s")
    out["dbsize"] = r.dbsize()
    json.dump(out, sys.stdout)


main()
