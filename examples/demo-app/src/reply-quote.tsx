import type { ChatMessage, ReplyQuote as Quote, User } from '@chat/sdk';
import { useState } from 'react';

/** At most this many characters of the parent show in a quote (the server keeps 100). */
const QUOTE_CHARS = 100;

function quoteText(text: string, deleted: boolean, picture: boolean): string {
  if (deleted) return 'message deleted';
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return picture ? 'Picture' : '';
  const chars = [...flat];
  return chars.length > QUOTE_CHARS ? `${chars.slice(0, QUOTE_CHARS).join('')}…` : flat;
}

interface QuoteProps {
  quote: Quote;
  lookup: (id: string) => User | undefined;
  me: string | null;
  /** Scrolls to the parent and highlights it; false when the parent is not loaded here. */
  onJump(id: string): boolean;
}

/**
 * The quote a reply shows of its parent (as the server quoted it, kept fresh by the SDK).
 * A click scrolls to the parent and highlights it; a parent not loaded is said so.
 */
export function ReplyQuote({ quote, lookup, me, onJump }: QuoteProps) {
  // Why a click found nothing: the parent is beyond the loaded history, or (a reply to a message
  // still pending) it has no server id yet.
  const [missing, setMissing] = useState<string | null>(null);
  const who = quote.senderId === me ? 'You' : (lookup(quote.senderId)?.name ?? '…');
  const text = quoteText(quote.text, quote.deleted === true, true);
  return (
    <>
      <button
        type="button"
        className={`quote${quote.deleted ? ' deleted' : ''}`}
        aria-label={`Reply to ${who}: ${text}. Show the original message`}
        onClick={() =>
          setMissing(!quote.id ? 'The original message is not sent yet.' : onJump(quote.id) ? null : 'The original message is not loaded. Scroll up to load older messages.')
        }
      >
        <span className="quote-sender">{who}</span>
        <span className="quote-text">{text}</span>
      </button>
      {missing && (
        <p className="quote-missing muted" role="status">
          {missing}
        </p>
      )}
    </>
  );
}

/** Above the composer while replying: who and what is answered, and × to stop replying. */
export function ReplyingTo({ parent, lookup, me, onCancel }: { parent: ChatMessage; lookup: (id: string) => User | undefined; me: string | null; onCancel(): void }) {
  const who = parent.senderId === me ? 'yourself' : (lookup(parent.senderId)?.name ?? '…');
  const picture = parent.image !== null || parent.localImage !== undefined;
  return (
    <div className="replying" role="group" aria-label="Replying to">
      <div className="replying-quote">
        <span className="quote-sender">Replying to {who}</span>
        <span className="quote-text">{quoteText(parent.text, parent.deletedAt !== undefined, picture)}</span>
      </div>
      <button type="button" className="icon-button small" aria-label="Cancel reply" title="Cancel reply (Esc)" onClick={onCancel}>
        ×
      </button>
    </div>
  );
}
