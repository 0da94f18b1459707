import type { HostConfig } from '../../contract/host-options.js';
import { openStorage } from '../../storage/open-storage.js';
import type { ChatStorage } from '../../storage/types.js';

/**
 * The storage of a group of hosts (one config): the hub opens it once per config, every host
 * of the group borrows it, and the hub closes it after the group's last host closed.
 */

/** Opens the storage the hosts of one config share: the kind the config names. */
export function openGroupStorage(config: HostConfig): Promise<ChatStorage> {
  return openStorage({ kind: config.storage });
}

/** The group's storage as one host sees it: the host's `close()` leaves it open for the others. */
export function borrowedStorage(storage: ChatStorage): ChatStorage {
  return { kind: storage.kind, outbox: storage.outbox, drafts: storage.drafts, cache: storage.cache, sessions: storage.sessions, reads: storage.reads, changes: storage.changes, close() {} };
}
