import type { ChatMessage } from '@chat/sdk';
import { useMessageActions } from '@chat/react';

/**
 * `ChatMessage.upload` comes with upload progress (branch upl14). Until that SDK change is in
 * this tree the field is read through this type, so the bar simply never shows without it.
 */
type Uploading = { readonly upload?: { readonly loaded: number; readonly total: number } | undefined };

export const uploadOf = (message: ChatMessage) => (message as ChatMessage & Uploading).upload;

/** A pending picture's upload: a bar, and Cancel (discard). Refused once the message is on its way: it then shows as sent. */
export function UploadProgress({ message }: { message: ChatMessage }) {
  const { discard } = useMessageActions();
  const upload = uploadOf(message);
  if (message.status !== 'pending' || !upload) return null;
  const { loaded, total } = upload;
  const percent = total > 0 ? Math.floor((loaded / total) * 100) : 0;
  return (
    <p className="status upload" aria-label="Uploading">
      <progress max={total} value={loaded} aria-label={`Uploading: ${percent} %`} />
      <span aria-hidden="true">{percent} %</span>
      <button type="button" className="link danger" onClick={() => void discard(message.clientId).catch(() => undefined)}>
        Cancel
      </button>
    </p>
  );
}
