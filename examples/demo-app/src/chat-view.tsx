import { type ChatMessage, IMAGE_MIME_TYPES, MAX_UPLOAD_BYTES } from '@chat/sdk';
import { useChatClient, useDraft, useRoom, useUserId } from '@chat/react';
import { type DragEvent, useEffect, useState } from 'react';
import { LastSeen, MemberName, TypingLine } from './awareness.js';
import { Composer } from './composer.js';
import { formatBytes, MAX_UPLOAD_LABEL, roomTitle } from './format.js';
import { MessageList } from './message-list.js';
import { AddPeople, LeaveRoom } from './room-members.js';
import { useUserLookup } from './users.js';

/** Checks a picked, pasted or dropped file; returns why it cannot be sent, or null. */
export function imageProblem(file: Blob & { name?: string }): string | null {
  const label = file.name ? `“${file.name}”` : 'This file';
  if (!(IMAGE_MIME_TYPES as readonly string[]).includes(file.type)) {
    return `${label} is not an image we can send. Use a PNG, JPEG, GIF or WebP picture.`;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return `${label} is ${formatBytes(file.size)}; pictures can be at most ${MAX_UPLOAD_LABEL}.`;
  }
  return null;
}

export function ChatView({ roomId }: { roomId: string }) {
  const room = useRoom(roomId);
  const me = useUserId();
  const client = useChatClient();
  const lookup = useUserLookup(room?.memberIds ?? []);
  const [dropping, setDropping] = useState(false);
  const [, setDraft] = useDraft(roomId);
  const [problem, setProblem] = useState<string | null>(null);
  const [panel, setPanel] = useState<'add' | 'leave' | null>(null);
  /** The message a Reply action picked: quoted above the composer until sent or cancelled. */
  const [replyingTo, setReplyingTo] = useState<ChatMessage | null>(null);

  /** Attaches a picked, pasted or dropped file to the draft, or says why it cannot go. */
  const attach = (file: Blob & { name?: string }) => {
    const why = imageProblem(file);
    setProblem(why);
    if (!why) setDraft({ image: file });
  };

  // Everything up to the room's newest message is read while it is open and the page is on
  // screen (a tab in the background reads nothing); the SDK coalesces, keeps it through an
  // offline moment, and every tab and device of the user follows.
  const lastSeq = room?.lastSeq ?? 0;
  useEffect(() => {
    const read = () => {
      if (lastSeq > 0 && document.visibilityState === 'visible') client.markRead(roomId).catch(() => undefined);
    };
    read();
    document.addEventListener('visibilitychange', read);
    return () => document.removeEventListener('visibilitychange', read);
  }, [client, roomId, lastSeq]);

  if (!room) {
    return (
      <div className="empty-main">
        <p className="muted">This room is not among yours (or the list is still loading).</p>
      </div>
    );
  }

  const title = roomTitle(room, me, lookup);
  const others = room.memberIds.filter((id) => id !== me);

  const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer.types).includes('Files');
  return (
    <section
      className={`chat${dropping ? ' dropping' : ''}`}
      aria-labelledby="chat-title"
      onDragEnter={(e) => {
        if (hasFiles(e)) setDropping(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target || !e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setDropping(false);
        const file = e.dataTransfer.files[0];
        if (file) attach(file);
      }}
    >
      <header className="pane-head chat-head">
        <div>
          <h2 id="chat-title">
            {title} <LastSeen others={others} />
          </h2>
          <p className="members">
            {room.memberIds.length} members:{' '}
            {room.memberIds.map((id, i) => (
              <span key={id}>
                {i > 0 && ', '}
                {id === me ? 'you' : <MemberName userId={id} name={lookup(id)?.name ?? '…'} />}
              </span>
            ))}
          </p>
        </div>
        <div className="head-actions">
          <button type="button" className="ghost" aria-expanded={panel === 'add'} onClick={() => setPanel(panel === 'add' ? null : 'add')}>
            Add people
          </button>
          <button type="button" className="ghost" aria-expanded={panel === 'leave'} onClick={() => setPanel(panel === 'leave' ? null : 'leave')}>
            Leave room
          </button>
        </div>
      </header>
      {panel === 'add' && <AddPeople room={room} onDone={() => setPanel(null)} />}
      {panel === 'leave' && <LeaveRoom room={room} title={title} onDone={() => setPanel(null)} />}
      <MessageList roomId={roomId} lookup={lookup} onReply={setReplyingTo} />
      <TypingLine roomId={roomId} lookup={lookup} />
      <Composer
        roomId={roomId}
        attach={attach}
        problem={problem}
        setProblem={setProblem}
        replyingTo={replyingTo}
        setReplyingTo={setReplyingTo}
        lookup={lookup}
      />
      {dropping && (
        <div className="drop-hint" aria-hidden="true">
          Drop a picture to attach it
        </div>
      )}
    </section>
  );
}
