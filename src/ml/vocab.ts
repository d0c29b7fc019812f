// Character vocabulary: sorted distinct characters of the corpus, so the same
// corpus always gives the same ids. Saved with every model. A character is a
// Unicode code point everywhere (building, encode, unknown, decode): an emoji
// is one character, never two UTF-16 halves.

/**
 * Characters quoted, the first `max` of them and a count of the rest: a
 * message naming them stays short however many there are.
 */
export function listCharacters(chars: readonly string[], separator = ', ', max = 10): string {
  const shown = chars.slice(0, max).map((c) => JSON.stringify(c)).join(separator);
  return chars.length > max ? `${shown} and ${chars.length - max} more` : shown;
}

export class UnknownCharactersError extends Error {
  constructor(readonly characters: string[]) {
    super(`unknown characters: ${listCharacters(characters)}`);
    this.name = 'UnknownCharactersError';
  }
}

export class Vocabulary {
  readonly chars: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(chars: Iterable<string>) {
    this.chars = [...new Set(chars)].sort();
    this.ids = new Map(this.chars.map((c, i) => [c, i]));
  }

  static fromText(text: string): Vocabulary {
    return new Vocabulary(text);
  }

  get size(): number {
    return this.chars.length;
  }

  has(char: string): boolean {
    return this.ids.has(char);
  }

  /** Distinct characters of `text` missing from the vocabulary, in order of appearance. */
  unknown(text: string): string[] {
    return [...new Set(text)].filter((c) => !this.ids.has(c));
  }

  /** Encodes `text`, one id per code point; throws UnknownCharactersError naming every unknown character. */
  encode(text: string): Int32Array {
    // At most one id per UTF-16 unit; trimmed to the code points found.
    const out = new Int32Array(text.length);
    let n = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) throw new UnknownCharactersError(this.unknown(text));
      out[n++] = id;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]];
    return s;
  }

  equals(other: Vocabulary): boolean {
    return this.chars.length === other.chars.length && this.chars.every((c, i) => c === other.chars[i]);
  }
}
