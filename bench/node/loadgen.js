#!/usr/bin/env node
// The bench's load generator: the official socket.io-client, pinned by bench/compare.py to the
// core the server does not use. Prints ONE JSON line of results on stdout (progress to stderr).
//
//   --flow=echo    the bare python-socketio echo (bench/echo.py): 'join' {room}, then 'send'
//                  {room, seq, text}, relayed as 'msg' to the other socket of the room
//   --flow=routed  the chat server's real flow: N agents (bench-agent-<i>, max 1 chat) log in
//                  over REST, connect to /agent and go ready; N customers init, connect and
//                  join, JOIN_CONCURRENCY at a time; routing offers each conversation to an
//                  agent, which accepts; then customers send ChatMessages with a requestId and
//                  an ack, and the agents count messageArrived.
// Sending: --rate=0: as fast as deliveries allow, --window messages in flight per conversation
// (closed loop); --rate=R: R msgs/s per conversation (open loop). A BUSY ack is retried after
// its retryAfterMs with the same requestId (the server stored nothing), other refusals count.
// --restart-marker=PATH (routed): after the set-up each customer sends one message (acked, so
// stored), then this file is written and the bench restarts the server on the same port; when
// it answers again (the bench writes PATH.done) every agent reconnects with its token and every customer rejoins with
// lastSequence, JOIN_CONCURRENCY at a time; printed: how long that took, and how many agents
// did not get their customer's message (live before the restart, or in the resync).
// Options: --url --flow --conversations=100 --rate=0 --window=8 --seconds=10 --warmup=2
//          --join-concurrency=50 --text-bytes=64 --drain-s=10 --label=TEXT --restart-marker=PATH
'use strict';

const { performance } = require('perf_hooks');
const { io } = require('socket.io-client');

