"""Load bench of the chat server: throughput, delivery latency, memory per idle connection.

Starts the real server (`manage.py serve`) on its own database, drives it with python-socketio
clients over websocket from this machine, prints a summary and stops the server. Run with
`make bench` or `.venv/bin/python bench/load.py --help`. See bench/README.md.
"""

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform
import queue
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from clients import (
    BARRIER_TIMEOUT,
    DRAIN_TIMEOUT,
    SETUP_CONCURRENCY,
    WorkerSpec,
    bounded_gather,
    connect_and_join,
    disconnect_all,
    log_in_agents,
    loop_name,
    run_loop,
    shared_http_session,
    start_conversations,
    worker_main,
    worker_process,
)
from server import (
    ROOT,
    Environment,
    Server,
    backing_services_cpu_seconds,
    environment,
    machine_busy_seconds,
    process_cpu_seconds,
    running_server,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
IDLE_WINDOW = 5.0  # seconds the idle sockets are watched
BUSY_MACHINE = 20.0  # percent of one core used by other processes during a window
TARGETS = {"throughput": 2000.0, "p99_ms": 50.0, "mb_per_1000": 60.0}


# ---------------------------------------------------------------- what the server does meanwhile


class Profiler:
    """py-spy recording the server process (samples holding the GIL only: one Python process
    computes on one core at a time, so that is where its time goes), until stopped."""

    def __init__(self, server: Server, path: Path | None):
        self.server, self.path = server, path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(exist_ok=True)
        self.path.unlink(missing_ok=True)
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [spy, "record", "--pid", str(self.server.pid), "--rate", "200", "--nonblocking", "--gil"]
        command += ["--threads", "--format", "raw", "--output", str(self.path)]
        try:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            print(f"  (py-spy did not start: {exc}; `.venv/bin/pip install py-spy`)")

    def stop(self) -> list[str]:
        """Stop recording (py-spy writes its file on SIGINT) and summarise the profile."""
        if self.process is None:
            return []
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shown = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return [f"profile: {shown}", *profile_summary(self.path)]


class ServerSampler(threading.Thread):
    """Meets the client workers at the start line, then measures the scenario's window: CPU
    time of the server, of the clients and of everything else on the machine (another job
    on a 2-core machine skews every figure), the server's RSS, and a py-spy recording."""

    def __init__(self, server: Server, barrier, seconds: float, profiler: Profiler, client_pids: list[int]):
        super().__init__(daemon=True)
        self.server, self.barrier, self.seconds, self.profiler = server, barrier, seconds, profiler
        self.client_pids = client_pids
        self.cpu: dict[str, float] = {}
        self.rss_mb = 0.0
        self.profile: list[str] = []

    def _cpu_now(self) -> dict[str, float]:
        return {
            "server": self.server.cpu_seconds(),
            "clients": sum(process_cpu_seconds(pid) for pid in self.client_pids),
            "services": backing_services_cpu_seconds(),
            "machine": machine_busy_seconds(),
        }

    def run(self) -> None:
        try:
            self.barrier.wait(BARRIER_TIMEOUT)
        except threading.BrokenBarrierError:
            return
        time.sleep(0.2)  # the workers settle for as long before they start
        start = self._cpu_now()
        self.profiler.start()
        time.sleep(self.seconds)
        end = self._cpu_now()
        self.rss_mb = self.server.rss_mb()
        self.profile = self.profiler.stop()
        percent = {k: 100 * (end[k] - start[k]) / self.seconds for k in start}
        accounted = percent["server"] + percent["clients"] + percent["services"]
        percent["others"] = max(0.0, percent["machine"] - accounted)
        self.cpu = percent


PROJECT_PACKAGES = ("conversations/", "chatserver/", "connectors/")


def profile_summary(path: Path, top: int = 12) -> list[str]:
    """What a py-spy raw (collapsed stacks) file says, in a few lines: the share of each
    thread, the project's code lines by inclusive samples, and the libraries where the
    samples end (self time)."""
    if not path.exists() or not path.stat().st_size:
        return [f"(no profile in {path}; is py-spy installed and allowed to ptrace?)"]
    threads: Counter = Counter()
    lines: Counter = Counter()
    libraries: Counter = Counter()
    total = 0
    for row in path.read_text().splitlines():
        stack, _, count = row.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        thread, *frames = stack.split(";")
        total += n
        threads[thread.split(": ", 1)[-1]] += n
        for frame in set(frames):
            function, _, where = frame.partition(" (")
            if where.startswith(PROJECT_PACKAGES):
                lines[f"{function} ({where}"] += n
        libraries[_library(frames[-1]) if frames else "?"] += n
    out = [f"{total} samples; threads: " + ", ".join(f"{t} {100 * n / total:.0f}%" for t, n in threads.most_common())]
    out.append("project code, inclusive:")
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in lines.most_common(top)]
    out.append("where the samples end, by library:")
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in libraries.most_common(top)]
    return out


