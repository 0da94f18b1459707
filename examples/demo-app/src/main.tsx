import { ChatProvider } from '@chat/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { client } from './client.js';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ChatProvider client={client}>
      <App />
    </ChatProvider>
  </StrictMode>,
);
