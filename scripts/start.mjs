#!/usr/bin/env node
// `npm start`: builds what is missing, starts the reference server and serves the demo app,
// then prints the one url to open. Ctrl-C (or SIGTERM) stops both.
//
//   PORT, HOST, CHAT_DB, ...  the reference server's settings (docs/server.md)
//   DEMO_PORT                 the demo's port (default 5173; the next free one if taken)
import { spawn, spawnSync } from 'node:child_process';
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

function run(args, cwd = root) {
  // Build output goes to stderr: stdout ends with the url to open.
  const result = spawnSync(npm, args, { cwd, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    log(`npm ${args.join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}

// 1. The server imports @chat/sdk/protocol from the SDK's build: build it when missing or older than its sources.
const sdkBuilt = join(root, 'packages/chat-sdk/dist/protocol/index.js');
if (!existsSync(sdkBuilt) || statSync(sdkBuilt).mtimeMs < newest(join(root, 'packages/chat-sdk/src/protocol'))) {
  log('building @chat/sdk …');
  run(['run', 'build', '-w', '@chat/sdk']);
}

// 2. The demo (Vite builds it from the SDK's and the React binding's sources).
log('building the demo app …');
run(['run', 'build', '-w', '@chat/demo-app', '--', '--logLevel', 'warn']);

// 3. The reference server, in this process group so Ctrl-C reaches it too.
const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: join(root, 'examples/mock-server'),
  env: process.env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let stopping = false;
server.on('exit', (code, signal) => {
  if (!stopping) {
    log(`the chat server stopped (${signal ?? `exit ${code}`})`);
    stop(code || 1);
  }
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
const wsUrl = `${httpUrl.replace(/^http/, 'ws')}/ws`;
log(`chat server: ${httpUrl} (WebSocket ${wsUrl})`);

// 4. The demo, with the server's url put into the page.
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.map': 'application/json', '.png': 'image/png' };
const index = readFileSync(join(distDir, 'index.html'), 'utf8').replace(
  '<head>',
  `<head>\n    <meta name="chat-server" content="${wsUrl.replace(/"/g, '&quot;')}" />`,
);
const web = createServer((req, res) => {
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

const host = process.env.DEMO_HOST ?? '127.0.0.1';
let port = Number(process.env.DEMO_PORT ?? 5173);
await new Promise((resolve, reject) => {
  web.on('error', (error) => {
    if (error.code === 'EADDRINUSE' && !process.env.DEMO_PORT) web.listen(++port, host);
    else reject(error);
  });
  web.on('listening', resolve);
  web.listen(port, host);
}).catch((error) => {
  log(`cannot serve the demo: ${error.message}`);
  stop(1);
});

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  web.closeAllConnections?.();
  web.close();
  if (server.exitCode !== null || server.signalCode !== null) process.exit(code);
  server.once('exit', () => process.exit(code));
  server.kill('SIGTERM');
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const { port: actual } = web.address();
process.stdout.write(`\nChat demo ready. Open:\n\n  http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}/\n`);
