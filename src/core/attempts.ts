/**
 * The bound on how often one logical request (a blob GET, a manifest PUT…) may be sent. Every layer
 * that may repeat it — the registry client after a 5xx or a reset, the blob mover after a body cut
 * mid-stream — draws on the same budget, so retries never multiply across layers.
 */
export class Attempts {
  private used = 0;
  private readonly started = Date.now();
  constructor(
    readonly retries: number,
    private readonly deadlineMs = Number.POSITIVE_INFINITY,
  ) {}

  /** Claims one more send after the first; false once `retries` are used or the deadline passed. */
  retry(): boolean {
    if (this.used >= this.retries || Date.now() - this.started >= this.deadlineMs) return false;
    this.used++;
    return true;
  }

  /** Retries claimed so far (0 while on the first send). */
  get retried(): number {
    return this.used;
  }
}
