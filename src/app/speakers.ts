// Speaker headings of the corpus ("ROMEO:", "KING RICHARD III:") for seed
// autocomplete. The index is built once per served version (a retrain may
// have added text) and kept for the latest one only; a lookup is a scan of a
// few hundred headings, well within Discord's 3 s for autocomplete.
import { readCorpus } from '../ml/corpus.js';
import type { Generation, Speakers } from './services.js';

/** A line that is only a heading: a capitalized name of up to 60 characters and a colon. */
const HEADING = /^([A-Z][A-Za-z' -]{0,59}):$/gm;

/** Headings of `text`, most frequent first (ties alphabetically). */
export function speakerHeadings(text: string): string[] {
  const counts = new Map<string, number>();
  for (const [, name] of text.matchAll(HEADING)) counts.set(`${name}:`, (counts.get(`${name}:`) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([h]) => h);
}

export class SpeakerIndex implements Speakers {
  private built: { version: string; headings: Promise<string[]> } | undefined;

  constructor(
    private readonly corpusDir: string,
    private readonly generator: Pick<Generation, 'serving'>,
  ) {}

  async suggest(typed: string): Promise<string[]> {
    const query = typed.trim().toLowerCase();
    const headings = await this.headings();
    const starts = headings.filter((h) => h.toLowerCase().startsWith(query));
    const contains = query ? headings.filter((h) => !h.toLowerCase().startsWith(query) && h.toLowerCase().includes(query)) : [];
    return [...starts, ...contains];
  }

  private headings(): Promise<string[]> {
    const version = this.generator.serving()?.version ?? '';
    if (this.built?.version !== version) {
      const headings = readCorpus(this.corpusDir).then(
        (c) => speakerHeadings(c.text),
        // No corpus (a deployment with models only): nothing to suggest, asked again next version.
        () => [],
      );
      this.built = { version, headings };
    }
    return this.built.headings;
  }
}
