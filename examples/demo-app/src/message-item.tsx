import type { ChatMessage, User } from '@chat/sdk';
import { useMessageActions, useUserId } from '@chat/react';
import { type CSSProperties, memo, useCallback, useState } from 'react';
import { ChangeStatus, pendingEdit } from './change-status.js';
import { imageUrl } from './config.js';
import { describeError, formatTime } from './format.js';
import { ConfirmDelete, MessageActions } from './message-actions.js';
import { MessageEditor } from './message-editor.js';
import { useObjectUrl } from './object-url.js';
import { messageKey, ReactionChips, useToggleReaction } from './reactions.js';
import { ReplyQuote } from './reply-quote.js';
import { UploadProgress, uploadOf } from './upload-progress.js';
import { hue, initials } from './users.js';

export const time = (message: ChatMessage) => message.createdAt ?? message.localCreatedAt;

export interface ItemProps {
  message: ChatMessage;
  mine: boolean;
  sender: User | undefined;
  continued: boolean;
  /** Who has read up to this message (shown under the user's last one). */
  seenBy: string;
  /** Just jumped to from a reply's quote: flashes for a moment. */
  highlighted: boolean;
  lookup: (id: string) => User | undefined;
  onMediaLoad(): void;
  onReply(message: ChatMessage): void;
  /** Scrolls to a message by server id and highlights it; false when it is not loaded. */
  onJump(id: string): boolean;
}

/** One message. Text is rendered as text (React escapes it), never as HTML. */
export const MessageItem = memo(function MessageItem(props: ItemProps) {
  const { message, mine, sender, continued, seenBy, highlighted, lookup, onMediaLoad, onReply, onJump } = props;
  const me = useUserId();
  const actions = useMessageActions();
  const [mode, setMode] = useState<'view' | 'edit' | 'delete'>('view');
  const [problem, setProblem] = useState<string | null>(null);
  const onProblem = useCallback((failure: unknown) => setProblem(describeError(failure)), []);
  const toggle = useToggleReaction(message, onProblem);

  const name = mine ? 'You' : (sender?.name ?? '…');
  const deleted = message.deletedAt !== undefined;
  const changing = pendingEdit(message) !== undefined;
  // A failed message offers Retry and Discard only; a tombstone nothing.
  const actionable = !deleted && message.status !== 'failed' && mode === 'view';

  // Done editing or deciding: back to writing, where Enter was going anyway.
  const back = () => {
    setMode('view');
    document.querySelector<HTMLTextAreaElement>('.composer textarea')?.focus();
  };

  const remove = () => {
    back();
    try {
      actions.delete(message.roomId, messageKey(message));
    } catch (failure) {
      onProblem(failure);
    }
  };

  const classes = ['message', mine ? 'mine' : 'theirs', `status-${message.status}`];
  if (continued) classes.push('continued');
  if (deleted) classes.push('deleted');
  if (changing) classes.push('change-pending');
  if (highlighted) classes.push('highlight');

  return (
    <li className={classes.join(' ')} data-status={message.status} data-id={message.id ?? undefined} tabIndex={-1}>
      {!mine && (
        <span className="avatar" style={{ '--h': hue(message.senderId) } as CSSProperties} aria-hidden="true">
          {continued ? '' : initials(sender?.name ?? '?')}
        </span>
      )}
      <div className="bubble-col">
        {!continued && (
          <div className="meta">
            <span className="sender">{name}</span>
            <time dateTime={new Date(time(message)).toISOString()}>{formatTime(time(message))}</time>
          </div>
        )}
        <div className="bubble">
          {message.replyTo && <ReplyQuote quote={message.replyTo} lookup={lookup} me={me} onJump={onJump} />}
          {deleted ? (
            <p className="text tombstone">message deleted</p>
          ) : (
            <>
              <MessageImage message={message} onLoad={onMediaLoad} />
              {mode === 'edit' ? (
                <MessageEditor message={message} onDone={back} />
              ) : (
                message.text && <p className="text">{message.text}</p>
              )}
              {message.editedAt !== undefined && mode !== 'edit' && (
                <span className="edited muted" title={`Edited ${formatTime(message.editedAt)}`}>
                  (edited)
                </span>
              )}
            </>
          )}
        </div>
        <ReactionChips message={message} lookup={lookup} onToggle={toggle} />
        {mode === 'delete' && <ConfirmDelete onConfirm={remove} onCancel={back} />}
        {problem && (
          <p className="status failed" role="alert">
            <span>{problem}</span>
            <button type="button" className="link" onClick={() => setProblem(null)}>
              Dismiss
            </button>
          </p>
        )}
        <ChangeStatus message={message} />
        {mine && !deleted && <MessageStatus message={message} />}
        {seenBy && (
          <p className="status seen" aria-label={`Seen by ${seenBy}`}>
            ✓✓ Seen by {seenBy}
          </p>
        )}
      </div>
      {actionable && (
        <MessageActions
          message={message}
          mine={mine}
          onReact={toggle}
          onReply={() => onReply(message)}
          onEdit={() => setMode('edit')}
          onDelete={() => setMode('delete')}
        />
      )}
    </li>
  );
});

function MessageImage({ message, onLoad }: { message: ChatMessage; onLoad(): void }) {
  // While pending (and after, so it does not flicker) the local Blob; otherwise the server's url.
  const local = useObjectUrl(message.localImage ?? null);
  const remote = message.image ? imageUrl(message.image.url) : null;
  const src = local ?? remote;
  const [broken, setBroken] = useState<string | null>(null);
  if (!src && !message.localImage) return null;
  if (src && broken === src) return <span className="picture-broken">This picture cannot be shown</span>;
  const { width, height } = message.image ?? {};
  return (
    <a className="picture" href={remote ?? src ?? undefined} target="_blank" rel="noreferrer noopener">
      {src ? (
        <img src={src} alt="Picture" width={width} height={height} onLoad={onLoad} onError={() => setBroken(src)} style={width && height ? { aspectRatio: `${width} / ${height}` } : undefined} />
      ) : (
        <span className="picture-placeholder" />
      )}
    </a>
  );
}

function MessageStatus({ message }: { message: ChatMessage }) {
  const { retry, discard } = useMessageActions();
  if (message.status === 'pending' && uploadOf(message)) return <UploadProgress message={message} />;
  if (message.status === 'pending') {
    return (
      <p className="status" aria-label="Sending">
        <span className="clock" aria-hidden="true" /> Sending…
      </p>
    );
  }
  if (message.status === 'sent') {
    return (
      <p className="status" aria-label="Sent">
        ✓ Sent
      </p>
    );
  }
  return (
    <p className="status failed" role="alert">
      <span>Not sent{message.error ? `: ${message.error.message}` : ''}.</span>
      <button type="button" className="link" onClick={() => void retry(message.clientId)}>
        Retry
      </button>
      <button type="button" className="link danger" onClick={() => void discard(message.clientId)}>
        Discard
      </button>
    </p>
  );
}
