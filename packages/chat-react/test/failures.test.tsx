import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useFailedMessages, useMessageActions, useMessages, useSendMessage } from '@chat/react';
import { pair, providing, server, serverPerFile, until } from './helpers.js';

const srv = serverPerFile();

function Room({ roomId, image }: { roomId: string; image?: Blob }) {
  const { messages } = useMessages(roomId);
  const failed = useFailedMessages(roomId);
  const send = useSendMessage(roomId);
  const { retry, discard } = useMessageActions();
  return (
    <>
      <button onClick={() => send(image ? { text: 'picture', image } : { text: 'hello' })}>send</button>
      <p data-testid="failed">{failed.map((m) => `${m.text}:${m.error?.code}`).join(',') || 'none'}</p>
      <ul>
        {messages.map((m) => (
          <li key={m.clientId} data-testid={m.text} data-status={m.status}>
            {m.text}
            {m.status === 'failed' && (
              <>
                <button onClick={() => void retry(m.clientId)}>retry</button>
                <button onClick={() => void discard(m.clientId)}>discard</button>
              </>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('failed messages', () => {
  it('a retryable server failure stays pending and is sent without the user', async () => {
    const { alice, bob, room } = await pair(srv());
    render(<Room roomId={room.id} />, { wrapper: providing(alice.client) });
    srv().faults.failNextWrites(2);
    fireEvent.click(screen.getByText('send'));
    expect(screen.getByTestId('hello').getAttribute('data-status')).toBe('pending');
    await waitFor(() => expect(screen.getByTestId('hello').getAttribute('data-status')).toBe('sent'));
    expect(screen.getByTestId('failed').textContent).toBe('none');
    const seen = await until(bob.client.messages(room.id), (s) => s.messages.length === 1);
    expect(seen.messages[0]?.text).toBe('hello');
  });

  it('an image in the test DOM\'s own Blob class uploads and turns sent', async () => {
    const { alice, room } = await pair(srv());
    const png = Uint8Array.from(atob(PNG_1X1), (ch) => ch.charCodeAt(0));
    render(<Room roomId={room.id} image={new Blob([png], { type: 'image/png' })} />, { wrapper: providing(alice.client) });
    fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('picture').getAttribute('data-status')).toBe('sent'));
    expect(alice.client.messages(room.id).getSnapshot().messages[0]?.image).toMatchObject({ mime: 'image/png' });
  });

  it('a permanent failure (an upload the server refuses) shows failed; retry fails again; discard removes it', async () => {
    const { alice, room } = await pair(srv());
    // The test DOM's own Blob class: the SDK must know it by its shape, not by instanceof.
    const notPng = new Blob(['these bytes are not a PNG'], { type: 'image/png' });
    render(<Room roomId={room.id} image={notPng} />, { wrapper: providing(alice.client) });
    fireEvent.click(screen.getByText('send'));
    expect(screen.getByTestId('picture').getAttribute('data-status')).toBe('pending');
    await waitFor(() => expect(screen.getByTestId('picture').getAttribute('data-status')).toBe('failed'));
    expect(screen.getByTestId('failed').textContent).toBe('picture:BAD_REQUEST');

    const states: string[] = [];
    const store = alice.client.messages(room.id);
    // Each status once: upload progress changes the message while it stays pending.
    const stop = store.subscribe(() => {
      const status = store.getSnapshot().messages[0]?.status ?? 'gone';
      if (states.at(-1) !== status) states.push(status);
    });
    fireEvent.click(screen.getByText('retry'));
    await waitFor(() => expect(states).toEqual(['pending', 'failed']));
    await waitFor(() => expect(screen.getByTestId('picture').getAttribute('data-status')).toBe('failed'));

    fireEvent.click(screen.getByText('discard'));
    await waitFor(() => expect(screen.queryByTestId('picture')).toBeNull());
    expect(screen.getByTestId('failed').textContent).toBe('none');
    stop();
  });
});
