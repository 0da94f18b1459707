import { fileURLToPath } from 'node:url';

/** Tests run against the SDK's sources, so no build is needed before `npm test`. */
export const sourceAliases = {
  '@chat/sdk/protocol': fileURLToPath(new URL('./packages/chat-sdk/src/protocol/index.ts', import.meta.url)),
  '@chat/sdk/worker': fileURLToPath(new URL('./packages/chat-sdk/src/worker.ts', import.meta.url)),
  '@chat/sdk/in-tab': fileURLToPath(new URL('./packages/chat-sdk/src/in-tab.ts', import.meta.url)),
  // As Node resolves the package (its `node` condition): the connection host in process.
  '@chat/sdk': fileURLToPath(new URL('./packages/chat-sdk/src/node.ts', import.meta.url)),
  '@chat/react': fileURLToPath(new URL('./packages/chat-react/src/index.ts', import.meta.url)),
  '@chat/mock-server': fileURLToPath(new URL('./examples/mock-server/src/index.ts', import.meta.url)),
};

/**
 * How test files are scheduled on these 2-core machines. Vitest's default is one file at a
 * time (cores - 1), but most files wait on sockets and timers, not on the CPU: those run two
 * at once. Files that drive Chromium, several server processes or a build keep the machine
 * to themselves, one at a time, after the others (a later `groupOrder`).
 */
export const twoAtOnce = {
  maxWorkers: 2,
  sequence: { groupOrder: 0 },
  // Two files at once on 2 cores can make a test take 5x as long as alone: the time-out is a
  // guard against hangs, not a measure, so it is wider than Vitest's 5 s.
  testTimeout: 15_000,
};
export const oneAtATime = { maxWorkers: 1, sequence: { groupOrder: 1 } };
