/**
 * A fixed set of worker threads running one piece of code, fed from a queue so a long task never
 * waits behind another on a busy worker. Workers hold the process open only while they work.
 *
 * The code is given as source text (turned into a Blob URL) so the single compiled binary needs no
 * extra entry point. A worker runs one task at a time: it receives the task and posts `{ progress }`
 * any number of times, then `{ result }` or `{ error: { message, code } }`.
 */
export interface WorkerPool<Task, Result> {
  run(task: Task, transfer?: ArrayBuffer[], onProgress?: (n: number) => void): Promise<Result>;
  /** Ends the idle workers now and each busy one when its task is done. */
  close(): void;
}

interface Job {
  msg: Record<string, unknown>;
  transfer: ArrayBuffer[];
  onProgress?: (n: number) => void;
  resolve: (r: never) => void;
  reject: (e: Error) => void;
}

export class WorkerTaskError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function cores(): number {
  return Math.max(1, Math.min(8, navigator.hardwareConcurrency || 2));
}

export function createWorkerPool<Task extends object, Result>(source: string, size = cores()): WorkerPool<Task, Result> {
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  const queue: Job[] = [];
  const idle: Worker[] = [];
  /** The job each busy worker runs: one at a time, so a message needs no lookup by id. */
  const current = new Map<Worker, Job>();
  let started = 0;
  let closed = false;

  const dispatch = () => {
    while (queue.length) {
      let w = idle.pop();
      if (!w && started < size) w = spawn();
      if (!w) return;
      const job = queue.shift()!;
      current.set(w, job);
      (w as Worker & { ref(): void }).ref();
      w.postMessage(job.msg, job.transfer);
    }
  };

  const spawn = (): Worker => {
    started++;
    const w = new Worker(url, { smol: true } as WorkerOptions);
    w.onmessage = (e: MessageEvent<{ progress?: number; result?: unknown; error?: { message: string; code?: string } }>) => {
      const job = current.get(w);
      if (!job) return;
      if (e.data.progress !== undefined) return job.onProgress?.(e.data.progress);
      current.delete(w);
      if (e.data.error) job.reject(new WorkerTaskError(e.data.error.message, e.data.error.code));
      else job.resolve(e.data.result as never);
      (w as Worker & { unref(): void }).unref();
      if (closed && queue.length === 0) {
        w.terminate();
        return;
      }
      idle.push(w);
      dispatch();
    };
    // a worker that dies (out of memory, a bug) fails its task instead of leaving it waiting forever
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const job = current.get(w);
      current.delete(w);
      w.terminate();
      started--;
      job?.reject(new WorkerTaskError(`worker thread failed: ${e.message}`, undefined));
      dispatch();
    };
    return w;
  };

  return {
    run(task, transfer = [], onProgress) {
      return new Promise<Result>((resolve, reject) => {
        queue.push({ msg: task as Record<string, unknown>, transfer, onProgress, resolve: resolve as (r: never) => void, reject });
        dispatch();
      });
    },
    close() {
      closed = true;
      for (const w of idle.splice(0)) w.terminate();
      URL.revokeObjectURL(url);
    },
  };
}

/**
 * The worker pools of one piece of work (a copy, a server): one pool per kind of worker code,
 * created when first needed and closed by the owner — never module-level, so a library user
 * controls how many threads exist and when they end.
 */
export class WorkerPools {
  private readonly pools = new Map<string, WorkerPool<object, unknown>>();

  get<Task extends object, Result>(source: string): WorkerPool<Task, Result> {
    let p = this.pools.get(source);
    if (!p) {
      p = createWorkerPool<object, unknown>(source);
      this.pools.set(source, p);
    }
    return p as unknown as WorkerPool<Task, Result>;
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}
