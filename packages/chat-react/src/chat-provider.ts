import type { ChatClient } from '@chat/sdk';
import { createContext, createElement, type ReactNode } from 'react';

/** Holds the app's one ChatClient. Null outside a ChatProvider, so useChatClient can say so. */
export const ChatContext = createContext<ChatClient | null>(null);

export interface ChatProviderProps {
  /**
   * Create it once, outside React (module scope or a ref in the app root): the provider
   * never creates or closes it, so StrictMode's double mount opens no second socket.
   */
  client: ChatClient;
  children?: ReactNode;
}

/** Makes `client` available to every hook below it. */
export function ChatProvider({ client, children }: ChatProviderProps) {
  // `.Provider` rather than `<Context value>`, which React 18 does not understand.
  return createElement(ChatContext.Provider, { value: client }, children);
}
