import type { Message } from '@chat/sdk/protocol';
import { type AsyncStorage, asAsync } from './async-storage.js';
import type { SqliteStorage } from './sqlite.js';
import type { NewMessage, WriteHooks } from './types.js';

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
  private scheduled = false;
  /** Batches committed and messages in them (tests and logs). */
  readonly stats = { batches: 0, messages: 0 };

  constructor(private readonly storage: SqliteStorage) {}

  createMessage = (message: NewMessage, hooks?: WriteHooks): Promise<{ message: Message; duplicate: boolean }> =>
    new Promise((resolve, reject) => {
      this.waiting.push({ message, hooks, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });

  /** Writes what is waiting now, in one transaction; called at the end of the turn and before the store closes. */
  flush = (): void => {
    this.scheduled = false;
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
}

/** The SQLite store seen through the async contract, its new messages group-committed. */
export function withGroupCommit(storage: SqliteStorage): AsyncStorage & { readonly groupCommit: GroupCommit } {
  const commits = new GroupCommit(storage);
  const inner = asAsync(storage);
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'createMessage') return commits.createMessage;
      if (property === 'groupCommit') return commits;
      if (property === 'close') {
        return async () => {
          commits.flush(); // what was handed over is written before the file closes
          storage.close();
        };
      }
      return Reflect.get(target, property);
    },
  }) as AsyncStorage & { readonly groupCommit: GroupCommit };
}