def _library(frame: str) -> str:
    """The package a frame's file belongs to (`django/db`, `socketio`, `asyncio`...)."""
    function, _, where = frame.partition(" (")
    path = where.split(":", 1)[0]
    parts = path.split("/")
    if len(parts) == 1:
        return f"stdlib {path} ({function})" if path in ("selectors.py", "threading.py") else f"stdlib {path}"
    if parts[0] == "django":
        return "/".join(parts[:3]) if parts[1] in ("db", "core") else "/".join(parts[:2])
    return parts[0]


# ---------------------------------------------------------------- scenarios 1 and 2: traffic


def run_traffic(bench_env: Environment, server: Server, args: argparse.Namespace, scenario: str) -> dict:
    conversations = run_loop(start_conversations(server.url, args.conversations, prefix=f"{scenario}-"))
    agents = bench_env.service("add-agents", [c["conversationId"] for c in conversations])
    run_loop(log_in_agents(server.url, agents))
    for conversation, agent in zip(conversations, agents, strict=True):
        conversation["agent"] = agent
    procs = min(args.client_procs, len(conversations))
    specs = [
        WorkerSpec(
            url=server.url,
            scenario=scenario,
            conversations=conversations[worker::procs],
            seconds=args.seconds,
            window=args.window,
            rate=args.rate * len(conversations[worker::procs]) / len(conversations),
            worker=worker,
            workers=procs,
        )
        for worker in range(procs)
    ]
    profiler = Profiler(server, profile_path(args, bench_env, scenario))
    if procs == 1:
        barrier = threading.Barrier(2)
        sampler = ServerSampler(server, barrier, args.seconds, profiler, [os.getpid()])
        sampler.start()
        results = [run_loop(worker_main(specs[0], barrier))]
    else:
        results, sampler = _run_in_processes(specs, server, args.seconds, profiler)
    sampler.join(timeout=args.seconds + 60)
    if failures := [r["failure"] for r in results if "failure" in r]:
        raise RuntimeError("a client worker failed:\n" + failures[0])
    summary = summarize_traffic(results, scenario, args)
    summary["cpuPercent"] = sampler.cpu
    summary["serverRssMb"] = sampler.rss_mb
    summary["storage"] = bench_env.service("count-messages", [c["conversationId"] for c in conversations])
    summary["profile"] = sampler.profile
    return summary


def profile_path(args: argparse.Namespace, bench_env: Environment, scenario: str) -> Path | None:
    if not args.profile:
        return None
    backends = bench_env.database + ("-redis" if bench_env.redis else "")
    return RESULTS_DIR / f"profile-{scenario}-{backends}.txt"


