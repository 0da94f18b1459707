import { type ActionName, type ReplyData, isChatError } from '../protocol/index.js';

/**
 * Reads a server may answer RATE_LIMITED when the user asked for much in a short time (the
 * reference server charges replies by their bytes). Repeating a read changes nothing on the
 * server, so it waits the `retryAfterMs` the server named and asks again: a room list of many
 * pages or a long catch-up then arrives more slowly instead of failing.
 */
const READS: ReadonlySet<ActionName> = new Set<ActionName>(['get_user_rooms', 'get_messages', 'get_users', 'get_presence', 'get_changes']);
/** A server asking for longer than this, or this many times in a row, has the read fail. */
const MAX_WAIT_MS = 30_000;
const MAX_TRIES = 8;

type Request = <A extends ActionName>(action: A, data: Record<string, unknown>) => Promise<ReplyData<A>>;

export function pacedReads(request: Request, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Request {
  return async (action, data) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(action, data);
      } catch (error) {
        const wait = isChatError(error) && error.code === 'RATE_LIMITED' ? error.retryAfterMs : undefined;
        if (!READS.has(action) || wait === undefined || wait > MAX_WAIT_MS || attempt >= MAX_TRIES) throw error;
        await sleep(wait);
      }
    }
  };
}
