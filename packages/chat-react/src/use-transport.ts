import type { Transport } from '@chat/sdk';
import { useCallback, useSyncExternalStore } from 'react';
import { useChatClient } from './use-chat-client.js';

const none = () => null;

/**
 * What carries this tab's chat now: `'shared-worker'`, `'leader'` or `'in-tab'`. Re-renders
 * when it changes (a shared worker of another version, or one that failed to load where the
 * app passed `inTab`, falls back to in-tab). Null on the server
 * and during hydration, where which one the browser gets is not known.
 */
export function useTransport(): Transport | null {
  const client = useChatClient();
  const subscribe = useCallback(
    (listener: () => void) => {
      client.on('transport', listener);
      return () => void client.off('transport', listener);
    },
    [client],
  );
  return useSyncExternalStore(subscribe, () => client.transport, none);
}
