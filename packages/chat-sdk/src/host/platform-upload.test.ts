import { describe, expect, it } from 'vitest';
import { xhrUpload } from './platform-upload.js';

/**
 * The XHR upload, with an XHR whose events the test plays: what a browser reports depends
 * on how much its kernel buffers (the browser test cannot make Chromium report steps), so
 * that every step XHR reports is passed on is held here.
 */
class ScriptedXhr {
  static last: ScriptedXhr | undefined;
  status = 0;
  responseText = '';
  readonly upload: { onprogress: ((event: { loaded: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  readonly headers: Record<string, string> = {};
  opened: [string, string] | undefined;
  sent: Blob | undefined;
  aborted = false;
  constructor() {
    ScriptedXhr.last = this;
  }
  open(method: string, url: string): void {
    this.opened = [method, url];
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  send(body: Blob): void {
    this.sent = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.();
  }
}

const body = new Blob([new Uint8Array(1000)], { type: 'image/png' });

function start(signal = new AbortController().signal) {
  const progress: Array<[number, number]> = [];
  const result = xhrUpload(ScriptedXhr)({ url: 'http://x/uploads', headers: { Authorization: 'Bearer t' }, body, signal, onProgress: (loaded, total) => progress.push([loaded, total]) });
  return { result, progress, xhr: ScriptedXhr.last! };
}

describe('xhrUpload', () => {
  it('passes on 0, then every step XHR reports (never past the size), and resolves with the answer', async () => {
    const { result, progress, xhr } = start();
    expect(xhr.opened).toEqual(['POST', 'http://x/uploads']);
    expect(xhr.headers).toEqual({ Authorization: 'Bearer t' });
    expect(xhr.sent).toBe(body);
    for (const loaded of [250, 600, 1000, 1200]) xhr.upload.onprogress!({ loaded }); // 1200: headers counted in, as some browsers do
    xhr.status = 201;
    xhr.responseText = '{"url":"/uploads/a"}';
    xhr.onload!();
    const answer = await result;
    expect(progress).toEqual([[0, 1000], [250, 1000], [600, 1000], [1000, 1000], [1000, 1000]]);
    expect(answer).toMatchObject({ ok: true, status: 201 });
    expect(await answer.json()).toEqual({ url: '/uploads/a' });
  });

  it('an aborted signal aborts the XHR and rejects with CLOSED; a network failure rejects', async () => {
    const control = new AbortController();
    const { result, xhr } = start(control.signal);
    control.abort();
    expect(xhr.aborted).toBe(true);
    await expect(result).rejects.toMatchObject({ code: 'CLOSED' });

    const failing = start();
    failing.xhr.onerror!();
    await expect(failing.result).rejects.toThrow(TypeError);
  });
});
