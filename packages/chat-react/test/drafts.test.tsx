import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { useDraft, useMessages, useSendMessage } from '@chat/react';
import { pair, providing, serverPerFile } from './helpers.js';

const srv = serverPerFile();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function Composer({ roomId }: { roomId: string }) {
  const [draft, setDraft] = useDraft(roomId);
  const send = useSendMessage(roomId);
  return (
    <>
      <input aria-label="text" value={draft.text} disabled={!draft.loaded} onChange={(e) => setDraft({ text: e.target.value })} />
      <button onClick={() => send({ text: draft.text })}>send</button>
    </>
  );
}

function Badge({ roomId }: { roomId: string }) {
  const [draft] = useDraft(roomId);
  return <p data-testid="badge">{draft.text ? `draft: ${draft.text}` : 'no draft'}</p>;
}

describe('useDraft', () => {
  it('shows each keystroke at once in every component of the room, and stores it', async () => {
    const { alice, room } = await pair(srv());
    const set = vi.spyOn(alice.client.drafts, 'set');
    render(
      <>
        <Composer roomId={room.id} />
        <Badge roomId={room.id} />
      </>,
      { wrapper: providing(alice.client) },
    );
    const input = screen.getByLabelText<HTMLInputElement>('text');
    await waitFor(() => expect(input.disabled).toBe(false));
    for (const text of ['h', 'he', 'hel', 'hell', 'hello']) {
      fireEvent.change(input, { target: { value: text } });
      expect(input.value).toBe(text);
      expect(screen.getByTestId('badge').textContent).toBe(`draft: ${text}`);
    }
    // No second debounce in React: the SDK has the latest keystroke (and debounces the write).
    expect(set).toHaveBeenCalledTimes(5);
    expect(set).toHaveBeenLastCalledWith(room.id, { text: 'hello', image: null });
    await waitFor(async () => expect((await alice.client.drafts.get(room.id))?.text).toBe('hello'));
  });

  it('restores the stored draft when the room opens', async () => {
    const { alice, room } = await pair(srv());
    alice.client.drafts.set(room.id, { text: 'saved earlier' });
    await waitFor(async () => expect((await alice.client.drafts.get(room.id))?.text).toBe('saved earlier'));
    render(<Composer roomId={room.id} />, { wrapper: providing(alice.client) });
    await waitFor(() => expect(screen.getByLabelText<HTMLInputElement>('text').value).toBe('saved earlier'));
  });

  it('sending empties the draft, and the write still waiting does not bring it back', async () => {
    const { alice, room } = await pair(srv());
    function Room() {
      const { messages } = useMessages(room.id);
      return (
        <>
          <Composer roomId={room.id} />
          <p data-testid="count">{messages.length}</p>
        </>
      );
    }
    render(<Room />, { wrapper: providing(alice.client) });
    const input = screen.getByLabelText<HTMLInputElement>('text');
    await waitFor(() => expect(input.disabled).toBe(false));
    fireEvent.change(input, { target: { value: 'quick one' } });
    fireEvent.click(screen.getByText('send'));
    expect(input.value).toBe('');
    expect(screen.getByTestId('count').textContent).toBe('1');
    await sleep(150); // past the client's draft debounce
    expect(await alice.client.drafts.get(room.id)).toBeFalsy();
    expect(input.value).toBe('');
  });

  it('keeps the draft when the composer unmounts and comes back (switching rooms)', async () => {
    const { alice, room } = await pair(srv());
    const { unmount } = render(<Composer roomId={room.id} />, { wrapper: providing(alice.client) });
    const input = screen.getByLabelText<HTMLInputElement>('text');
    await waitFor(() => expect(input.disabled).toBe(false));
    fireEvent.change(input, { target: { value: 'half typed' } });
    unmount();
    render(<Composer roomId={room.id} />, { wrapper: providing(alice.client) });
    expect(screen.getByLabelText<HTMLInputElement>('text').value).toBe('half typed');
  });
});
