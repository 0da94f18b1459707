import type { Faults } from './faults.js';
import type { Hub } from './hub.js';
import type { Limits } from './limits/index.js';
import type { Logger } from './log.js';
import type { ResolvedOptions } from './options.js';
import type { PresenceTracker } from './presence.js';
import type { Sessions } from './sessions.js';
import type { AsyncStorage } from './storage/async-storage.js';
import type { TypingTracker } from './typing.js';

/** What every part of a running server shares. */
export interface ServerContext {
  options: ResolvedOptions;
  /** Memory and SQLite are seen through `asAsync`; PostgreSQL is async itself. */
  storage: AsyncStorage;
  sessions: Sessions;
  hub: Hub;
  /** Per-user and per-address limits across connections. */
  limits: Limits;
  faults: Faults;
  log: Logger;
  /** Who is online (in memory; last-seen times in storage). */
  presence: PresenceTracker;
  /** Who is typing where (in memory only). */
  typing: TypingTracker;
  now: () => number;
  /** Keeps `work` counted until it settles, so `close()` can wait for it before closing storage. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Resolves once the start-up work (the sample) is done; no frame is handled before. */
  ready: Promise<void>;
}
