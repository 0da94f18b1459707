import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const src = (path: string) => fileURLToPath(new URL(`../../packages/${path}`, import.meta.url));

/**
 * The demo builds the SDK and the React binding from their sources, so it needs no
 * `npm run build` first and always shows what the tree holds. The SharedWorker comes along:
 * the SDK's `new URL('./worker.js', import.meta.url)` is found by Vite and emitted with the app.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  resolve: {
    alias: {
      '@chat/sdk/in-tab': src('chat-sdk/src/in-tab.ts'),
      '@chat/sdk': src('chat-sdk/src/index.ts'),
      '@chat/react': src('chat-react/src/index.ts'),
    },
  },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
