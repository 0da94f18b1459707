// The PostgreSQL store (issue 16): the async storage contract over a database that many
// server processes share. Not yet selectable by CHAT_DB: the handlers still call the
// synchronous `Storage` (see docs/scale-out.md).
export { PostgresStorage, toStorageError, type PostgresOptions } from './storage.js';
export { MIGRATIONS, MIGRATION_LOCK_KEY, migrate } from './schema.js';
