// Sources decide which version should be served, TF Serving's *aspired*
// version; the manager (manager.ts) loads what they report. Today that is the
// registry's pointer, polled; a Redis notification would be another source.
import { log } from '../log.js';
import type { ModelRegistry, VersionRef } from '../registry/registry.js';

export interface AspiredVersionSource {
  /** The version to serve now. */
  aspired(): Promise<VersionRef>;
  /** Calls `onAspired` whenever the version to serve changes. */
  watch(intervalMs: number, onAspired: (ref: VersionRef) => Promise<void>): void;
  stop(): void;
}

/** The registry's `current` pointer, or the newest good version when that one is corrupt. */
export class PointerSource implements AspiredVersionSource {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly modelName: string,
  ) {}

  async aspired(): Promise<VersionRef> {
    return (await this.registry.resolveServable(this.modelName)).ref;
  }

  /**
   * Polls the pointer, so versions that another process publishes or rolls
   * back to are served too. A version that failed to resolve or to load is
   * tried again at the next tick.
   */
  watch(intervalMs: number, onAspired: (ref: VersionRef) => Promise<void>): void {
    let pointer: string | undefined;
    let reported: string | undefined;
    let busy = false;
    const tick = async () => {
      // Reading the pointer is cheap; resolving it verifies checksums, so only when it moved.
      const moved = (await this.registry.readPointer(this.modelName))?.version;
      if (moved === undefined || moved === pointer) return;
      const ref = await this.aspired();
      if (ref.version !== reported) await onAspired(ref);
      // Only once served: a failure above leaves both as they were, so the next tick retries.
      reported = ref.version;
      pointer = moved;
    };
    this.timer = setInterval(() => {
      // A slow load outlasts the interval; one tick at a time.
      if (busy) return;
      busy = true;
      void tick()
        .catch((err: Error) => log.error({ err }, 'registry watch failed; trying again at the next tick'))
        .finally(() => (busy = false));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
