import { optionsFromEnv } from './config.js';
import { startServer } from './server.js';

/**
 * `npm run server`: reads the environment, starts, prints `listening on http://HOST:PORT`
 * once ready. SIGTERM or SIGINT stop accepting, close sockets with 1001, close the
 * database and exit 0.
 */
async function main(): Promise<void> {
  let options;
  try {
    options = optionsFromEnv();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const server = await startServer(options);
  process.stdout.write(`listening on ${server.httpUrl}\n`);

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
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
