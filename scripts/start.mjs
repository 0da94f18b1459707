#!/usr/bin/env node
// `npm start`: builds what is missing, starts the reference server and serves the demo app,
// then prints the one url to open. Ctrl-C (or SIGTERM) stops both. A failure to start is one
// line on stderr saying what to change (PORT for the server, DEMO_PORT for the demo), exit non-zero.
//
//   PORT, HOST, CHAT_DB, ...  the reference server's settings (docs/server.md)
//   DEMO_PORT                 the demo's port (default 5173; the next free one if taken)
//   DEMO_HOST                 the demo's interface (default 127.0.0.1)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const demoDir = join(root, 'examples/demo-app');
const distDir = join(demoDir, 'dist');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const log = (line) => process.stderr.write(`[start] ${line}\n`);

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Stops what was started (the server, the demo's web server) and exits with `code`. */
let server;
let web;
let building;
let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  building?.kill('SIGTERM');
  web?.closeAllConnections?.();
  web?.close();
  if (!server || server.exitCode !== null || server.signalCode !== null) process.exit(code);
  server.once('exit', () => process.exit(code));
  server.kill('SIGTERM');
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** One line saying what is wrong and what to change, then stop everything. */
function fail(line, code = 1) {
  log(line);
  stop(code);
}

function run(args, cwd = root) {
  // Build output goes to stderr: stdout ends with the url to open.
  return new Promise((resolve) => {
    const child = (building = spawn(npm, args, { cwd, stdio: ['ignore', 2, 2] }));
    child.on('error', (error) => fail(`npm ${args.join(' ')} could not run: ${error.message}`));
    child.on('exit', (code, signal) => {
      building = undefined;
      if (code === 0) resolve();
      else if (!stopping) fail(`npm ${args.join(' ')} failed (${signal ?? `exit ${code}`}; its output is above)`, code || 1);
    });
  });
}

// 0. The demo's port, read before anything is built.
const demoHost = process.env.DEMO_HOST?.trim() || '127.0.0.1';
const demoPortSet = Boolean(process.env.DEMO_PORT?.trim());
let demoPort = demoPortSet ? Number(process.env.DEMO_PORT) : 5173;
if (!Number.isInteger(demoPort) || demoPort < 0 || demoPort > 65535) {
  log(`DEMO_PORT must be an integer from 0 to 65535, got "${process.env.DEMO_PORT}"`);
  process.exit(2);
}

// 1. The server imports @chat/sdk/protocol from the SDK's build: build it when missing or older than its sources.
const sdkBuilt = join(root, 'packages/chat-sdk/dist/protocol/index.js');
if (!existsSync(sdkBuilt) || statSync(sdkBuilt).mtimeMs < newest(join(root, 'packages/chat-sdk/src/protocol'))) {
  log('building @chat/sdk …');
  await run(['run', 'build', '-w', '@chat/sdk']);
}

// 2. The demo's port, taken first (the page is served once it is built), so that a taken
//    port is one line before anything else starts.
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.map': 'application/json', '.png': 'image/png' };
let index = '<!doctype html><meta http-equiv="refresh" content="1"><p>Building the demo …</p>';
web = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = normalize(join(distDir, path));
  if (path === '/' || !extname(path) || !file.startsWith(distDir + sep)) {
    res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-cache' }).end(index);
    return;
  }
  try {
    const body = readFileSync(file);
    const immutable = path.startsWith('/assets/');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
});

const listened = await new Promise((resolve) => {
  web.on('error', (error) => {
    // Unset DEMO_PORT: the next free port, a few tries, then any.
    if (error.code === 'EADDRINUSE' && !demoPortSet) {
      demoPort = demoPort === 0 || demoPort >= 5173 + 20 ? 0 : demoPort + 1;
      web.listen(demoPort, demoHost);
      return;
    }
    resolve(error);
  });
  web.on('listening', () => resolve(null));
  web.listen(demoPort, demoHost);
});
if (listened) {
  const error = listened;
  if (error.code === 'EADDRINUSE') fail(`port ${demoPort} on ${demoHost} is taken (the demo's); set DEMO_PORT to a free port, or leave it unset to take the next free one`);
  else if (error.code === 'EACCES') fail(`not allowed to listen on port ${demoPort} on ${demoHost} (the demo's; ports below 1024 need privileges); set DEMO_PORT to a port above 1023`);
  else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') fail(`DEMO_HOST=${demoHost} is not an address of this machine; set DEMO_HOST to one (default 127.0.0.1)`);
  else fail(`cannot serve the demo on ${demoHost}:${demoPort}: ${error.message}`);
  await new Promise(() => {}); // stop() exits
}

// 3. The reference server, before the demo's build so that a taken port or a bad setting
//    stops us at once. In this process group so Ctrl-C reaches it too. When it cannot start it
//    says why in one line on stderr (which it shares with us), and we exit with its code.
server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--dev'], {
  cwd: join(root, 'examples/mock-server'),
  env: process.env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let ready = false;
server.on('exit', (code, signal) => {
  if (stopping) return;
  if (!ready && code) {
    // It said why on stderr, in one line; nothing else was started but maybe a build.
    stopping = true;
    building?.kill('SIGTERM');
    process.exit(code);
  }
  if (code === 0) return stop(0); // it only exits 0 when signalled, e.g. by the same Ctrl-C as us
  fail(`the chat server stopped (${signal ?? `exit ${code}`})`, code || 1);
});

const httpUrl = await new Promise((resolve) => {
  let buffered = '';
  server.stdout.setEncoding('utf8');
  server.stdout.on('data', (chunk) => {
    buffered += chunk;
    const match = /listening on (http:\/\/\S+)/.exec(buffered);
    if (match) resolve(match[1]);
  });
});
ready = true;
const wsUrl = `${httpUrl.replace(/^http/, 'ws')}/ws`;
log(`chat server: ${httpUrl} (WebSocket ${wsUrl})`);

// 4. The demo (Vite builds it from the SDK's and the React binding's sources), with the server's url put into the page.
log('building the demo app …');
await run(['run', 'build', '-w', '@chat/demo-app', '--', '--logLevel', 'warn']);
index = readFileSync(join(distDir, 'index.html'), 'utf8').replace(
  '<head>',
  `<head>\n    <meta name="chat-server" content="${wsUrl.replace(/"/g, '&quot;')}" />`,
);

const { port: actual } = web.address();
process.stdout.write(`\nChat demo ready. Open:\n\n  http://${demoHost === '0.0.0.0' ? '127.0.0.1' : demoHost}:${actual}/\n`);
