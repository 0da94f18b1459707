import type { ChatClientEvents } from '@chat/sdk';
import { useEffect } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStableCallback } from './use-latest.js';

type Listener = (...args: unknown[]) => void;

/**
 * Listens to a client event (`messages`, `room`, `connection`, `session`, `transport`, `failed`,
 * `error`) while mounted. The handler may change every render: it is read through a ref,
 * so the listener is added once per client and event.
 */
export function useChatEvent<E extends keyof ChatClientEvents>(event: E, handler: (...args: ChatClientEvents[E]) => void): void {
  const client = useChatClient();
  const listener = useStableCallback(handler);
  useEffect(() => {
    // The emitter's typings cannot follow a generic event name: erase them here only.
    const emitter = client as unknown as { on(e: string, l: Listener): unknown; off(e: string, l: Listener): unknown };
    const l = listener as unknown as Listener;
    emitter.on(event, l);
    return () => void emitter.off(event, l);
  }, [client, event, listener]);
}
