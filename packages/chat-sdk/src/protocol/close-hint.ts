/**
 * A retry hint in a close frame's reason (docs/protocol.md section 9): a server that closes
 * a connection it expects back (1001 on a restart, 1013 when busy) may end the reason with
 * `retryAfterMs=N`. A client waits about that long before its first retry instead of
 * hammering a server that said when it will be back. The reason stays readable in logs, and
 * a version-1 client that does not look for the hint loses nothing.
 *
 * Just before it the server may put `retryWindowMs=W`: spread the first retries over W ms
 * (it knows how many it closed; a big crowd needs a wider window). The hint stays last, so a
 * client that only knows `retryAfterMs` still finds it.
 */

const HINT = /(?:^|[\s;])retryAfterMs=(\d{1,7})$/;
const WINDOW = /(?:^|[\s;])retryWindowMs=(\d{1,7}); retryAfterMs=\d{1,7}$/;
/** Close reasons are at most 123 bytes on the wire. */
const MAX_REASON_BYTES = 123;

const wholeMs = (ms: number) => Math.min(9_999_999, Math.max(0, Math.round(ms)));

/** `text` with the hint (and the window, when given) appended, cut so the whole reason fits a close frame. */
export function withRetryHint(text: string, retryAfterMs: number, retryWindowMs?: number): string {
  const window = retryWindowMs === undefined ? '' : `; retryWindowMs=${wholeMs(retryWindowMs)}`;
  const hint = `${window}; retryAfterMs=${wholeMs(retryAfterMs)}`;
  return text.slice(0, MAX_REASON_BYTES - hint.length) + hint;
}

/** The hint in a close reason, or undefined when there is none. */
export function retryHintOf(reason: string | undefined): number | undefined {
  const match = reason ? HINT.exec(reason) : null;
  return match ? Number(match[1]) : undefined;
}

/** The window a close reason asks the first retries to spread over, or undefined when it names none. */
export function retryWindowOf(reason: string | undefined): number | undefined {
  const match = reason ? WINDOW.exec(reason) : null;
  return match ? Number(match[1]) : undefined;
}
