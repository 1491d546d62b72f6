/**
 * Rolling 64-bit hash over processed events (two 32-bit FNV-1a style lanes), so that two runs can be
 * compared cheaply: same seed and same Node major give the same digest.
 */
// A time's two 32-bit words, read through a view of the same 8 bytes. Int32 (not Uint32) views and
// lanes that start as int32 keep every value a small integer for V8: the same digest, 2% fewer
// instructions per topology request than with uint32 words mixed into lanes that start above 2^31.
const f64 = new Float64Array(1);
const words = new Int32Array(f64.buffer);

/** @internal */
export class RollingDigest {
  private a = 0x811c9dc5 | 0;
  private b = 0x6a09e667 | 0;

  /** Mixes one processed event into the digest. */
  add(t: number, kind: number, tag: number): void {
    f64[0] = t;
    this.addWords(words[0]!, words[1]!, kind, tag);
  }

  /**
   * `add(t, kind, tag)` given the time's two 32-bit words (low, then high, as an `Int32Array` over a
   * `Float64Array` holding `t` reads them): the event loop reads them where the queue keeps the time.
   */
  addWords(lo: number, hi: number, kind: number, tag: number): void {
    let a = this.a;
    let b = this.b;
    a = Math.imul(a ^ lo, 0x01000193);
    a = Math.imul(a ^ hi, 0x01000193);
    a = Math.imul(a ^ kind, 0x01000193);
    a = Math.imul(a ^ tag, 0x01000193);
    b = Math.imul(b ^ hi, 0x5bd1e995);
    b ^= b >>> 15;
    b = Math.imul(b ^ lo, 0x5bd1e995);
    b ^= b >>> 13;
    b = Math.imul(b ^ ((kind << 16) | (tag & 0xffff)), 0x5bd1e995);
    b ^= tag >>> 16;
    this.a = a;
    this.b = b;
  }

  /** Mixes an arbitrary string (e.g. a trace record) into the digest. */
  addString(s: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.a = a;
    this.b = b;
  }

  /** 16 hex characters. */
  hex(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}
