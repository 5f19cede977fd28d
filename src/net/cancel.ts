/**
 * What connect needs of an AbortSignal. An AbortSignal is one; so is a Canceller, which request()
 * uses for its own total timeout because an AbortController with its EventTarget listeners was a
 * measurable share of a request to a local server.
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A minimal one-shot abort signal: cancel(reason) calls each listener once. */
export class Canceller implements AbortLike {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i !== -1) this.listeners.splice(i, 1);
  }

  cancel(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }
}

/** rawcrawl's one listener on a signal that is not a Canceller, and what it runs: see listenAbort(). */
interface FanOut {
  listeners: Set<() => void>;
  onAbort: () => void;
}
const fanOuts = new WeakMap<AbortLike, FanOut>();

/**
 * Calls `fn` once when `signal` aborts; returns what stops listening. A caller's AbortSignal
 * shared by many requests at once gets one listener from rawcrawl, whatever their number, which
 * runs theirs (and is removed when none is left): Node warns of a leak
 * (MaxListenersExceededWarning) from 11 listeners on one signal, and one signal commonly spans
 * more requests than that.
 */
export function listenAbort(signal: AbortLike, fn: () => void): () => void {
  if (signal instanceof Canceller) {
    signal.addEventListener('abort', fn);
    return () => signal.removeEventListener('abort', fn);
  }
  let fan = fanOuts.get(signal);
  if (!fan) {
    const listeners = new Set<() => void>();
    const onAbort = (): void => {
      fanOuts.delete(signal);
      for (const l of [...listeners]) l();
    };
    fan = { listeners, onAbort };
    fanOuts.set(signal, fan);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  const mine = fan;
  // A wrapper per call: the same function given twice listens twice, as with addEventListener.
  const entry = (): void => fn();
  mine.listeners.add(entry);
  return () => {
    if (!mine.listeners.delete(entry) || mine.listeners.size > 0) return;
    signal.removeEventListener('abort', mine.onAbort);
    if (fanOuts.get(signal) === mine) fanOuts.delete(signal);
  };
}

/** `p`, or a rejection with `signal.reason` as soon as `signal` aborts, whichever comes first. */
export function untilCancelled<T>(p: Promise<T>, signal: AbortLike): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stop = listenAbort(signal, () => reject(signal.reason));
    p.then(
      (v) => {
        stop();
        resolve(v);
      },
      (err: unknown) => {
        stop();
        reject(err);
      },
    );
  });
}
