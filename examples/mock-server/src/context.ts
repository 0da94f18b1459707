import type { Faults } from './faults.js';
import type { Hub } from './hub.js';
import type { Limits } from './limits/index.js';
import type { Logger } from './log.js';
import type { ResolvedOptions } from './options.js';
import type { PresenceTracker } from './presence.js';
import type { Sessions } from './sessions.js';
import type { Storage } from './storage/index.js';
import type { TypingTracker } from './typing.js';

/** What every part of a running server shares. */
export interface ServerContext {
  options: ResolvedOptions;
  storage: Storage;
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
}
