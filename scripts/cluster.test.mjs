// `node --test scripts/cluster.test.mjs` (part of `npm test`, after scripts/ensure-services.mjs):
// `npm run cluster` really balances. Two clients through HAProxy land on different server
// processes and see each other's messages (across Redis); a process killed with SIGKILL, its
// client reconnects through the balancer to a live one with its token; SIGINT stops every
// process the script started and deletes its throwaway folders.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const root = fileURLToPath(new URL('..', import.meta.url));

/** `npm run cluster` on free ports; resolves once it printed its url, with what it printed. */
function startCluster() {
  const env = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', CHAT_SAMPLE: 'off' };
  for (const key of ['CHAT_DB', 'CHAT_REDIS', 'CHAT_UPLOADS_DIR', 'HOST', 'NODE_OPTIONS']) delete env[key];
  // Its own process group, as a terminal's job is: Ctrl-C signals the whole group (npm does not
  // pass SIGINT on to the script), and so does this test.
  const child = spawn('npm', ['run', '--silent', 'cluster'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s) => {
      stdout += s;
      if (!stdout.includes('Ctrl-C stops all.')) return;
      const pids = Object.fromEntries([...stdout.match(/pids: (.*)/)[1].matchAll(/(\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
      resolve({ url: stdout.match(/ready: (ws:\/\/\S+)/)[1], pids, uploadsDir: stdout.match(/uploads: (\S+)/)[1] });
    });
    closed.then(({ code }) => reject(new Error(`npm run cluster exited (${code}) before it was ready: ${stderr.trim().split('\n').at(-1)}`)));
  });
  return { child, ready, closed, stderr: () => stderr };
}

/** A raw protocol client through the balancer, knowing which server process took it. */
async function connect(url) {
  const ws = new WebSocket(url);
  const backend = await new Promise((resolve, reject) => {
    ws.once('upgrade', (response) => resolve(response.headers['x-chat-backend']));
    ws.once('error', reject);
  });
  await new Promise((resolve) => (ws.readyState === WebSocket.OPEN ? resolve() : ws.once('open', resolve)));
  const events = [];
  const waiting = new Map();
  let next = 0;
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (frame.type === 'reply') waiting.get(frame.requestId)?.(frame);
    else events.push(frame);
  });
  const closed = new Promise((resolve) => ws.once('close', resolve));
  const call = (action, body) =>
    new Promise((resolve, reject) => {
      const requestId = `r${++next}`;
      waiting.set(requestId, (reply) => (reply.ok ? resolve(reply.data) : reject(new Error(`${action}: ${reply.error.code} ${reply.error.message}`))));
      ws.send(JSON.stringify({ action, requestId, data: body }));
    });
  /** Waits for an event `message_created` whose text is `text`. */
  const received = async (text, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (events.some((e) => e.event === 'message_created' && e.data.message.text === text)) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  };
  return { ws, backend, call, received, closed };
}

test("the balancer's port is taken: one line saying so, nothing started, exit 1", async () => {
  const held = createServer();
  await new Promise((resolve) => held.listen(0, '127.0.0.1', resolve));
  const { port } = held.address();
  try {
    const env = { ...process.env, PORT: String(port) };
    delete env.HOST;
    const run = await new Promise((resolve) => {
      const child = spawn(process.execPath, [fileURLToPath(new URL('./cluster.mjs', import.meta.url))], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (s) => (out += s));
      child.stderr.on('data', (s) => (out += s));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(run.code, 1);
    assert.equal(run.out, `[cluster] port ${port} on 127.0.0.1 is taken (the balancer's); set PORT to a free port\n`);
  } finally {
    held.close();
  }
});

test('docs/scale-out.md shows the HAProxy config the script runs, as it is', () => {
  const config = readFileSync(new URL('./cluster/haproxy.cfg', import.meta.url), 'utf8');
  const doc = readFileSync(new URL('../docs/scale-out.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(`\`\`\`haproxy\n${config}\`\`\``), 'the haproxy block of docs/scale-out.md differs from scripts/cluster/haproxy.cfg: copy the file into it');
});

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('npm run cluster: clients on different processes talk, survive a killed process, and Ctrl-C leaves nothing running', { timeout: 90_000 }, async () => {
  const cluster = startCluster();
  try {
    const { url, pids, uploadsDir } = await cluster.ready;
    assert.deepEqual(Object.keys(pids).sort(), ['haproxy', 'postgres', 'redis', 's1', 's2', 's3']);

    // Two clients land on different processes (the balancer counts open connections).
    const ada = await connect(url);
    const bob = await connect(url);
    assert.match(ada.backend, /^s[123]$/);
    assert.match(bob.backend, /^s[123]$/);
    assert.notEqual(ada.backend, bob.backend);
    const tag = Date.now().toString(36);
    await ada.call('create_user', { email: `ada-${tag}@cluster.test` });
    const { user: bobUser } = await bob.call('create_user', { email: `bob-${tag}@cluster.test` });
    const { token: adaToken } = await ada.call('create_connection', { protocolVersion: 1, email: `ada-${tag}@cluster.test` });
    await bob.call('create_connection', { protocolVersion: 1, email: `bob-${tag}@cluster.test` });
    const { room } = await ada.call('create_room', { memberIds: [bobUser.id] });
    await ada.call('create_message', { roomId: room.id, clientId: 'a1', text: 'hello from ada' });
    assert.ok(await bob.received('hello from ada'), "bob's process got ada's message");
    await bob.call('create_message', { roomId: room.id, clientId: 'b1', text: 'hello from bob' });
    assert.ok(await ada.received('hello from bob'), "ada's process got bob's message");

    // Ada's process dies: her socket closes, and she reconnects through the balancer to a live one.
    process.kill(pids[ada.backend], 'SIGKILL');
    await ada.closed;
    const adaAgain = await connect(url);
    assert.notEqual(adaAgain.backend, ada.backend);
    await adaAgain.call('create_connection', { protocolVersion: 1, token: adaToken });
    const { messages } = await adaAgain.call('get_messages', { roomId: room.id, after: 0, limit: 10 });
    assert.deepEqual(messages.map((m) => [m.seq, m.text]), [[1, 'hello from ada'], [2, 'hello from bob']]);
    await adaAgain.call('create_message', { roomId: room.id, clientId: 'a2', text: 'back again' });
    assert.ok(await bob.received('back again'), 'bob hears ada after her reconnect');

    // SIGINT (Ctrl-C) stops every process it started, and the throwaway folders go.
    process.kill(-cluster.child.pid, 'SIGINT');
    const { code, signal } = await cluster.closed;
    // npm itself dies of the SIGINT; the script under it exits 0 once all is stopped.
    assert.ok(code === 0 || signal === 'SIGINT', `npm run cluster ended ${code ?? signal}: ${cluster.stderr()}`);
    assert.doesNotMatch(cluster.stderr(), /could not store|ERROR/, 'the servers stop before the database they write to');
    const left = Object.entries(pids).filter(([, pid]) => isAlive(pid));
    assert.deepEqual(left, [], `still running after Ctrl-C: ${JSON.stringify(left)}`);
    assert.equal(existsSync(uploadsDir), false, 'the throwaway upload folder is deleted');
    bob.ws.terminate();
    adaAgain.ws.terminate();
  } finally {
    if (cluster.child.exitCode === null && cluster.child.signalCode === null) process.kill(-cluster.child.pid, 'SIGKILL');
  }
});
