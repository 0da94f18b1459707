// An app as docs/multi-tab.md tells one to write it: nothing but createChatClient({ url }).
import { createChatClient } from '@chat/sdk';

let client;
window.app = {
  start(url, transport = 'auto') {
    client = createChatClient({ url, transport, linkPingIntervalMs: 200, hostGraceMs: 300 });
    return client.transport;
  },
  ready: () => client.ready,
  transport: () => client.transport,
  signUp: (email) => client.signUp({ email }).then((user) => user.id),
  userId: () => client.session.getSnapshot()?.user.id ?? null,
  status: () => client.connection.getSnapshot().status,
};
