/**
 * `@chat/react`: a provider and hooks over `@chat/sdk`'s stores, nothing else. Create the
 * ChatClient outside React, hand it to `<ChatProvider client>`, and read with the hooks.
 */
export { ChatProvider, type ChatProviderProps } from './chat-provider.js';
export { useChatClient } from './use-chat-client.js';
export { useConnection } from './use-connection.js';
export { useTransport } from './use-transport.js';
export { useSession } from './use-session.js';
export { useSessionStatus } from './use-session-status.js';
export { useUserId } from './use-user-id.js';
export { useRooms } from './use-rooms.js';
export { useRoom } from './use-room.js';
export { useUnreadCount } from './use-unread-count.js';
export { useReceipts } from './use-receipts.js';
export { useMessages, type UseMessagesResult } from './use-messages.js';
export { useSendMessage } from './use-send-message.js';
export { useMessageActions, type MessageActions } from './use-message-actions.js';
export { useFailedMessages } from './use-failed-messages.js';
export { useDraft, type DraftPatch, type DraftValue } from './use-draft.js';
export { useUsers, type UsersInput, type UsersState } from './use-users.js';
export { useChatEvent } from './use-chat-event.js';
export { useTyping } from './use-typing.js';
export { usePresence } from './use-presence.js';
