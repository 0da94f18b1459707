import { startupErrorLine } from './startup-error.js';

/**
 * `npm run server`: reads the environment, starts, prints `listening on http://HOST:PORT`
 * once ready. SIGTERM or SIGINT stop accepting, close sockets with 1001, close the
 * database and exit 0. Any failure to start is one line on stderr, no stack trace: exit 2
 * for a value that cannot be read, 1 otherwise (port taken, database unusable, ...).
 */
async function main(): Promise<void> {
  // Imported here, not above, so that even a missing @chat/sdk build is one clear line.
  const [{ optionsFromEnv }, { startServer, EMAIL_LOGIN_WARNING }] = await Promise.all([import('./config.js'), import('./server.js')]);
  let options;
  try {
    // `--dev` (npm start, npm run server): development mode, where email sign-in is on unless CHAT_EMAIL_LOGIN=off.
    options = optionsFromEnv(process.env, { development: process.argv.includes('--dev') });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), 2);
  }
  let server;
  try {
    server = await startServer(options);
  } catch (error) {
    fail(startupErrorLine(error, options), 1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (options.logLevel !== 'silent') process.stderr.write(`${signal}: shutting down\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  // Before the line below: whoever reads it may signal at once.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  if (options.emailLogin && (options.logLevel === 'silent' || options.logLevel === 'error')) {
    // The server logs it first at LOG_LEVEL warn and above; quieter, it is said here all the
    // same. (After the start, so that a failure to start stays one line.)
    process.stderr.write(`${EMAIL_LOGIN_WARNING}\n`);
  }
  if (server.seeded.length > 0) process.stderr.write(`seeded sample people: ${server.seeded.join(', ')} (CHAT_SAMPLE=off to skip)\n`);
  process.stdout.write(`listening on ${server.httpUrl}\n`);
}

function fail(line: string, code: number): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}

main().catch((error: unknown) => fail(startupErrorLine(error, { port: 8787, host: '127.0.0.1', db: 'CHAT_DB' }), 1));
