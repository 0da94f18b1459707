/** The reference chat server: `startServer(options)` for tests and embedding; `main.ts` for the CLI. */
export { startServer } from './server.js';
export type { RunningServer, ServerFaults } from './server.js';
export type { ServerOptions, LimitSettings, Rate } from './options.js';
export { TEST_SERVER_OPTIONS } from './options.js';
export type { ServerStats } from './hub.js';
export type { LogLevel } from './log.js';
export { signJwt } from './jwt.js';
