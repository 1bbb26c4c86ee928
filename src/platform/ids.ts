import { randomFillSync } from 'node:crypto';

// Random bytes drawn 4 KiB at a time: one call to the system's generator per 256 ids, not one per id.
const POOL = Buffer.alloc(4096);
let used = POOL.length;

function random16(into: Buffer): void {
  if (used + 16 > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  POOL.copy(into, 0, used, used + 16);
  used += 16;
}

/** A UUID version 7 (RFC 9562): time-ordered, so new rows land at the end of indexes. */
export function newId(now = Date.now()): string {
  const b = Buffer.allocUnsafe(16);
  random16(b);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Whether text is a UUID (any version, either case): ids from a URL are checked before they reach SQL. */
export const isUuid = (id: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
