import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_UPLOAD_BYTES } from '@chat/sdk/protocol';
import type { RunningServer } from '../src/index.js';
import { createRoom, serverFixture, signUp, type SignedIn } from './helpers.js';
import { gif, jpeg, png, webpExtended, webpLossless, webpLossy } from './images.js';

const fx = serverFixture();
let server: RunningServer;
let alice: SignedIn;
beforeAll(async () => {
  server = await fx.start();
  alice = fx.track(await signUp(server));
});
afterAll(() => fx.cleanup());

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP request; `chunked` streams the body without a Content-Length. */
function http(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: Buffer; chunked?: boolean } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body && !options.chunked) headers['Content-Length'] = String(options.body.length);
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    if (options.body && options.chunked) {
      for (let i = 0; i < options.body.length; i += 256 * 1024) req.write(options.body.subarray(i, i + 256 * 1024));
    } else if (options.body) {
      req.write(options.body);
    }
    req.end();
  });
}

const upload = (body: Buffer, type: string, token: string | undefined = alice.token, extra: Record<string, string> = {}, chunked = false) =>
  http('POST', `${server.httpUrl}/uploads`, {
    headers: { 'Content-Type': type, ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra },
    body,
    chunked,
  });
const json = (r: HttpResult) => JSON.parse(r.body.toString('utf8'));

