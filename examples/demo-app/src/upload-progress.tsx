import type { ChatMessage } from '@chat/sdk';
import { useMessageActions } from '@chat/react';

/** While a pending picture uploads: bytes sent of its total, as the platform reports them. */
export const uploadOf = (message: ChatMessage) => message.upload;

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
