// Pieces of messages that every language builds the same way, with the words
// each language gives. No imports from the catalog, so translations can use
// these without an import cycle.

export interface SeedChanges {
  replaced: readonly { from: string; to: string }[];
  dropped: readonly string[];
}

/** At most `max` characters, quoted and separated by `separator`; `more(n)` says how many were left out. */
export function quotedChars(chars: readonly string[], max: number, more: (n: number) => string, separator: string): string {
  const shown = chars.slice(0, max).map((c) => JSON.stringify(c)).join(separator);
  return chars.length > max ? shown + more(chars.length - max) : shown;
}

/** What normalizing a seed changed (at most five of each), in `words`. */
export function seedChanges(
  v: SeedChanges,
  words: { changed(pairs: string): string; dropped(chars: string): string; more(n: number): string; separator: string },
): string {
  const pairs = v.replaced.map((r) => `${JSON.stringify(r.from)}→${JSON.stringify(r.to)}`);
  return [
    pairs.length ? words.changed(pairs.slice(0, 5).join(' ') + (pairs.length > 5 ? ' …' : '')) : '',
    v.dropped.length ? words.dropped(quotedChars(v.dropped, 5, words.more, ' ')) : '',
  ]
    .filter(Boolean)
    .join(words.separator);
}