def _run_in_processes(specs: list[WorkerSpec], server: Server, seconds: float, profiler: Profiler):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(specs) + 1)
    results_queue = context.Queue()
    processes = [context.Process(target=worker_process, args=(spec, barrier, results_queue)) for spec in specs]
    for process in processes:
        process.start()
    sampler = ServerSampler(server, barrier, seconds, profiler, [p.pid for p in processes])
    sampler.start()
    results = {}
    deadline = time.monotonic() + BARRIER_TIMEOUT + seconds + 2 * DRAIN_TIMEOUT + 60
    try:
        while len(results) < len(specs):
            try:
                worker, result = results_queue.get(timeout=1)
            except queue.Empty:
                if time.monotonic() > deadline or not any(p.is_alive() for p in processes):
                    raise RuntimeError("client workers stopped without a result") from None
                continue
            results[worker] = result
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
    return [results[w] for w in sorted(results)], sampler


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency_figures(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {
        "count": len(ms),
        "p50": percentile(ms, 0.50),
        "p90": percentile(ms, 0.90),
        "p99": percentile(ms, 0.99),
        "max": max(ms) if ms else math.nan,
    }


def summarize_traffic(results: list[dict], scenario: str, args: argparse.Namespace) -> dict:
    sent = acked = delivered = lost = delivered_unacked = in_window = 0
    ack_latencies, delivery_latencies = [], []
    errors: Counter = Counter()
    duplicates = unexpected = out_of_order = 0
    max_lag = sending_seconds = 0.0
    for r in results:
        stop_at = r["started"] + r["seconds"]
        sent += len(r["sent"])
        acked += len(r["acked"])
        for request_id, acked_at in r["acked"].items():
            delivered_at = r["delivered"].get(request_id)
            if delivered_at is None:
                lost += 1
                continue
            delivered += 1
            if acked_at <= stop_at and delivered_at <= stop_at:
                in_window += 1
            ack_latencies.append(acked_at - r["sent"][request_id])
            delivery_latencies.append(delivered_at - r["sent"][request_id])
        delivered_unacked += sum(1 for request_id in r["delivered"] if request_id not in r["acked"])
        errors.update(r["errors"])
        duplicates += r["duplicates"]
        unexpected += r["unexpected"]
        out_of_order += r["outOfOrder"]
        max_lag = max(max_lag, r["maxSendLag"])
        sending_seconds = max(sending_seconds, r["sendingSeconds"])
    return {
        "scenario": scenario,
        "conversations": args.conversations,
        "seconds": args.seconds,
        "window": args.window if scenario == "throughput" else None,
        "targetRate": args.rate if scenario == "latency" else None,
        "sent": sent,
        "sentPerSecond": sent / sending_seconds if sending_seconds else 0.0,
        "acked": acked,
        "notAcked": sent - acked - sum(errors.values()),
        "deliveredOfAcked": delivered,
        "lost": lost,
        "deliveredWithoutAck": delivered_unacked,
        "duplicates": duplicates,
        "unexpected": unexpected,
        "outOfOrder": out_of_order,
        "errors": dict(errors),
        "storedAndDeliveredPerSecond": in_window / args.seconds,
        "ackLatencyMs": latency_figures(ack_latencies),
        "deliveryLatencyMs": latency_figures(delivery_latencies),
        "maxSendLagMs": 1000 * max_lag,
    }


# ---------------------------------------------------------------- scenario 3: memory


def run_memory(bench_env: Environment, server: Server, args: argparse.Namespace) -> dict:
    joining = Profiler(server, profile_path(args, bench_env, "memory-joining"))
    idle = Profiler(server, profile_path(args, bench_env, "memory-idle"))
    return run_loop(_idle_connections(server, args.idle, joining, idle))


async def _idle_connections(server: Server, count: int, profiler: Profiler, idle_profiler: Profiler) -> dict:
    """RSS of the server before and after `count` customers connect and join (their
    conversations are started first, so the figure is what the sockets cost)."""
    url = server.url
    rss_started = server.rss_mb()
    async with shared_http_session() as http:
        # Warm up (lazy imports, caches) with a few full connections before measuring.
        warm = await start_conversations(url, 5, prefix="warm-")
        clients = await bounded_gather([connect_and_join(url, http, c["conversationId"], c["customer"]) for c in warm])
        await disconnect_all(clients)
        conversations = await start_conversations(url, count, prefix="idle-")
        await asyncio.sleep(1)
        rss_before = server.rss_mb()
        started = time.perf_counter()
        profiler.start()
        joined = await bounded_gather(
            [connect_and_join(url, http, c["conversationId"], c["customer"]) for c in conversations],
            return_exceptions=True,
        )
        connect_seconds = time.perf_counter() - started
        profile = await asyncio.to_thread(profiler.stop)
        clients = [j for j in joined if not isinstance(j, BaseException)]
        failures = [repr(j) for j in joined if isinstance(j, BaseException)]
        await asyncio.sleep(1)
        # What the server does with nobody talking: pings, and routing sweeps of the queue
        # where these customers wait for an agent.
        cpu_idle_start = server.cpu_seconds()
        idle_profiler.start()
        await asyncio.sleep(IDLE_WINDOW)
        idle_cpu = 100 * (server.cpu_seconds() - cpu_idle_start) / IDLE_WINDOW
        idle_profile = await asyncio.to_thread(idle_profiler.stop)
        rss_connected = server.rss_mb()
        still_connected = sum(1 for client in clients if client.connected)
        await disconnect_all(clients)
        await asyncio.sleep(2)
        rss_disconnected = server.rss_mb()
    per_1000 = (rss_connected - rss_before) * 1000 / max(1, len(clients))
    return {
        "scenario": "memory",
        "idle": count,
        "connected": still_connected,
        "failures": len(failures),
        "firstFailure": failures[0] if failures else None,
        "connectAndJoinSeconds": connect_seconds,
        "rssStartedMb": rss_started,
        "rssBeforeMb": rss_before,
        "rssConnectedMb": rss_connected,
        "rssDisconnectedMb": rss_disconnected,
        "mbPer1000": per_1000,
        "idleCpuPercent": idle_cpu,
        "profile": (["while joining:", *profile] if profile else [])
        + (["while idle:", *idle_profile] if idle_profile else []),
    }


# ---------------------------------------------------------------- the run


def revision() -> str:
    """The commit measured, and whether the app's files differed from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!bench"], capture_output=True, text=True, cwd=ROOT
        )
    except OSError:
        return "an unknown revision"
    if head.returncode != 0:
        return "an unknown revision"
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def machine() -> dict:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ramGb": round(total_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "clientLoop": loop_name(),
        "revision": revision(),
    }


def raise_open_files_limit() -> None:
    """1,000 idle sockets need more than the usual 1,024 descriptors (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def bounded(kind, low, high):
    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["all", "throughput", "latency", "memory"], default="all")
    parser.add_argument("--conversations", type=bounded(int, 1, 1000), default=100, help="default 100")
    parser.add_argument("--seconds", type=bounded(float, 1, 120), default=10.0, help="per scenario, default 10")
    parser.add_argument(
        "--window", type=bounded(int, 1, 32), default=2, help="throughput: messages in flight per customer (default 2)"
    )
    parser.add_argument(
        "--rate", type=bounded(float, 1, 20000), default=500.0, help="latency: total msgs/s (default 500)"
    )
    parser.add_argument(
        "--idle", type=bounded(int, 1, 5000), default=1000, help="memory: idle connections (default 1000)"
    )
    parser.add_argument("--client-procs", type=bounded(int, 1, 16), default=1, help="client processes (default 1)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to create a throw-away bench_<random> database on, "
        "e.g. postgres://postgres@127.0.0.1:5432/test (default: a temporary SQLite file)",
    )
    parser.add_argument("--redis-url", help="enable the Redis client manager, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--profile", action="store_true", help="record the server with py-spy into bench/results/")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    raise_open_files_limit()
    scenarios = ["throughput", "latency", "memory"] if args.scenario == "all" else [args.scenario]
    report = {"machine": machine(), "settings": {k: str(v) for k, v in vars(args).items()}, "results": []}
    print_header(report["machine"], args)
    with environment(database_url=args.database_url, redis_url=args.redis_url) as bench_env:
        report["database"] = bench_env.database
        report["redis"] = bench_env.redis
        for scenario in scenarios:
            # A fresh server process per scenario, so that one's heap does not colour the next.
            with running_server(bench_env, scenario) as server:
                if scenario == "memory":
                    result = run_memory(bench_env, server, args)
                else:
                    result = run_traffic(bench_env, server, args, scenario)
                result["serverProblems"] = server.problems()
                result["serverFirstTraceback"] = server.first_traceback()
            report["results"].append(result)
            print_result(result)
    print_verdict(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


# ---------------------------------------------------------------- printing


def print_header(info: dict, args: argparse.Namespace) -> None:
    database = "PostgreSQL (throw-away database)" if args.database_url else "SQLite (temporary file)"
    manager = "Redis manager" if args.redis_url else "in-memory manager"
    print(f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['ramGb']} GB RAM, Python {info['python']}")
    print(f"Server: manage.py serve at {info['revision']}, {database}, {manager}")
    print(
        f"Clients: python-socketio AsyncClient over websocket on {info['clientLoop']}, "
        f"{args.client_procs} process(es), on the same machine as the server"
    )
    print()


def _latency_line(figures: dict) -> str:
    return (
        f"p50 {figures['p50']:.1f} ms, p90 {figures['p90']:.1f} ms, p99 {figures['p99']:.1f} ms, "
        f"max {figures['max']:.1f} ms (n={figures['count']})"
    )


def print_result(r: dict) -> None:
    if r["scenario"] == "memory":
        print(f"== memory: {r['idle']} idle customer sockets (init + connect + join)")
        print(
            f"  connected and joined   {r['connected']} ({r['failures']} failed) in {r['connectAndJoinSeconds']:.1f} s "
            f"({r['idle'] / r['connectAndJoinSeconds']:.0f} joins/s, {SETUP_CONCURRENCY} at a time)"
        )
        if r["firstFailure"]:
            print(f"  first failure          {r['firstFailure']}")
        print(
            f"  server RSS             {r['rssStartedMb']:.1f} MB at start, {r['rssBeforeMb']:.1f} MB before, "
            f"{r['rssConnectedMb']:.1f} MB connected, {r['rssDisconnectedMb']:.1f} MB after disconnecting"
        )
        print(f"  per 1,000 connections  {r['mbPer1000']:.1f} MB")
        print(f"  server CPU while idle  {r['idleCpuPercent']:.0f}% of one core, over {IDLE_WINDOW:.0f} s")
    else:
        if r["scenario"] == "throughput":
            print(
                f"== throughput: {r['conversations']} conversations, {r['window']} in flight per customer, "
                f"{r['seconds']:.0f} s"
            )
            print(f"  stored and delivered   {r['storedAndDeliveredPerSecond']:.0f} msgs/s")
        else:
            print(
                f"== latency: {r['targetRate']:.0f} msgs/s over {r['conversations']} conversations, "
                f"{r['seconds']:.0f} s"
            )
            print(
                f"  sent                   {r['sentPerSecond']:.0f} msgs/s (latest send {r['maxSendLagMs']:.1f} ms "
                "behind schedule)"
            )
            print(f"  delivery latency       {_latency_line(r['deliveryLatencyMs'])}")
        print(
            f"  sent / acked           {r['sent']} / {r['acked']}; errors {r['errors'] or 'none'}; "
            f"no ack within {DRAIN_TIMEOUT:.0f} s of the end: {r['notAcked']}"
        )
        print(
            f"  delivered to agents    {r['deliveredOfAcked']} of {r['acked']} acked; lost {r['lost']}, "
            f"duplicates {r['duplicates']}, out of order {r['outOfOrder']}, unexpected {r['unexpected']}, "
            f"delivered without ack {r['deliveredWithoutAck']}"
        )
        print(
            f"  stored (database)      {r['storage']['chatMessages']} chat messages, "
            f"{r['storage']['conversationsWithGaps']} conversations with sequence gaps"
        )
        print(f"  ack latency            {_latency_line(r['ackLatencyMs'])}")
        if r["scenario"] == "throughput":
            print(f"  delivery latency       {_latency_line(r['deliveryLatencyMs'])}")
        cpu = r["cpuPercent"]
        print(
            f"  CPU                    server {cpu['server']:.0f}%, clients {cpu['clients']:.0f}%, "
            f"PostgreSQL+Redis {cpu['services']:.0f}%, other processes {cpu['others']:.0f}% "
            f"(100% = one core of {os.cpu_count()}); "
            f"server RSS {r['serverRssMb']:.0f} MB"
        )
        if cpu["others"] > BUSY_MACHINE:
            print("  WARNING                other processes were busy in the window; the figures understate the server")
    for line in r.get("profile", []):
        print(f"  {line}")
    if r["serverProblems"]:
        print(f"  server log: {len(r['serverProblems'])} error lines, first: {r['serverProblems'][0]}")
        for line in r["serverFirstTraceback"]:
            print(f"    | {line}")
    print()


def print_verdict(report: dict) -> None:
    print("== targets")
    for r in report["results"]:
        if r["scenario"] == "throughput":
            value = r["storedAndDeliveredPerSecond"]
            ok = value >= TARGETS["throughput"] and r["lost"] == 0
            claim = f">= {TARGETS['throughput']:.0f} stored-and-delivered msgs/s, none lost"
            measured = f"{value:.0f} msgs/s, {r['lost']} lost"
        elif r["scenario"] == "latency":
            p99 = r["deliveryLatencyMs"]["p99"]
            ok = p99 < TARGETS["p99_ms"] and r["lost"] == 0 and r["sent"] == r["acked"]
            claim = f"delivery p99 < {TARGETS['p99_ms']:.0f} ms at {r['targetRate']:.0f} msgs/s, all acked"
            measured = f"{p99:.1f} ms, {r['acked']} of {r['sent']} acked, {r['lost']} lost"
        else:
            ok = r["mbPer1000"] <= TARGETS["mb_per_1000"] and r["failures"] == 0
            claim = f"<= {TARGETS['mb_per_1000']:.0f} MB per 1,000 idle connections"
            measured = f"{r['mbPer1000']:.1f} MB"
        print(f"  {'MET    ' if ok else 'NOT MET'}  {claim}: {measured}")


if __name__ == "__main__":
    sys.exit(main())
