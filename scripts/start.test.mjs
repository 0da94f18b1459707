// `node --test scripts/start.test.mjs` (part of `npm test`): `npm start` that cannot start
// says why in one line on stderr, naming the variable to change, and exits non-zero.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./start.mjs', import.meta.url));

function start(env) {
  const clean = { ...process.env };
  for (const key of ['PORT', 'HOST', 'CHAT_DB', 'DEMO_PORT', 'DEMO_HOST', 'NODE_OPTIONS']) delete clean[key];
  const child = spawn(process.execPath, [script], { env: { ...clean, CHAT_DB: ':memory:', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

async function holdPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => server.close() };
}

/** One line; when the SDK's build was stale, its build output may come first (npm test builds before this). */
function assertOneLine(run, code, line) {
  assert.equal(run.code, code);
  assert.equal(run.stdout, '');
  assert.doesNotMatch(run.stderr, /\n\s+at |Error:/);
  const lines = run.stderr.trimEnd().split('\n');
  if (!run.stderr.startsWith('[start] building @chat/sdk')) assert.equal(lines.length, 1, run.stderr);
  assert.match(lines.at(-1), line);
}

test('the demo port is taken', async () => {
  const held = await holdPort();
  try {
    const run = await start({ PORT: '0', DEMO_PORT: String(held.port) });
    assertOneLine(run, 1, new RegExp(`^\\[start\\] port ${held.port} on 127\\.0\\.0\\.1 is taken \\(the demo's\\); set DEMO_PORT to a free port`));
  } finally {
    held.close();
  }
});

test("the server's port is taken", async () => {
  const held = await holdPort();
  try {
    const run = await start({ PORT: String(held.port), DEMO_PORT: '0' });
    assertOneLine(run, 1, new RegExp(`^port ${held.port} on 127\\.0\\.0\\.1 is taken .*; set PORT to a free port`));
  } finally {
    held.close();
  }
});

test('values that cannot be read', async () => {
  assertOneLine(await start({ DEMO_PORT: 'next' }), 2, /^\[start\] DEMO_PORT must be an integer from 0 to 65535, got "next"$/);
  assertOneLine(await start({ PORT: '0', DEMO_PORT: '0', LOG_LEVEL: 'chatty' }), 2, /^LOG_LEVEL must be silent, error, warn, info or debug, got "chatty"$/);
});
