import type { ChatMessage, User } from '@chat/sdk';
import { useMessages, useReceipts, useUserId } from '@chat/react';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { MessageItem, time } from './message-item.js';

/** Within this many pixels of the bottom counts as "at the bottom". */
const NEAR_BOTTOM = 48;
/** Older history is fetched when the view comes this close to the top. */
const NEAR_TOP = 200;
/** How long a message jumped to from a reply's quote stays highlighted. */
const HIGHLIGHT_MS = 2500;

/**
 * The conversation. Scrolling up loads older pages and keeps the view where it was; a new
 * message scrolls to the bottom when it is one's own or when the view was already there,
 * otherwise a "new messages" button appears.
 */
export function MessageList({ roomId, lookup, onReply }: { roomId: string; lookup: (id: string) => User | undefined; onReply(message: ChatMessage): void }) {
  const { messages, hasMore, loading, loadOlder } = useMessages(roomId);
  const me = useUserId();
  // "Seen by": the others whose read cursor reached the user's last sent message.
  const receipts = useReceipts(roomId);
  let lastMine: ChatMessage | undefined;
  for (const m of messages) if (m.senderId === me && m.seq !== null) lastMine = m;
  const seenBy = lastMine
    ? Object.keys(receipts)
        .filter((id) => id !== me && receipts[id]! >= (lastMine.seq ?? Infinity))
        .map((id) => lookup(id)?.name ?? '…')
        .join(', ')
    : '';
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [newCount, setNewCount] = useState(0);
  /** What the previous commit showed, to tell a page of history from a new message. */
  const shown = useRef<{ first?: string | undefined; last?: string | undefined; scrollHeight: number; scrollTop: number }>({ scrollHeight: 0, scrollTop: 0 });

  const scrollToBottom = useCallback((smooth = false) => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    atBottom.current = true;
    setNewCount(0);
  }, []);

  const maybeLoadOlder = useCallback(() => {
    const el = scroller.current;
    if (el && hasMore && !loading && el.scrollTop < NEAR_TOP) void loadOlder();
  }, [hasMore, loading, loadOlder]);

  const remember = () => {
    const el = scroller.current;
    if (el) shown.current = { ...shown.current, scrollHeight: el.scrollHeight, scrollTop: el.scrollTop };
  };

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM) {
      atBottom.current = true;
      setNewCount(0);
    } else if (el.scrollTop < shown.current.scrollTop - 1) {
      // Only the reader scrolling up leaves the bottom. Content that grew between our own
      // scroll to the bottom and this (asynchronous) event does not: we follow it.
      atBottom.current = false;
    }
    remember();
    maybeLoadOlder();
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const before = shown.current;
    const first = messages[0]?.clientId;
    const last = messages[messages.length - 1]?.clientId;
    if (before.last === undefined) {
      // First messages on screen: start at the newest.
      if (last !== undefined) el.scrollTop = el.scrollHeight;
    } else {
      if (first !== before.first && before.first !== undefined && messages.some((m) => m.clientId === before.first)) {
        // A page of history went in above: keep what the reader was looking at in place.
        el.scrollTop = before.scrollTop + (el.scrollHeight - before.scrollHeight);
      }
      if (last !== before.last) {
        const newest = messages[messages.length - 1];
        const mine = newest !== undefined && newest.senderId === me && newest.status === 'pending';
        if (mine || atBottom.current) scrollToBottom();
        else setNewCount((n) => n + 1);
      }
    }
    shown.current = { first, last, scrollHeight: el.scrollHeight, scrollTop: el.scrollTop };
    if (last !== undefined && el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM) atBottom.current = true;
  }, [messages, me, scrollToBottom]);

  // Pictures load, a failed one turns into a placeholder, a status line appears: when the
  // content grows while the reader is at the bottom, stay there.
  const content = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = scroller.current;
    if (!el || !content.current || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
      remember();
    });
    observer.observe(content.current);
    observer.observe(el); // the composer grew or shrank
    return () => observer.disconnect();
  }, []);

  // After every change: if the top is still in sight (a short room), fetch more history.
  useEffect(() => {
    maybeLoadOlder();
  }, [messages, maybeLoadOlder]);

  // A reply's quote was clicked: scroll its parent into view, focus it and let it flash.
  const [highlighted, setHighlighted] = useState<string | null>(null);
  const latest = useRef(messages);
  latest.current = messages;
  useEffect(() => {
    if (highlighted === null) return;
    const timer = setTimeout(() => setHighlighted(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlighted]);
  const jumpTo = useCallback((id: string) => {
    const parent = latest.current.find((m) => m.id === id);
    const row = parent && scroller.current?.querySelector<HTMLElement>(`li[data-id="${CSS.escape(id)}"]`);
    if (!parent || !row || !scroller.current) return false;
    const shown = row.getBoundingClientRect();
    const view = scroller.current.getBoundingClientRect();
    if (shown.top < view.top || shown.bottom > view.bottom) {
      // Scrolling away from the bottom: stop following new messages (and growing pictures) first.
      // At once, not smoothly: a parent near the top fetches older history, and the list keeping
      // its place under the new page would cut a smooth scroll short, the parent still out of view.
      atBottom.current = false;
      row.scrollIntoView({ block: 'center' });
    }
    row.focus({ preventScroll: true });
    setHighlighted(parent.clientId);
    return true;
  }, []);

  /** A picture finished loading and changed the height: stay at the bottom if we were there. */
  const onMediaLoad = useCallback(() => {
    if (atBottom.current) {
      const el = scroller.current;
      if (el) el.scrollTop = el.scrollHeight;
    }
    remember();
  }, []);

  return (
    <div className="messages-wrap">
      <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages" aria-busy={loading} tabIndex={0}>
        {hasMore ? (
          <p className="history-edge muted">{loading ? 'Loading older messages…' : 'Scroll up for older messages'}</p>
        ) : (
          !loading && <p className="history-edge muted">{messages.length === 0 ? 'No messages yet. Say hello!' : 'This is the start of the room.'}</p>
        )}
        <ol className="message-items" ref={content}>
          {messages.map((message, index) => {
            const previous = messages[index - 1];
            const continued = previous !== undefined && previous.senderId === message.senderId && time(message) - time(previous) < 5 * 60_000;
            return (
              <MessageItem
                key={message.clientId}
                message={message}
                mine={message.senderId === me}
                sender={lookup(message.senderId)}
                continued={continued}
                seenBy={message === lastMine ? seenBy : ''}
                highlighted={highlighted === message.clientId}
                lookup={lookup}
                onMediaLoad={onMediaLoad}
                onReply={onReply}
                onJump={jumpTo}
              />
            );
          })}
        </ol>
      </div>
      {newCount > 0 && (
        <button type="button" className="new-messages" onClick={() => scrollToBottom(true)}>
          {newCount === 1 ? '1 new message' : `${newCount} new messages`} ↓
        </button>
      )}
    </div>
  );
}
