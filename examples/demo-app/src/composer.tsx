import type { ChatMessage, User } from '@chat/sdk';
import { useChatClient, useDraft, useSendMessage, useUserId } from '@chat/react';
import { type ClipboardEvent, type FormEvent, type KeyboardEvent, useEffect, useId, useRef } from 'react';
import { describeError, formatBytes } from './format.js';
import { useObjectUrl } from './object-url.js';
import { messageKey } from './reactions.js';
import { ReplyingTo } from './reply-quote.js';

interface ComposerProps {
  roomId: string;
  attach(file: Blob & { name?: string }): void;
  problem: string | null;
  setProblem(problem: string | null): void;
  /** The message being answered (its quote shows above the field), or null. */
  replyingTo: ChatMessage | null;
  setReplyingTo(message: ChatMessage | null): void;
  lookup: (id: string) => User | undefined;
}

/**
 * Text and an optional picture, kept as the room's draft (IndexedDB, so it survives switching
 * rooms and reloads). Enter sends, Shift+Enter adds a line. Sending works offline: the
 * message waits in the outbox.
 */
export function Composer({ roomId, attach, problem, setProblem, replyingTo, setReplyingTo, lookup }: ComposerProps) {
  const me = useUserId();
  const [draft, setDraft] = useDraft(roomId);
  const send = useSendMessage(roomId);
  const client = useChatClient();
  const preview = useObjectUrl(draft.image);
  const fileInput = useRef<HTMLInputElement>(null);
  const textArea = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  // The field is disabled until the stored draft is read; then it takes the focus.
  useEffect(() => {
    if (draft.loaded) textArea.current?.focus();
  }, [draft.loaded]);
  // Reply was picked: write the answer right away.
  useEffect(() => {
    if (replyingTo) textArea.current?.focus();
  }, [replyingTo]);
  // Leaving the room (or the page's chat) stops the typing shown to others at once.
  useEffect(() => () => client.stopTyping(roomId), [client, roomId]);
  const canSend = draft.loaded && (draft.text.trim() !== '' || draft.image !== null);

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    try {
      send({
        text: draft.text.trim(),
        ...(draft.image ? { image: draft.image } : {}),
        ...(replyingTo ? { replyTo: messageKey(replyingTo) } : {}),
      });
      setProblem(null);
      setReplyingTo(null);
    } catch (failure) {
      setProblem(describeError(failure));
    }
    textArea.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === 'Escape' && replyingTo) {
      event.preventDefault();
      setReplyingTo(null);
    }
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const file = event.clipboardData.files[0];
    if (!file) return; // plain text pastes as usual
    event.preventDefault();
    attach(file);
  }

  return (
    <form className="composer" onSubmit={submit} aria-label="Write a message">
      {problem && (
        <p className="error composer-error" role="alert">
          {problem}
          <button type="button" className="link" onClick={() => setProblem(null)}>
            Dismiss
          </button>
        </p>
      )}
      {replyingTo && <ReplyingTo parent={replyingTo} lookup={lookup} me={me} onCancel={() => setReplyingTo(null)} />}
      {draft.image && (
        <figure className="attachment">
          {preview && <img src={preview} alt="Picture to send" />}
          <figcaption>
            <span>
              {(draft.image as Blob & { name?: string }).name ?? 'Picture'} · {formatBytes(draft.image.size)}
            </span>
            <button type="button" className="link" onClick={() => setDraft({ image: null })}>
              Remove picture
            </button>
          </figcaption>
        </figure>
      )}
      <div className="composer-row">
        <input
          ref={fileInput}
          id={`${id}-file`}
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          className="sr-only"
          tabIndex={-1}
          aria-label="Attach a picture"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) attach(file);
            e.target.value = ''; // the same file can be picked again
          }}
        />
        <button type="button" className="icon-button" onClick={() => fileInput.current?.click()} aria-label="Attach a picture" title="Attach a picture (or paste, or drop one here)">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path
              fill="none"
              stroke="currentColor"
              strokeWidth="1.8"
              strokeLinecap="round"
              strokeLinejoin="round"
              d="M21 12.5l-8.3 8.3a5.3 5.3 0 01-7.5-7.5l8.7-8.7a3.5 3.5 0 015 5l-8.7 8.7a1.8 1.8 0 01-2.5-2.5l8-8"
            />
          </svg>
        </button>
        <label htmlFor={`${id}-text`} className="sr-only">
          Message
        </label>
        <textarea
          ref={textArea}
          id={`${id}-text`}
          rows={1}
          placeholder={draft.loaded ? 'Write a message… (Enter sends, Shift+Enter adds a line)' : 'Loading draft…'}
          value={draft.text}
          disabled={!draft.loaded}
          maxLength={4000}
          onChange={(e) => {
            setDraft({ text: e.target.value });
            // Every keystroke: the SDK sends one typing frame per few seconds for all tabs.
            if (e.target.value.trim()) client.startTyping(roomId);
            else client.stopTyping(roomId);
          }}
          onBlur={() => client.stopTyping(roomId)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
        />
        <button type="submit" className="primary" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
