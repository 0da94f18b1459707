import { fileURLToPath } from 'node:url';

/** Tests run against the SDK's sources, so no build is needed before `npm test`. */
export const sourceAliases = {
  '@chat/sdk/protocol': fileURLToPath(new URL('./packages/chat-sdk/src/protocol/index.ts', import.meta.url)),
  '@chat/sdk/worker': fileURLToPath(new URL('./packages/chat-sdk/src/worker.ts', import.meta.url)),
  '@chat/sdk': fileURLToPath(new URL('./packages/chat-sdk/src/index.ts', import.meta.url)),
  '@chat/react': fileURLToPath(new URL('./packages/chat-react/src/index.ts', import.meta.url)),
  '@chat/mock-server': fileURLToPath(new URL('./examples/mock-server/src/index.ts', import.meta.url)),
};
