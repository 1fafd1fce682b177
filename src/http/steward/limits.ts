/**
 * A per-address limit on the steward pages' POSTs that need no session (using a sign-in link,
 * asking for a passkey challenge, answering one): each is cheap to send and writes or reads a
 * row, so one address may send `max` of them a minute. Guessing a link is hopeless anyway (256
 * random bits); this keeps a script from filling the challenge table or the logs.
 * STEWARD_SIGN_IN_RATE_LIMIT sets `max` (30 by default; 0 turns the limit off).
 */

const WINDOW_MS = 60_000;
/** Beyond this many addresses in one window, the oldest windows are forgotten first. */
const MAX_TRACKED = 10_000;

export class SignInLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(max: number, now: () => number = Date.now) {
    this.#max = max;
    this.#now = now;
  }

  /** Counts one request from `address`; the seconds to wait when it is over the limit, else 0. */
  take(address: string): number {
    if (this.#max <= 0) return 0;
    const now = this.#now();
    let w = this.#windows.get(address);
    if (!w || now - w.start >= WINDOW_MS) {
      if (this.#windows.size >= MAX_TRACKED) this.#forgetOld(now);
      w = { start: now, count: 0 };
      this.#windows.set(address, w);
    }
    w.count++;
    return w.count > this.#max ? Math.max(1, Math.ceil((w.start + WINDOW_MS - now) / 1000)) : 0;
  }

  #forgetOld(now: number): void {
    for (const [address, w] of this.#windows) if (now - w.start >= WINDOW_MS) this.#windows.delete(address);
    // Still full: all are recent; drop the oldest (Map keeps insertion order).
    for (const address of this.#windows.keys()) {
      if (this.#windows.size < MAX_TRACKED) break;
      this.#windows.delete(address);
    }
  }
}
