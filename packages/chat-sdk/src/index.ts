/**
 * `@chat/sdk`: a framework-agnostic chat client. Start with `createChatClient`.
 * The wire protocol's schemas and types are at `@chat/sdk/protocol`.
 */
export { createChatClient, type ChatClientOptions } from './create-chat-client.js';
export type { ChatClient, ChatClientEvents, ChatClientEventSource, SessionStatus, Transport, UsersQuery } from './client/chat-client-api.js';
export type { DraftsApi } from './client/drafts-api.js';
export type { Draft, DraftState } from './client/drafts.js';
export type { ChatMessage, ChatReaction, MessageError, MessageStatus, RoomMessagesSnapshot } from './contract/chat-message.js';
export type { ChangeOp, ChatChange } from './contract/message-changes.js';
export type { SendInput } from './client/send-input.js';
export type { Store } from './contract/store.js';
export type { TypingState } from './contract/typing.js';
export type { PresenceMap, UserPresence } from './contract/presence.js';
export type { UsersInput, UsersState } from './client/chat-client-api.js';
export type { ConnectionState, ConnectionStatus, LoginCredentials, Session } from './contract/host-api.js';
export { exponentialBackoff, type Backoff, type BackoffOptions } from './host/backoff.js';
export { isBlobLike } from './contract/platform.js';
export {
  ChatError,
  isChatError,
  type ChatErrorData,
  type ErrorCode,
  type Image,
  type Message,
  type ReplyQuote,
  type Room,
  type User,
  MAX_TEXT_CHARS,
  MAX_UPLOAD_BYTES,
  IMAGE_MIME_TYPES,
} from './protocol/index.js';
// From its own module: the barrel's copy would bring the change schemas (and zod) into the first load.
export { isEmoji } from './protocol/emoji.js';
