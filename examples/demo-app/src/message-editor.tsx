import type { ChatMessage } from '@chat/sdk';
import { useMessageActions } from '@chat/react';
import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { describeError } from './format.js';
import { messageKey } from './reactions.js';

/**
 * Edits the text of one of the user's messages in place: Enter saves, Shift+Enter adds a
 * line, Esc cancels. The SDK shows the new text at once (pending) and sends it through the
 * outbox, after the message itself if that is still unsent.
 */
export function MessageEditor({ message, onDone }: { message: ChatMessage; onDone(): void }) {
  const { edit } = useMessageActions();
  const [text, setText] = useState(message.text);
  const [problem, setProblem] = useState<string | null>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  useEffect(() => {
    const el = field.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  function save() {
    const next = text.trim();
    if (next === message.text.trim()) return onDone();
    if (!next && !message.image && !message.localImage) {
      setProblem('A message needs some text. To remove it, delete it instead.');
      return;
    }
    try {
      edit(message.roomId, messageKey(message), { text: next });
      onDone();
    } catch (failure) {
      setProblem(describeError(failure));
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onDone();
    }
  }

  return (
    <div className="message-editor">
      <label htmlFor={id} className="sr-only">
        Edit message
      </label>
      <textarea id={id} ref={field} rows={1} value={text} maxLength={4000} onChange={(e) => setText(e.target.value)} onKeyDown={onKeyDown} />
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <p className="editor-hint muted">
        Enter saves · Esc cancels
        <button type="button" className="link" onClick={save}>
          Save
        </button>
        <button type="button" className="link" onClick={onDone}>
          Cancel
        </button>
      </p>
    </div>
  );
}
