import type { ImageMimeType } from '@chat/sdk/protocol';

export interface ImageInfo {
  mime: ImageMimeType;
  width?: number;
  height?: number;
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The image type the bytes' signature says, or undefined when it is none of the four. */
export function sniffImageType(bytes: Uint8Array): ImageMimeType | undefined {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'image/webp';
  return undefined;
}

/**
 * The type from the signature plus the pixel size read from the header, when the header
 * is complete enough to say it. Undefined when the signature is none of the four types.
 */
export function readImageInfo(bytes: Uint8Array): ImageInfo | undefined {
  const mime = sniffImageType(bytes);
  if (!mime) return undefined;
  const size = mime === 'image/png' ? pngSize(bytes) : mime === 'image/gif' ? gifSize(bytes) : mime === 'image/jpeg' ? jpegSize(bytes) : webpSize(bytes);
  return size && size.width > 0 && size.height > 0 ? { mime, ...size } : { mime };
}

type Size = { width: number; height: number } | undefined;

function pngSize(b: Uint8Array): Size {
  // Signature, then the IHDR chunk: length (4), "IHDR" (4), width (4, BE), height (4, BE).
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return undefined;
  const view = dataView(b);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function gifSize(b: Uint8Array): Size {
  if (b.length < 10) return undefined;
  const view = dataView(b);
  return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
}

function jpegSize(b: Uint8Array): Size {
  // Walk the marker segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC).
  const view = dataView(b);
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    const length = view.getUint16(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    }
    if (marker === 0xd9 || marker === 0xda || length < 2) return undefined; // end, or scan data before any frame
    i += 2 + length;
  }
  return undefined;
}

function webpSize(b: Uint8Array): Size {
  const chunk = ascii(b, 12, 4);
  const view = dataView(b);
  if (chunk === 'VP8 ' && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X' && b.length >= 30) {
    return { width: uint24(b, 24) + 1, height: uint24(b, 27) + 1 };
  }
  return undefined;
}

function startsWith(b: Uint8Array, prefix: readonly number[]): boolean {
  return b.length >= prefix.length && prefix.every((byte, i) => b[i] === byte);
}

function ascii(b: Uint8Array, offset: number, length: number): string {
  if (b.length < offset + length) return '';
  return String.fromCharCode(...b.subarray(offset, offset + length));
}

function uint24(b: Uint8Array, offset: number): number {
  return b[offset]! | (b[offset + 1]! << 8) | (b[offset + 2]! << 16);
}

function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
