"""The bench against its yardstick: the chat server and a bare python-socketio echo under
daphne (bench/echo.py), in the same run, each pinned to CPU 0, driven by the official
socket.io-client generator (bench/node/loadgen.js) pinned to CPU 1. The machine is shared and
noisy, so every chat server figure is also printed as a ratio to the echo measured just before.

    .venv/bin/python bench/compare.py                       # throughput, rate, overload; SQLite
    .venv/bin/python bench/compare.py --scenario throughput --rounds 3
    .venv/bin/python bench/compare.py --scenario two-processes \\
        --database-url postgres://postgres@127.0.0.1:5432/perf --redis-url redis://127.0.0.1:6379/8

Scenarios (see bench/README.md):
- throughput: 100 conversations, 8 messages in flight each, --seconds after 2 s of warm-up;
- rate: 1,000 conversations and 1,000 agents at 1 msg/s each (setting them up is the storm:
  1,000 customers joining 50 at a time, offered and accepted);
- storm: the rate scenario's set-up alone (1,000 agents log in and go ready, then 1,000
  customers init, join and are offered and accepted, 50 at a time), timed;
- restart: the storm's set-up, one message from each customer, then the server restarted on
  its port: 1,000 agents reconnect and 1,000 customers rejoin with lastSequence, timed, and
  each agent must have its customer's message;
- overload: 100 conversations offered --overload-rate msgs/s in total for 30 s; BUSY acks are
  retried with the same requestId; the server's peak RSS is sampled;
- two-processes: customers on one `serve`, agents on another, sharing PostgreSQL and Redis.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from server import PYTHON, ROOT, environment, free_port, machine_busy_seconds, running_server  # noqa: E402

NODE_MODULES = HERE / "node_modules"
ECHO = [
    PYTHON,
    "-c",
    "import asyncio, sys, uvloop; asyncio.set_event_loop_policy(uvloop.EventLoopPolicy());"
    "sys.path.insert(0, 'bench'); from daphne.cli import CommandLineInterface;"
    "CommandLineInterface().run(['-b', '127.0.0.1', '-p', sys.argv[1], 'echo:app'])",
]
ECHO_PROBE = "/socket.io/?EIO=4&transport=polling"


def ensure_node_modules() -> None:
    if not (NODE_MODULES / "socket.io-client").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


def generate(url: str, *options: str, agent_url: str | None = None, cpu: int | None = 1) -> dict:
    argv = ["node", str(HERE / "node" / "loadgen.js"), f"--url={url}", *options]
    if agent_url:
        argv.append(f"--agent-url={agent_url}")
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"the generator printed nothing:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


class Watch:
    """CPU of the servers and of the whole machine over a run, and the servers' peak RSS."""

    def __init__(self, servers):
        self.servers = servers
        self.peak_rss_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self):
        self.t0, self.busy0 = time.monotonic(), machine_busy_seconds()
        self.cpu0 = [s.cpu_seconds() for s in self.servers]
        self.start_rss_mb = sum(s.rss_mb() for s in self.servers)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.25):
            try:
                self.peak_rss_mb = max(self.peak_rss_mb, sum(s.rss_mb() for s in self.servers))
            except (OSError, RuntimeError):
                return

    def __exit__(self, *exc):
        self._stop.set()
        wall = time.monotonic() - self.t0
        server_cpu = sum(s.cpu_seconds() - c for s, c in zip(self.servers, self.cpu0, strict=True))
        self.figures = {
            "server_cpu": round(server_cpu / wall, 2),
            "machine_cpu": round((machine_busy_seconds() - self.busy0) / wall, 2),
            "rss_mb_start": round(self.start_rss_mb, 1),
            "rss_mb_peak": round(self.peak_rss_mb, 1),
        }


def echo_run(bench_env, args) -> dict:
    with running_server(bench_env, "echo", cpu=0, command=ECHO, probe=ECHO_PROBE) as echo:
        time.sleep(1)
        with Watch([echo]) as watch:
            result = generate(echo.url, "--flow=echo", "--conversations=100", "--window=8", f"--seconds={args.seconds}")
    return result | watch.figures


