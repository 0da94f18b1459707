// The PostgreSQL store (issue 16): the async storage contract over a database that many
// server processes share. Selected by CHAT_DB=postgres://… (openAsyncStorage); see
// docs/scale-out.md for what several processes on one database do not share yet.
export { PostgresStorage, toStorageError, type PostgresOptions } from './storage.js';
export { MIGRATIONS, MIGRATION_LOCK_KEY, migrate } from './schema.js';
