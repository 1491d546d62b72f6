/**
 * Rolling 64-bit hash over processed events (two 32-bit FNV-1a style lanes), so that two runs can be
 * compared cheaply: same seed and same Node major give the same digest.
 */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** @internal */
export class RollingDigest {
  private a = 0x811c9dc5;
  private b = 0x6a09e667;

  /** Mixes one processed event into the digest. */
  add(t: number, kind: number, tag: number): void {
    f64[0] = t;
    let a = this.a;
    let b = this.b;
    a = Math.imul(a ^ u32[0]!, 0x01000193);
    a = Math.imul(a ^ u32[1]!, 0x01000193);
    a = Math.imul(a ^ kind, 0x01000193);
    a = Math.imul(a ^ tag, 0x01000193);
    b = Math.imul(b ^ u32[1]!, 0x5bd1e995);
    b ^= b >>> 15;
    b = Math.imul(b ^ u32[0]!, 0x5bd1e995);
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
