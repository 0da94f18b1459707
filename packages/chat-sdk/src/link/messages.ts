import type { ChatErrorData } from '../protocol/index.js';
import type { HostConfig } from '../contract/host-options.js';
import type { HostCommand, HostEvent, Session } from '../contract/host-api.js';

/**
 * The wire protocol between a tab's link and a shared connection host (a SharedWorker, or
 * the leader tab over BroadcastChannel). Plain structured-cloneable data only.
 *
 * A tab says `hello` (versions, its host settings, the session it shows); the host answers
 * `welcome` with its `bootId`. Calls carry an id unique within the tab and get exactly one
 * `reply`; `event`s reach every tab of the host's user. Both sides `ping`, the other answers
 * `pong` from its message handler. `bye` on pagehide. `reset` asks the tab to say hello
 * again. A tab sends again every call the host of the current `bootId` has not seen.
 */

/**
 * Bumped whenever a message below changes shape. Tabs and hosts must agree exactly. `hello`
 * and `welcome` keep their `type`, `protocol` and `sdk` fields in every version, so a tab and
 * a host of different versions can still tell each other so (2: `t` became `type`).
 */
export const LINK_PROTOCOL = 2;
/** The SDK's version; a host of another version is not shared (the tab runs its own connection). */
export const SDK_VERSION = '0.1.0';

/**
 * What a tab posts to its dedicated worker (beside the link messages, on the worker itself): a
 * port for one more tab's link, or the end of the worker (the tab stops leading).
 */
export const PORT_TO_WORKER = 'chat-sdk:port';
export const CLOSE_WORKER = 'chat-sdk:close';

/** Link liveness timings a tab asks for; the host pings that tab with them. */
export interface LinkTimings {
  /** How often each side pings the other. */
  pingIntervalMs: number;
  /** Pings missed in a row before the other side counts as gone. */
  maxMissedPings: number;
}

export type TabMessage =
  | {
      type: 'hello';
      tab: string;
      protocol: number;
      sdk: string;
      config: HostConfig;
      timings: LinkTimings;
      /** The session this tab shows, so a restarted host binds it to the same user. */
      session: Session | null;
    }
  | { type: 'call'; id: number; command: HostCommand }
  | { type: 'ping' }
  | { type: 'pong' }
  | { type: 'bye' };

/** The first thing a tab says, and again whenever the host asks (`reset`). */
export type HelloMessage = Extract<TabMessage, { type: 'hello' }>;

export type HostMessage =
  | { type: 'welcome'; bootId: string; protocol: number; sdk: string; accepted: boolean }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: ChatErrorData }
  | { type: 'event'; event: HostEvent }
  | { type: 'ping' }
  | { type: 'pong' }
  /**
   * Say hello again: the host does not know this tab (it was dropped, or never said
   * hello), so the calls `ids` were not run; or, without ids, a new leader was elected.
   */
  | { type: 'reset'; ids?: number[] };

export function isHostMessage(data: unknown): data is HostMessage {
  const type = (data as { type?: unknown } | null)?.type;
  return typeof type === 'string' && ['welcome', 'reply', 'event', 'ping', 'pong', 'reset'].includes(type);
}

export function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
