import type { Transport } from '@chat/sdk';
import { useChatClient, useConnection } from '@chat/react';

const TRANSPORTS: Record<Transport, { label: string; hint: string }> = {
  'shared-worker': { label: 'shared worker', hint: 'one socket, shared by every tab of this browser' },
  leader: { label: 'leader tab', hint: 'one tab holds the socket; the others talk to it' },
  websocket: { label: 'in process', hint: 'this tab has its own socket' },
};

/** Which transport carries the chat, so one can see a single socket serving several tabs. */
export function StatusLine() {
  const client = useChatClient();
  const { status } = useConnection(); // re-render on changes: the transport can fall back
  const transport = TRANSPORTS[client.transport];
  return (
    <footer className="status-line" aria-label="Connection details">
      <span className={`dot dot-${status}`} aria-hidden="true" />
      <span>
        {status === 'open' ? 'Connected' : status} · <strong data-transport={client.transport}>{transport.label}</strong>
      </span>
      <span className="status-hint">{transport.hint}</span>
    </footer>
  );
}
