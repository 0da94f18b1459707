import type { Message } from '@chat/sdk/protocol';
import { type AsyncStorage, asAsync } from './async-storage.js';
import type { SqliteStorage } from './sqlite.js';
import type { NewMessage, WriteHooks } from './types.js';

interface Lookup {
  senderId: string;
  clientId: string;
  resolve(message: Message | undefined): void;
  reject(error: unknown): void;
}

interface Waiting {
  message: NewMessage;
  hooks: WriteHooks | undefined;
  resolve(result: { message: Message; duplicate: boolean }): void;
  reject(error: unknown): void;
}

/**
 * Group commit of new messages on SQLite: the messages handed over in one turn of the event
 * loop (the frames read from every socket in one go, about a millisecond under load) are
 * written in one transaction at the end of the turn, and each promise settles only once that
 * transaction committed, so a reply (sent when its promise resolves) never announces a
 * message that is not in the WAL yet. One commit, one write to the WAL, for the whole batch,
 * where each message used to pay its own. See `SqliteStorage.createMessages` for what a
 * batch keeps: order, duplicates found inside it, a failing message failing alone.
 */
export class GroupCommit {
  private waiting: Waiting[] = [];
  private lookups: Lookup[] = [];
  private scheduled = false;
  /** Batches committed and messages in them, and read transactions of lookups (tests and logs). */
  readonly stats = { batches: 0, messages: 0, lookupReads: 0 };

  constructor(private readonly storage: SqliteStorage) {}

  /**
   * `create_message`'s duplicate check, asked before the write: the lookups of one turn are
   * answered together at its end, in one read transaction. On a file each statement of its
   * own is a read transaction of its own (the WAL's shared-memory locks, two system calls),
   * which cost more than the lookup itself. Answered before the turn's batch is written:
   * a message of that batch is not found here, and its write finds the repeat instead.
   */
  getMessageByClientId = (senderId: string, clientId: string): Promise<Message | undefined> =>
    new Promise((resolve, reject) => {
      this.lookups.push({ senderId, clientId, resolve, reject });
      this.schedule();
    });

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  createMessage = (message: NewMessage, hooks?: WriteHooks): Promise<{ message: Message; duplicate: boolean }> =>
    new Promise((resolve, reject) => {
      this.waiting.push({ message, hooks, resolve, reject });
      this.schedule();
    });

  /** Writes what is waiting now, in one transaction; called at the end of the turn and before the store closes. */
  flush = (): void => {
    this.scheduled = false;
    this.answerLookups();
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    let results: ReturnType<SqliteStorage['createMessages']>;
    try {
      results = this.storage.createMessages(batch);
    } catch (error) {
      // The commit itself failed: nothing of the batch was written.
      for (const one of batch) one.reject(error);
      return;
    }
    this.stats.batches++;
    this.stats.messages += batch.length;
    batch.forEach((one, i) => {
      const result = results[i]!;
      if (result.ok) one.resolve(result.value);
      else one.reject(result.error);
    });
  };

  private answerLookups(): void {
    const lookups = this.lookups;
    if (lookups.length === 0) return;
    this.lookups = [];
    let found: Array<Message | undefined>;
    try {
      found = this.storage.getMessagesByClientIds(lookups);
    } catch (error) {
      for (const one of lookups) one.reject(error);
      return;
    }
    this.stats.lookupReads++;
    lookups.forEach((one, i) => one.resolve(found[i]));
  }
}

/** The SQLite store seen through the async contract, its new messages group-committed. */
export function withGroupCommit(storage: SqliteStorage): AsyncStorage & { readonly groupCommit: GroupCommit } {
  const commits = new GroupCommit(storage);
  const inner = asAsync(storage);
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'createMessage') return commits.createMessage;
      if (property === 'getMessageByClientId') return commits.getMessageByClientId;
      if (property === 'groupCommit') return commits;
      if (property === 'close') {
        return async () => {
          commits.flush(); // what was handed over is written (and looked up) before the file closes
          storage.close();
        };
      }
      return Reflect.get(target, property);
    },
  }) as AsyncStorage & { readonly groupCommit: GroupCommit };
}
