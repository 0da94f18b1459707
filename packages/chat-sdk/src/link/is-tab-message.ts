import type { TabMessage } from './messages.js';

// Apart from messages.ts: only a host (the worker, a leader tab) reads tab messages, and
// messages.ts is in the page's first load.
export function isTabMessage(data: unknown): data is TabMessage {
  const type = (data as { type?: unknown } | null)?.type;
  return typeof type === 'string' && ['hello', 'call', 'ping', 'pong', 'bye'].includes(type);
}