def chat_run(bench_env, name: str, options: list[str], *, processes: int = 1) -> dict:
    pin = 0 if processes == 1 else None
    bench_env.service("forget-conversations", None)
    with running_server(bench_env, f"{name}-a", cpu=pin) as first:
        if processes == 1:
            time.sleep(1)
            with Watch([first]) as watch, profiled(first, name):
                result = generate(first.url, *options)
            errors = first.problems()
        else:
            with running_server(bench_env, f"{name}-b") as second:
                time.sleep(1)
                with Watch([first, second]) as watch:
                    result = generate(first.url, *options, agent_url=second.url, cpu=None)
                errors = first.problems() + second.problems()
    return result | watch.figures | {"server_errors": len(errors), "first_server_errors": errors[:5]}


def restart_run(bench_env, conversations: int) -> dict:
    """The routed set-up, one message per conversation, then the server restarted on its port;
    the generator times the reconnects and rejoins (bench/node/loadgen.js --restart-marker)."""
    bench_env.service("forget-conversations", None)
    marker = bench_env.workdir / "restart-marker"
    done = marker.with_name(marker.name + ".done")
    marker.unlink(missing_ok=True)
    done.unlink(missing_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["taskset", "-c", "1", "node", str(HERE / "node" / "loadgen.js"), f"--url={url}"]
    argv += [f"--conversations={conversations}", f"--restart-marker={marker}"]
    with running_server(bench_env, "restart-before", cpu=0, port=port):
        generator = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while not marker.exists() and generator.poll() is None:
            time.sleep(0.1)
    restarted_at = time.monotonic()
    with running_server(bench_env, "restart-after", cpu=0, port=port) as after:
        started_s = time.monotonic() - restarted_at
        done.write_text("answering\n")
        with Watch([after]) as watch:
            out, err = generator.communicate(timeout=900)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"the generator printed nothing:\n{err[-3000:]}")
    if failures := [line for line in err.splitlines() if "failed; first" in line]:
        print("  the generator:", *failures[:5], sep="\n  ", flush=True)
    return json.loads(lines[-1]) | {"server_start_s": round(started_s, 2)} | watch.figures


PROFILE_DIR: Path | None = None


