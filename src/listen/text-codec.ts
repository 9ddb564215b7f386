// UTF-8 TextEncoder and TextDecoder for AudioWorkletGlobalScope, which has neither; model files carry a
// JSON header (util/container.ts reads it with TextDecoder), so a recognizer in a worklet needs them.
// Installed only where they are missing, and only by the worklet processor (a worklet's global scope is
// its own: nothing else on the page sees them).

/** The UTF-8 bytes of a string (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** The string of UTF-8 bytes; each byte of a malformed sequence becomes U+FFFD (model headers are
 *  written by TextEncoder, so this path is for robustness only). */
export function utf8Decode(bytes: Uint8Array): string {
  const units: number[] = [];
  let s = '';
  const flush = () => {
    s += String.fromCharCode(...units);
    units.length = 0;
  };
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    let c = need === 0 ? b : need === 1 ? b & 31 : need === 2 ? b & 15 : b & 7;
    let ok = need >= 0;
    for (let k = 1; ok && k <= need; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) ok = false;
      else c = (c << 6) | (next & 63);
    }
    // Overlong forms, surrogates and values past U+10FFFF are malformed too.
    if (ok && ((need === 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (need === 3 && (c < 0x10000 || c > 0x10ffff)))) ok = false;
    if (!ok) {
      units.push(0xfffd);
      i++;
    } else {
      if (c >= 0x10000) units.push(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 1023));
      else units.push(c);
      i += need + 1;
    }
    if (units.length >= 4096) flush();
  }
  flush();
  return s;
}

class Utf8Encoder {
  readonly encoding = 'utf-8';
  encode(text = ''): Uint8Array {
    return utf8Encode(text);
  }
}

class Utf8Decoder {
  readonly encoding = 'utf-8';
  decode(input?: ArrayBuffer | ArrayBufferView): string {
    if (!input) return '';
    const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
    return utf8Decode(bytes);
  }
}

/** Defines TextEncoder and TextDecoder (UTF-8 only) on the global scope where they are missing. */
export function ensureTextCodecs(): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.TextEncoder !== 'function') g.TextEncoder = Utf8Encoder;
  if (typeof g.TextDecoder !== 'function') g.TextDecoder = Utf8Decoder;
}
