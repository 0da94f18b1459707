import type { ChatChange, ChatMessage } from '@chat/sdk';
import { useMessageActions } from '@chat/react';

function what(change: ChatChange): string {
  switch (change.op.kind) {
    case 'edit':
      return 'Edit';
    case 'delete':
      return 'Delete';
    case 'react':
      return change.op.on ? `Reaction ${change.op.emoji}` : `Taking back ${change.op.emoji}`;
  }
}

/** Edits and deletes on their way show as "Saving…" (reactions fade in their chip instead). */
export const pendingEdit = (message: ChatMessage): ChatChange | undefined =>
  message.changes?.find((c) => c.status === 'pending' && c.op.kind !== 'react');

/**
 * The user's changes to a message that are not done: one on its way, and each one that
 * failed (it no longer shows in the message) with Retry and Discard, as failed messages have.
 */
export function ChangeStatus({ message }: { message: ChatMessage }) {
  const { retry, discard } = useMessageActions();
  const failed = message.changes?.filter((c) => c.status === 'failed') ?? [];
  const pending = pendingEdit(message);
  if (failed.length === 0 && !pending) return null;
  return (
    <>
      {pending && (
        <p className="status" aria-label={pending.op.kind === 'delete' ? 'Deleting' : 'Saving edit'}>
          <span className="clock" aria-hidden="true" /> {pending.op.kind === 'delete' ? 'Deleting…' : 'Saving edit…'}
        </p>
      )}
      {failed.map((change) => (
        <p key={change.clientChangeId} className="status failed" role="alert">
          <span>
            {what(change)} not saved{change.error ? `: ${change.error.message}` : ''}.
          </span>
          <button type="button" className="link" onClick={() => void retry(change.clientChangeId).catch(() => undefined)}>
            Retry
          </button>
          <button type="button" className="link danger" onClick={() => void discard(change.clientChangeId).catch(() => undefined)}>
            Discard
          </button>
        </p>
      ))}
    </>
  );
}
