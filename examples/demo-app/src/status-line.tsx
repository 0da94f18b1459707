import { useConnection, useTransport } from '@chat/react';

const IN_TAB = { label: 'this tab', hint: 'this tab has its own socket' };
const TRANSPORTS: Record<string, { label: string; hint: string }> = {
  'shared-worker': { label: 'shared worker', hint: 'one socket, shared by every tab of this browser' },
  leader: { label: 'leader tab', hint: 'one tab holds the socket; the others talk to it' },
  'in-tab': IN_TAB,
  websocket: IN_TAB, // the SDK's older name for in-tab
};

/**
 * Which transport carries the chat (live: a worker that fails to load falls back to this
 * tab), so one can see a single socket serving several tabs, and the connection's last
 * error code while it is not open.
 */
export function StatusLine() {
  const { status, error } = useConnection();
  const transport = useTransport();
  const shown = (transport && TRANSPORTS[transport]) ?? { label: transport ?? '…', hint: '' };
  return (
    <footer className="status-line" aria-label="Connection details">
      <span className={`dot dot-${status}`} aria-hidden="true" />
      <span>
        {status === 'open' ? 'Connected' : status}
        {status !== 'open' && error && <span data-code={error.code}> ({error.code})</span>} ·{' '}
        <strong data-transport={transport ?? ''}>{shown.label}</strong>
      </span>
      {shown.hint && <span className="status-hint">{shown.hint}</span>}
    </footer>
  );
}
