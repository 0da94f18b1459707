import type { ChatClient } from '@chat/sdk';
import { useContext } from 'react';
import { ChatContext } from './chat-provider.js';

/** The ChatClient of the nearest ChatProvider, for commands (`login`, `createRoom`, ...). */
export function useChatClient(): ChatClient {
  const client = useContext(ChatContext);
  if (!client) {
    throw new Error('@chat/react: no ChatClient here. Render this component inside <ChatProvider client={client}>.');
  }
  return client;
}
