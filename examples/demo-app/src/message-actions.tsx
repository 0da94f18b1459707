import type { ChatMessage } from '@chat/sdk';
import { QUICK_REACTIONS } from './reactions.js';

interface ToolbarProps {
  message: ChatMessage;
  mine: boolean;
  onReact(emoji: string): void;
  onReply(): void;
  onEdit(): void;
  onDelete(): void;
}

/**
 * What can be done to a message, shown on hover and on keyboard focus (CSS: `.message:hover`,
 * keyboard focus inside the row): a few reactions, Reply, and for the user's own messages Edit and Delete.
 * Every control is a button with a name, so Tab reaches them and the bar appears.
 */
export function MessageActions({ message, mine, onReact, onReply, onEdit, onDelete }: ToolbarProps) {
  return (
    <div className="message-actions" role="toolbar" aria-label="Message actions">
      {QUICK_REACTIONS.map(([emoji, label]) => {
        const on = message.reactions?.some((r) => r.emoji === emoji && r.mine) ?? false;
        return (
          <button
            key={emoji}
            type="button"
            className={`action emoji${on ? ' on' : ''}`}
            aria-pressed={on}
            aria-label={`React with ${emoji} (${label})`}
            title={on ? `Take back ${emoji}` : `React with ${emoji}`}
            onClick={() => onReact(emoji)}
          >
            {emoji}
          </button>
        );
      })}
      <span className="action-divider" aria-hidden="true" />
      <button type="button" className="action" onClick={onReply} title="Reply with a quote">
        Reply
      </button>
      {mine && (
        <>
          <button type="button" className="action" onClick={onEdit} title="Edit the text">
            Edit
          </button>
          <button type="button" className="action danger" onClick={onDelete} title="Delete for everyone">
            Delete
          </button>
        </>
      )}
    </div>
  );
}

/** "Delete this message?" under the message, asked before a delete (it cannot be undone). */
export function ConfirmDelete({ onConfirm, onCancel }: { onConfirm(): void; onCancel(): void }) {
  return (
    <div
      className="confirm-delete"
      role="group"
      aria-label="Delete message"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <span>Delete this message for everyone?</span>
      {/* Focus goes to the safe choice first. */}
      <button type="button" className="link" autoFocus onClick={onCancel}>
        Cancel
      </button>
      <button type="button" className="link danger" onClick={onConfirm}>
        Delete
      </button>
    </div>
  );
}
