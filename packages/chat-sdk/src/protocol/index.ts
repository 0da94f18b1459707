/**
 * `@chat/sdk/protocol`: the wire contract of docs/protocol.md in code. Schemas use
 * `zod/mini` so a browser bundle stays small; the server imports the same module.
 */
export * from './limits.js';
export * from './errors.js';
export * from './objects.js';
export * from './actions.js';
export * from './frames.js';
export * from './parse.js';
export * from './members.js';
export * from './awareness.js';
export * from './close-hint.js';
export * from './close-codes.js';
export * from './changes.js';
export * from './emoji.js';
