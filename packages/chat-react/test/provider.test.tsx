import { act, renderHook, screen } from '@testing-library/react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ChatProvider, useChatClient, useConnection, useMessages, useRooms, useSession, useSessionStatus, useTransport } from '@chat/react';
import { client, pair, server, serverPerFile } from './helpers.js';

const srv = serverPerFile();

describe('ChatProvider', () => {
  it('hands its client to the hooks', () => {
    const c = client(srv());
    const { result } = renderHook(() => useChatClient(), { wrapper: ({ children }) => <ChatProvider client={c}>{children}</ChatProvider> });
    expect(result.current).toBe(c);
  });

  it('useChatClient outside a provider throws an error that says what to do', () => {
    expect(() => renderHook(() => useChatClient())).toThrow(/inside <ChatProvider client=\{client\}>/);
    expect(() => renderHook(() => useConnection())).toThrow(/ChatProvider/);
  });

  it('renders on the server from constant server snapshots, whatever the client holds', async () => {
    const { alice, room } = await pair(srv());
    const c = alice.client;
    function Page() {
      const session = useSession();
      const rooms = useRooms();
      const { loading, messages } = useMessages(room.id);
      const connection = useConnection();
      const status = useSessionStatus();
      const transport = useTransport();
      return <p>{`${session ? session.user.name : 'signed out'}|${rooms.length}|${loading ? 'loading' : messages.length}|${connection.status}|${status}|${transport ?? 'unknown'}`}</p>;
    }
    const html = renderToString(
      <ChatProvider client={c}>
        <Page />
      </ChatProvider>,
    );
    expect(html).toContain('signed out|0|loading|idle|resuming|unknown');

    // Hydrating that HTML with the live client: no mismatch, then the live values.
    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.appendChild(container);
    const errors: unknown[] = [];
    const { hydrateRoot } = await import('react-dom/client');
    let root!: ReturnType<typeof hydrateRoot>;
    await act(async () => {
      root = hydrateRoot(
        container,
        <ChatProvider client={c}>
          <Page />
        </ChatProvider>,
        { onRecoverableError: (error) => errors.push(error) },
      );
    });
    await screen.findByText('alice|1|0|open|signed-in|in-tab', undefined, { timeout: 3000 });
    expect(errors).toEqual([]);
    await act(async () => root.unmount());
    container.remove();
  });
});
