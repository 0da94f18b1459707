import { useChatClient, useConnection, useSession } from '@chat/react';
import { useEffect, useState, useSyncExternalStore } from 'react';

const subscribeOnline = (listener: () => void) => {
  window.addEventListener('online', listener);
  window.addEventListener('offline', listener);
  return () => {
    window.removeEventListener('online', listener);
    window.removeEventListener('offline', listener);
  };
};

function useOnline(): boolean {
  return useSyncExternalStore(subscribeOnline, () => navigator.onLine, () => true);
}

/** The clock, ticking every `ms` while `on`. */
function useNow(on: boolean, ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [on, ms]);
  return now;
}

/**
 * Says when the chat is not connected, why (the error's code and message, as the SDK gives
 * them: `NETWORK`, `TIMEOUT`, `CLOSED` or the server's), and that sending still works.
 */
export function ConnectionBanner() {
  const client = useChatClient();
  const { status, attempt, nextRetryAt, error } = useConnection();
  const online = useOnline();
  const signedIn = useSession() !== null;
  const now = useNow(status === 'reconnecting' && nextRetryAt !== undefined);

  if (!signedIn || status === 'open' || status === 'idle') return null;

  let kind: 'offline' | 'connecting' | 'reconnecting' | 'closed';
  let text: string;
  if (!online) {
    kind = 'offline';
    text = 'You are offline. Messages you send wait here and go out when you are back.';
  } else if (status === 'connecting') {
    kind = 'connecting';
    text = 'Connecting…';
  } else if (status === 'reconnecting') {
    kind = 'reconnecting';
    const wait = nextRetryAt === undefined ? 0 : Math.ceil((nextRetryAt - now) / 1000);
    const next = wait > 0 ? `next try in ${wait} s` : 'trying now';
    text = `Reconnecting (attempt ${attempt}, ${next}). You can keep writing; messages go out when the connection is back.`;
  } else {
    kind = 'closed';
    text = 'Disconnected.';
  }

  return (
    <div className={`banner banner-${kind}`} role="status" aria-live="polite" data-status={kind} data-next-retry-at={status === 'reconnecting' ? nextRetryAt : undefined}>
      <span className="banner-dot" aria-hidden="true" />
      <span className="banner-text">
        {text}
        {error && (
          <span className="banner-reason" data-code={error.code}>
            {' '}
            {error.code}: {error.message}
          </span>
        )}
      </span>
      {status === 'reconnecting' && (
        <button type="button" className="link" onClick={() => void client.reconnect()}>
          Try now
        </button>
      )}
    </div>
  );
}