describe('POST /uploads', () => {
  test('201 with a relative url, the type, the size and the pixel size; GET serves it', async () => {
    const bytes = png(640, 480, 100);
    const res = await upload(bytes, 'image/png');
    expect(res.status).toBe(201);
    const body = json(res);
    expect(body).toEqual({ url: expect.stringMatching(/^\/uploads\/[A-Za-z0-9_-]{22,}$/), mime: 'image/png', size: 100, width: 640, height: 480 });
    const got = await http('GET', `${server.httpUrl}${body.url}`);
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  test('every image type, with its size read from the header', async () => {
    const cases: Array<[Buffer, string, number, number]> = [
      [gif(10, 20), 'image/gif', 10, 20],
      [jpeg(300, 200), 'image/jpeg', 300, 200],
      [webpLossy(64, 32), 'image/webp', 64, 32],
      [webpLossless(1000, 700), 'image/webp', 1000, 700],
      [webpExtended(4000, 3000), 'image/webp', 4000, 3000],
    ];
    for (const [bytes, type, width, height] of cases) {
      const res = await upload(bytes, `${type}; charset=binary`);
      expect(res.status, type).toBe(201);
      expect(json(res)).toMatchObject({ mime: type, size: bytes.length, width, height });
    }
  });

  test('ids are unguessable and distinct', async () => {
    const urls = await Promise.all(Array.from({ length: 5 }, async () => json(await upload(png(1, 1), 'image/png')).url as string));
    expect(new Set(urls).size).toBe(5);
  });

  test('checks run in order: 401, 415 (type), 413, 415 (bytes)', async () => {
    const tooBig = png(1, 1, MAX_UPLOAD_BYTES + 1);
    expect((await upload(tooBig, 'text/plain', '')).status).toBe(401);
    expect((await upload(png(1, 1), 'image/png', 'cs_wrong')).status).toBe(401);
    expect((await upload(tooBig, 'text/plain')).status).toBe(415);
    expect((await upload(tooBig, 'image/svg+xml')).status).toBe(415);
    expect((await upload(tooBig, 'image/gif')).status).toBe(413); // the type is checked before the bytes
    expect((await upload(png(1, 1), 'image/jpeg')).status).toBe(415);
    expect((await upload(Buffer.from('<svg/>'), 'image/png')).status).toBe(415);
    expect((await upload(Buffer.alloc(0), 'image/png')).status).toBe(415);
  });

  test('exactly 5 MiB is accepted; one byte more is 413, with or without a Content-Length', async () => {
    const exact = await upload(png(2, 2, MAX_UPLOAD_BYTES), 'image/png');
    expect(exact.status).toBe(201);
    expect(json(exact).size).toBe(MAX_UPLOAD_BYTES);
    expect((await upload(png(2, 2, MAX_UPLOAD_BYTES + 1), 'image/png')).status).toBe(413);
    expect((await upload(png(2, 2, MAX_UPLOAD_BYTES + 1), 'image/png', alice.token, {}, true)).status).toBe(413);
    expect((await upload(png(2, 2, MAX_UPLOAD_BYTES), 'image/png', alice.token, {}, true)).status).toBe(201);
  });

  test('a revoked token is 401', async () => {
    const bob = fx.track(await signUp(server));
    await bob.client.call('delete_connection');
    expect((await upload(png(1, 1), 'image/png', bob.token)).status).toBe(401);
  });

  test('urls come from the public-url setting, else are relative: never from the request Host', async () => {
    const viaHost = await upload(png(1, 1), 'image/png', alice.token, { Host: 'evil.example' });
    expect(json(viaHost).url).toMatch(/^\/uploads\/[A-Za-z0-9_-]+$/);
    const pub = await fx.start({ publicUrl: 'https://cdn.example.com/chat/' });
    const bob = fx.track(await signUp(pub));
    const res = await http('POST', `${pub.httpUrl}/uploads`, {
      headers: { 'Content-Type': 'image/png', Authorization: `Bearer ${bob.token}` },
      body: png(1, 1),
    });
    expect(json(res).url).toMatch(/^https:\/\/cdn\.example\.com\/chat\/uploads\/[A-Za-z0-9_-]+$/);
  });
});

describe('CORS and origins', () => {
  test('preflight without a token: allowed origin 204 with CORS headers, other origin 403', async () => {
    const ok = await http('OPTIONS', `${server.httpUrl}/uploads`, {
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(String(ok.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    const bad = await http('OPTIONS', `${server.httpUrl}/uploads`, { headers: { Origin: 'https://evil.example' } });
    expect(bad.status).toBe(403);
  });

  test('POST from an allowed origin carries CORS headers; from another origin it is 403', async () => {
    const ok = await upload(png(1, 1), 'image/png', alice.token, { Origin: 'http://127.0.0.1:4000' });
    expect(ok.status).toBe(201);
    expect(ok.headers['access-control-allow-origin']).toBe('http://127.0.0.1:4000');
    expect((await upload(png(1, 1), 'image/png', alice.token, { Origin: 'https://evil.example' })).status).toBe(403);
    const got = await http('GET', `${server.httpUrl}${json(ok).url}`, { headers: { Origin: 'http://localhost:3000' } });
    expect(got.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });
});

describe('GET /uploads/<id>', () => {
  test('unknown id is 404; other paths are 404', async () => {
    expect((await http('GET', `${server.httpUrl}/uploads/doesnotexist`)).status).toBe(404);
    expect((await http('GET', `${server.httpUrl}/nothing`)).status).toBe(404);
  });

  test('byte ranges: 206 with Content-Range (first-last, first-, -suffix), 416 past the end, the whole file otherwise', async () => {
    const bytes = png(4, 4, 300_000);
    for (let i = 33; i < bytes.length; i++) bytes[i] = i % 251; // every range reads differently
    const { url } = json(await upload(bytes, 'image/png'));
    const get = (range?: string) => http('GET', `${server.httpUrl}${url}`, range === undefined ? {} : { headers: { Range: range } });
    const whole = await get();
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-security-policy']).toBe("default-src 'none'");
    const part = await get('bytes=100-199');
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${bytes.length}`);
    expect(part.headers['content-length']).toBe('100');
    expect(part.headers['x-content-type-options']).toBe('nosniff');
    expect(part.body.equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await get('bytes=299990-');
    expect(tail.status).toBe(206);
    expect(tail.body.equals(bytes.subarray(299_990))).toBe(true);
    const suffix = await get('bytes=-10');
    expect(suffix.headers['content-range']).toBe(`bytes ${bytes.length - 10}-${bytes.length - 1}/${bytes.length}`);
    expect(suffix.body.equals(bytes.subarray(-10))).toBe(true);
    const past = await get(`bytes=${bytes.length}-`);
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${bytes.length}`);
    // Several ranges, or one that cannot be read: the whole file (RFC 9110 lets a server ignore Range).
    for (const ignored of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-3']) {
      const r = await get(ignored);
      expect(r.status, ignored).toBe(200);
      expect(r.body.equals(bytes), ignored).toBe(true);
    }
    const head = await http('HEAD', `${server.httpUrl}${url}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(bytes.length));
    expect(head.body.length).toBe(0);
  });
});

describe('images in messages', () => {
  test('recognised by path whatever the host; stored fields come from the upload', async () => {
    const bob = fx.track(await signUp(server));
    const room = await createRoom(alice.client, [bob.user.id]);
    const up = json(await upload(gif(33, 44), 'image/gif'));
    const path = new URL(up.url, server.httpUrl).pathname;
    const { message } = await alice.client.call('create_message', {
      roomId: room.id, clientId: 'img-1', image: { url: `https://some.other.host${path}`, mime: 'image/png', size: 1, width: 9999 },
    });
    expect(message.text).toBe('');
    expect(message.image).toEqual({ url: up.url, mime: 'image/gif', size: up.size, width: 33, height: 44 });
    expect((await bob.client.waitForEvent('message_created')).data.message.image).toEqual(message.image);
    const withText = await alice.client.call('create_message', { roomId: room.id, clientId: 'img-2', text: 'look', image: { url: up.url } });
    expect(withText.message).toMatchObject({ text: 'look', image: message.image });
    const relative = await alice.client.call('create_message', { roomId: room.id, clientId: 'img-3', image: { url: path } });
    expect(relative.message.image).toEqual(message.image);
  });
});
