// Streaming a long passage: the reply shows the text as it is written. Edits
// are rate-limited per interaction webhook by Discord, so: nothing before
// the first STREAM_AFTER_MS (a short passage arrives in one edit), then at
// most one edit every EDIT_EVERY_MS, one in flight at a time, always the
// latest text; a failed edit (a 429 discord.js could not absorb) doubles the
// spacing. The caller makes the final edit after finish().
import { log } from '../log.js';

export const STREAM_AFTER_MS = 2000;
export const EDIT_EVERY_MS = 1500;
const MAX_SPACING_MS = 12_000;

export class StreamedEdits {
  private latest: string | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextAt: number;
  private spacing = EDIT_EVERY_MS;
  private closed = false;

  constructor(private readonly edit: (textSoFar: string) => Promise<void>) {
    this.nextAt = Date.now() + STREAM_AFTER_MS;
  }

  /** The text so far (pass as GenerationProgress.onText). */
  readonly onText = (textSoFar: string): void => {
    this.latest = textSoFar;
    this.schedule();
  };

  /** Stops editing and waits for the edit in flight, so the final edit lands last. */
  async finish(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  private schedule(): void {
    if (this.closed || this.inFlight || this.timer) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.nextAt - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const text = this.latest;
    if (this.closed || text === undefined) return;
    this.latest = undefined;
    this.inFlight = this.edit(text)
      .then(() => void (this.spacing = EDIT_EVERY_MS))
      .catch((err: unknown) => {
        this.spacing = Math.min(MAX_SPACING_MS, this.spacing * 2);
        log.warn({ err, spacingMs: this.spacing }, 'a streaming edit failed; slowing down');
      })
      .finally(() => {
        this.inFlight = undefined;
        this.nextAt = Date.now() + this.spacing;
        if (this.latest !== undefined) this.schedule();
      });
  }
}