class profiled:
    """py-spy on the server for the run, into bench/results/profile-<name>.txt (--profile)."""

    def __init__(self, server, name: str):
        self.server, self.name = server, name

    def __enter__(self):
        self.process = None
        if PROFILE_DIR is not None:
            PROFILE_DIR.mkdir(parents=True, exist_ok=True)
            spy = Path(PYTHON).parent / "py-spy"
            out = PROFILE_DIR / f"profile-{self.name}.txt"
            self.process = subprocess.Popen(
                [str(spy), "record", "--gil", "-r", "200", "-f", "raw", "-o", str(out), "-p", str(self.server.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self

    def __exit__(self, *exc):
        if self.process is not None:
            self.process.send_signal(2)
            self.process.wait(timeout=30)


def efficiency(r: dict) -> float:
    """Messages per second of server CPU: what a shared, busy machine changes least (the
    server gets whatever share of its core the others leave; this is per share)."""
    return r["msgs_s"] / r["server_cpu"] if r.get("server_cpu") and r.get("msgs_s") else 0.0


def line(label: str, r: dict, echo: dict | None = None) -> str:
    if r.get("error"):
        return f"{label}: ERROR {r['error']}"
    lat = r["lat_ms"]
    per_cpu = r["msgs_s"] / r["server_cpu"] if r.get("server_cpu") else 0
    text = (
        f"{label}: {r['msgs_s']:,.0f} msgs/s delivered"
        + (f" ({r['msgs_s'] / echo['msgs_s']:.0%} of the echo)" if echo and echo.get("msgs_s") else "")
        + f", {per_cpu:,.0f} per second of server CPU"
        + (f" ({per_cpu / efficiency(echo):.0%} of the echo's)" if echo and efficiency(echo) else "")
        + f"; latency p50 {lat['p50']} / p99 {lat['p99']} / max {lat['max']} ms"
        + f"; sent {r['sent']:,}, delivered {r['delivered']:,}, lost {r['lost']}, dup {r['dup']}"
        + f", out of order {r['out_of_order']}, BUSY {r.get('busy', 0):,}, refused {r.get('refused', 0)}"
        + f", unanswered {r.get('unanswered', 0)}"
        + f"; server CPU {r['server_cpu']:.2f}, machine {r['machine_cpu']:.2f} of 2"
        + f", RSS {r['rss_mb_start']:.0f} -> peak {r['rss_mb_peak']:.0f} MB"
    )
    if r.get("busy") and r.get("lat_accepted_ms"):
        accepted = r["lat_accepted_ms"]
        text += f"; accepted attempts: p50 {accepted['p50']} / p99 {accepted['p99']} ms"
    if r.get("setup"):
        text += f"; set-up {r['setup']}"
    if r.get("server_errors"):
        text += f"; {r['server_errors']} ERROR lines in the server log, first: {r['first_server_errors']}"
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scenario",
        choices=["all", "throughput", "rate", "storm", "restart", "overload", "two-processes"],
        default="all",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--overload-rate",
        type=int,
        help="msgs/s offered in total (default: 3 x the throughput measured in this run, else 2,500)",
    )
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", action="store_true", help="py-spy the chat server into bench/results/")
    args = parser.parse_args(argv)
    if args.profile:
        global PROFILE_DIR
        PROFILE_DIR = HERE / "results"
    ensure_node_modules()
    wanted = ["throughput", "rate", "overload"] if args.scenario == "all" else [args.scenario]
    report = {
        "revision": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "runs": [],
    }
    os.environ.setdefault("CHAT_BENCH_AGENT_PASSWORD", "bench-password-1")
    with environment(database_url=args.database_url, redis_url=args.redis_url) as bench_env:
        backends = f"{bench_env.database}{' + Redis' if bench_env.redis else ''}"
        print(f"revision {report['revision']}, {backends}; server on CPU 0, generator on CPU 1", flush=True)
        agents = 1000 if {"rate", "storm", "restart"} & set(wanted) else 100
        bench_env.service("routed-agents", agents)
        for round_number in range(1, args.rounds + 1):
            for scenario in wanted:
                if scenario == "throughput":
                    echo = echo_run(bench_env, args)
                    print(line(f"[{round_number}] echo, daphne", echo), flush=True)
                    ours = chat_run(
                        bench_env, "throughput", ["--conversations=100", "--window=8", f"--seconds={args.seconds}"]
                    )
                    print(line(f"[{round_number}] chat server", ours, echo), flush=True)
                    report["runs"].append({"scenario": scenario, "echo": echo, "chat": ours})
                elif scenario == "rate":
                    ours = chat_run(bench_env, "rate", ["--conversations=1000", "--rate=1", "--seconds=20"])
                    print(line(f"[{round_number}] 1,000 x 1 msg/s", ours), flush=True)
                    report["runs"].append({"scenario": scenario, "chat": ours})
                elif scenario == "storm":
                    with_cpu = chat_run(bench_env, "storm", ["--conversations=1000", "--rate=1", "--seconds=1"])
                    print(line(f"[{round_number}] the storm: 1,000 agents ready, 1,000 customers joined", with_cpu))
                    report["runs"].append({"scenario": scenario, "chat": with_cpu})
                elif scenario == "restart":
                    ours = restart_run(bench_env, 1000)
                    print(
                        f"[{round_number}] restart: {ours.get('restart') or ours.get('error')};"
                        f" set-up {ours.get('setup')};"
                        f" the new server answered {ours['server_start_s']} s after the old one stopped;"
                        f" server CPU {ours['server_cpu']:.2f} of its core while they came back",
                        flush=True,
                    )
                    report["runs"].append({"scenario": scenario, "chat": ours})
                elif scenario == "overload":
                    measured = [r["chat"].get("msgs_s") for r in report["runs"] if r["scenario"] == "throughput"]
                    offered = args.overload_rate or (3 * round(measured[-1]) if measured and measured[-1] else 2500)
                    per_conversation = offered / 100
                    ours = chat_run(
                        bench_env,
                        "overload",
                        ["--conversations=100", f"--rate={per_conversation}", "--seconds=30", "--warmup=0"],
                    )
                    print(line(f"[{round_number}] overload {offered:,} msgs/s offered", ours), flush=True)
                    report["runs"].append({"scenario": scenario, "chat": ours})
                elif scenario == "two-processes":
                    options = ["--conversations=100", "--window=8", f"--seconds={args.seconds}"]
                    one = chat_run(bench_env, "one", options)
                    print(line(f"[{round_number}] one process", one), flush=True)
                    two = chat_run(bench_env, "two", options, processes=2)
                    print(line(f"[{round_number}] two processes (customers on one, agents on the other)", two))
                    report["runs"].append({"scenario": scenario, "one": one, "two": two})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
