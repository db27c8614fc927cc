/** A counting semaphore: at most `n` tasks run at once. */
export class Limiter {
  private active = 0;
  private queue: (() => void)[] = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

/** Runs each key's work once; later callers share the first caller's promise. */
export class SingleFlight<T> {
  private inflight = new Map<string, Promise<T>>();
  do(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.inflight.get(key);
    if (!p) {
      p = fn();
      this.inflight.set(key, p);
    }
    return p;
  }
}

/**
 * A semaphore whose permits are taken and given back by hand: the registry client holds one for a
 * request from its send until its body is read or cancelled, which no single callback spans.
 */
export class Permits {
  private free: number;
  private queue: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.queue.push(r));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    };
  }
}