const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) { console.error(`bad argument: ${a}`); process.exit(2); }
  args[m[1]] = m[2] === undefined ? '1' : m[2];
}
const num = (k, d) => (args[k] === undefined ? d : Number(args[k]));
const cfg = {
  url: args.url || 'http://127.0.0.1:8080',
  agentUrl: args['agent-url'] || args.url || 'http://127.0.0.1:8080', // a second server process for agents
  flow: args.flow || 'routed',
  conversations: num('conversations', 100),
  rate: num('rate', 0),
  window: num('window', 8),
  seconds: num('seconds', 10),
  warmup: num('warmup', 2),
  joinConcurrency: num('join-concurrency', 50),
  textBytes: num('text-bytes', 64),
  drainS: num('drain-s', 10),
  password: process.env.CHAT_BENCH_AGENT_PASSWORD || 'bench-password-1',
  label: args.label || null,
  restartMarker: args['restart-marker'] || null,
};
const ACK_TIMEOUT_MS = 15000;
const TAG = /\|b:(\d+)$/;
const log = (...a) => console.error(`[loadgen ${new Date().toISOString().slice(11, 19)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sockets = [];
// The p-th percentile of sorted xs.
const pctOf = (xs, p) => (xs.length ? +xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)].toFixed(2) : null);

// `before(socket)` attaches handlers before it connects: what the server sends right after the
// connect can come in the same tick as the connect itself.
function connect(ns = '/', opts = {}, base = cfg.url, before = () => {}) {
  return new Promise((resolve, reject) => {
    const s = io(new URL(ns, base).toString(), {
      transports: ['websocket'], forceNew: true, reconnection: false, timeout: 20000, perMessageDeflate: false, ...opts,
    });
    sockets.push(s);
    before(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

async function post(path, body, base = cfg.url) {
  const res = await fetch(new URL(path, base), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

async function pool(n, concurrency, fn) {
  let next = 0; let errors = 0; let first = null; const out = new Array(n);
  const worker = async () => {
    while (next < n) {
      const i = next++;
      try { out[i] = await fn(i); } catch (e) { errors += 1; first = first || e; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  if (errors) log(`${errors} of ${n} failed; first: ${first && first.message}`);
  return out.filter(Boolean);
}

async function ackOf(socket, event, payload) {
  const answer = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  if (answer && answer.ok === false) throw new Error(`${event}: ${JSON.stringify(answer.error)}`);
  return answer;
}

// ------------------------------------------------------------------ set-up
async function setupEcho() {
  return pool(cfg.conversations, cfg.joinConcurrency, async (i) => {
    const room = `r${i}`;
    const [customer, agent] = await Promise.all([connect(), connect()]);
    await Promise.all([ackOf(customer, 'join', { room }), ackOf(agent, 'join', { room })]);
    return { i, key: room, customer, agent };
  });
}

async function setupRouted(timings) {
  const waitingFor = new Map(); // conversationId -> resolve(agent socket)
  const offeredEarly = new Map();
  const t0 = performance.now();
  const agents = await pool(cfg.conversations, cfg.joinConcurrency, async (i) => {
    const { token } = await post('/api/agent/login', { username: `bench-agent-${i}`, password: cfg.password }, cfg.agentUrl);
    const agent = await connect('/agent', { auth: { token } }, cfg.agentUrl);
    agent.chatToken = token;
    agent.on('conversationOffered', async (offer) => {
      const id = offer.conversation.id;
      try {
        await ackOf(agent, 'acceptConversation', { conversationId: id });
      } catch (e) { log(`accept ${id}: ${e.message}`); return; }
      const resolve = waitingFor.get(id);
      if (resolve) resolve(agent); else offeredEarly.set(id, agent);
    });
    await ackOf(agent, 'agentState', { state: 'ready' });
    return agent;
  });
  timings.agents_ready_s = +((performance.now() - t0) / 1000).toFixed(2);
  if (agents.length < cfg.conversations) throw new Error(`only ${agents.length} agents ready`);
  const t1 = performance.now();
  const steps = { init: [], connect: [], join: [], offer_accepted: [] };
  const rooms = await pool(cfg.conversations, cfg.joinConcurrency, async (i) => {
    let t = performance.now();
    const lap = (name) => { const now = performance.now(); steps[name].push(now - t); t = now; };
    const init = await post('/api/customer/init', { channel: 'web', firstName: `Bench${i}`, phone: `+1555${String(i).padStart(7, '0')}` });
    lap('init');
    const customer = await connect('/');
    lap('connect');
    const accepted = new Promise((resolve, reject) => {
      const early = offeredEarly.get(init.conversationId);
      if (early) resolve(early); else waitingFor.set(init.conversationId, resolve);
      setTimeout(() => reject(new Error(`${init.conversationId}: no offer accepted in 20 s`)), 20000).unref();
    });
    await ackOf(customer, 'joinConversation', { conversationId: init.conversationId, participant: init.participant });
    lap('join');
    const agent = await accepted;
    lap('offer_accepted');
    return { i, key: init.conversationId, customer, agent, participant: init.participant };
  });
  timings.joined_offered_accepted_s = +((performance.now() - t1) / 1000).toFixed(2);
  // Where a customer's set-up waits: each step's p50 / p99 in ms (init over REST, the socket's
  // connect, the join's ack, then until an agent's accept was acked).
  timings.customer_steps_ms = Object.fromEntries(Object.entries(steps).map(([k, v]) => { v.sort((a, b) => a - b); return [k, [pctOf(v, 50), pctOf(v, 99)]]; }));
  return rooms;
}

// ------------------------------------------------------------------ restart and resync
async function restartAndResync(rooms) {
  const fs = require('fs');
  const seen = new Map(); // conversationId -> texts the agent has seen (live or in a resync)
  const text = (i) => `before the restart ${i}`;
  const see = (id, m) => { if (m && m.text) { if (!seen.has(id)) seen.set(id, new Set()); seen.get(id).add(m.text); } };
  const lastSeq = new Map();
  for (const r of rooms) {
    r.agent.on('messageArrived', (m) => see(m.conversationId, m));
    r.customer.on('messageArrived', (m) => lastSeq.set(r.key, Math.max(lastSeq.get(r.key) || 0, m.sequence || 0)));
  }
  const sent = await pool(rooms.length, cfg.joinConcurrency, async (i) => {
    const r = rooms[i];
    const ack = await ackOf(r.customer, 'sendMessage', { conversationId: r.key, type: 'ChatMessage', text: text(r.i), requestId: `restart-${r.i}` });
    lastSeq.set(r.key, Math.max(lastSeq.get(r.key) || 0, ack.sequence));
    return ack;
  });
  const all = [...new Set(rooms.flatMap((r) => [r.customer, r.agent]))];
  const gone = Promise.all(all.map((s) => new Promise((resolve) => (s.connected ? s.once('disconnect', resolve) : resolve()))));
  fs.writeFileSync(cfg.restartMarker, 'restart\n');
  log(`${sent.length} messages stored; waiting for the restart`);
  await gone;
  // The bench writes <marker>.done once the new server answers (the old one may still answer
  // while it shuts down).
  while (!fs.existsSync(`${cfg.restartMarker}.done`)) await sleep(20);
  const t0 = performance.now();
  const agents = [...new Set(rooms.map((r) => r.agent))];
  const mine = new Map(rooms.map((r) => [r.agent, r.key]));
  const agentsBack = await pool(agents.length, cfg.joinConcurrency, async (i) => {
    const old = agents[i]; const id = mine.get(old);
    let shown;
    const resynced = new Promise((resolve, reject) => {
      shown = resolve;
      setTimeout(() => reject(new Error(`${id}: no conversationInfo in 20 s`)), 20000).unref();
    });
    const agent = await connect('/agent', { auth: { token: old.chatToken } }, cfg.agentUrl, (s) => {
      s.on('messageArrived', (m) => see(m.conversationId, m));
      s.on('conversationInfo', (info) => {
        if (info.conversation.id !== id) return;
        for (const m of info.messages) see(id, m);
        shown();
      });
    });
    await resynced;
    return agent;
  });
  const tAgents = performance.now();
  const customersBack = await pool(rooms.length, cfg.joinConcurrency, async (i) => {
    const r = rooms[i];
    const customer = await connect('/');
    await ackOf(customer, 'joinConversation', { conversationId: r.key, participant: r.participant, lastSequence: lastSeq.get(r.key) || 0 });
    return customer;
  });
  const t1 = performance.now();
  await sleep(1000); // anything still on its way to an agent
  const missing = rooms.filter((r) => !(seen.get(r.key) || new Set()).has(text(r.i))).length;
  return {
    stored_before: sent.length,
    agents_back: agentsBack.length,
    customers_back: customersBack.length,
    agents_resynced_s: +((tAgents - t0) / 1000).toFixed(2),
    resync_s: +((t1 - t0) / 1000).toFixed(2),
    missing_at_agents: missing,
  };
}

// ------------------------------------------------------------------ traffic
async function traffic(rooms) {
  const stats = { sent: 0, acked: 0, busy: 0, refused: 0, ack_timeouts: 0, delivered: 0, dup: 0, out_of_order: 0, unexpected: 0 };
  const lat = []; const latAccepted = [];
  let firstRefusal = null;
  const tStart = performance.now() + 50;
  const warmEnd = tStart + cfg.warmup * 1000;
  const stopAt = tStart + (cfg.warmup + cfg.seconds) * 1000;
  let inWindow = 0; let lastProgress = performance.now();
  const text = 'x'.repeat(cfg.textBytes);

  const emitOnce = (r, seq) => {
    const m = r.msgs[seq];
    m.tLast = performance.now(); // the attempt the server takes on: latency of accepted events
    if (cfg.flow === 'echo') { r.customer.emit('send', { room: r.key, seq, text }); return; }
    r.customer.timeout(ACK_TIMEOUT_MS).emit('sendMessage', m.payload, (err, answer) => {
      if (err) { stats.ack_timeouts += 1; return; }
      if (answer.ok) { stats.acked += 1; m.acked = true; m.sequence = answer.sequence; return; }
      if (answer.error.code === 'BUSY') {
        // Wait what the server says, doubling each time it says BUSY again (up to 5 s), so
        // that refused clients do not multiply the load they were refused for.
        stats.busy += 1;
        m.backoff = Math.min(5000, Math.max(answer.error.retryAfterMs, (m.backoff || 0) * 2));
        setTimeout(() => emitOnce(r, seq), m.backoff);
        return;
      }
      stats.refused += 1; firstRefusal = firstRefusal || answer.error;
    });
  };
  const sendNext = (r) => {
    const seq = r.next++;
    const payload = cfg.flow === 'echo' ? null : {
      conversationId: r.key, type: 'ChatMessage', from: r.participant, text: `${text}|b:${seq}`,
      requestId: `b${r.i}-${seq}`, timestamp: new Date().toISOString(),
    };
    r.msgs.push({ t: performance.now(), payload, acked: cfg.flow === 'echo', got: false });
    stats.sent += 1;
    emitOnce(r, seq);
  };
  const onDelivery = (r, seq, sequence) => {
    const now = performance.now();
    const m = r.msgs[seq];
    if (m === undefined) { stats.unexpected += 1; return; }
    if (m.got) { stats.dup += 1; return; }
    m.got = true; stats.delivered += 1; lastProgress = now;
    if (sequence !== undefined) { if (sequence <= r.lastSequence) stats.out_of_order += 1; r.lastSequence = sequence; }
    if (m.t >= warmEnd && now <= stopAt) { inWindow += 1; lat.push(now - m.t); latAccepted.push(now - m.tLast); }
    if (cfg.rate <= 0 && now < stopAt) sendNext(r);
  };
  for (const r of rooms) {
    r.next = 0; r.msgs = []; r.lastSequence = 0;
    if (cfg.flow === 'echo') r.agent.on('msg', (d) => onDelivery(r, d.seq));
    else {
      r.agent.on('messageArrived', (d) => {
        if (d.type !== 'ChatMessage') return;
        const m = typeof d.text === 'string' ? TAG.exec(d.text) : null;
        if (!m) { stats.unexpected += 1; return; }
        onDelivery(r, Number(m[1]), d.sequence);
      });
    }
  }
  await sleep(tStart - performance.now());
  if (cfg.rate <= 0) {
    for (const r of rooms) for (let k = 0; k < cfg.window; k += 1) sendNext(r);
  } else {
    const period = 1000 / cfg.rate;
    for (const r of rooms) {
      const phase = Math.random() * period;
      const tick = () => {
        if (performance.now() >= stopAt) return;
        sendNext(r);
        setTimeout(tick, Math.max(0, tStart + phase + r.next * period - performance.now()));
      };
      setTimeout(tick, Math.max(0, tStart + phase - performance.now()));
    }
  }
  await sleep(stopAt - performance.now());
  // Stragglers: wait until every acked message arrived, or nothing moved for drain-s.
  lastProgress = performance.now();
  const pending = () => rooms.reduce((n, r) => n + r.msgs.filter((m) => !m.got && (m.acked || cfg.flow === 'echo')).length, 0);
  const unanswered = () => stats.sent - stats.acked - stats.refused - stats.ack_timeouts;
  while ((pending() > 0 || (cfg.flow !== 'echo' && unanswered() > 0)) && performance.now() - lastProgress < cfg.drainS * 1000) await sleep(100);
  lat.sort((a, b) => a - b); latAccepted.sort((a, b) => a - b);
  const pct = (p) => pctOf(lat, p);
  const lost = rooms.reduce((n, r) => n + r.msgs.filter((m) => m.acked && !m.got).length, 0);
  return {
    ...stats, lost, unanswered: cfg.flow === 'echo' ? 0 : unanswered(), first_refusal: firstRefusal,
    msgs_s: +(inWindow / cfg.seconds).toFixed(1),
    lat_ms: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100), n: lat.length },
    // From the attempt that was taken on (after any BUSY) to the delivery.
    lat_accepted_ms: { p50: pctOf(latAccepted, 50), p99: pctOf(latAccepted, 99), max: pctOf(latAccepted, 100) },
  };
}

(async () => {
  const out = { label: cfg.label, flow: cfg.flow, conversations: cfg.conversations, rate: cfg.rate, window: cfg.rate > 0 ? null : cfg.window, seconds: cfg.seconds };
  try {
    const timings = {};
    const cpu0 = process.cpuUsage();
    const rooms = cfg.flow === 'echo' ? await setupEcho() : await setupRouted(timings);
    log(`${rooms.length} conversations ready (${JSON.stringify(timings)}); sending`);
    if (cfg.restartMarker) {
      Object.assign(out, { ready: rooms.length, setup: timings, restart: await restartAndResync(rooms) });
      process.stdout.write(`${JSON.stringify(out)}\n`);
      setTimeout(() => process.exit(0), 200).unref();
      return;
    }
    const result = await traffic(rooms);
    const cpu = process.cpuUsage(cpu0);
    Object.assign(out, { ready: rooms.length, setup: timings, ...result, gen_cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2) });
  } catch (e) {
    log(`error: ${e.stack || e}`);
    out.error = String(e && e.message ? e.message : e);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  for (const s of sockets) { try { s.disconnect(); } catch (e) { /* gone */ } }
  setTimeout(() => process.exit(0), 200).unref();
})();
