// Forgiving seeds: text as people type or paste it (typographic quotes,
// dashes, ellipses, emoji, full-width letters) turned into characters the
// model knows. Pure text: the caller passes what the vocabulary has.

/** Typographic characters and the ASCII the corpus writes instead. */
const ASCII_FORMS: Readonly<Record<string, string>> = {
  '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'", '\u00b4': "'", '`': "'",
  '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u201f': '"', '\u2033': '"', '\u00ab': '"', '\u00bb': '"',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-',
  '\u2026': '...', '\t': ' ', '\r': '\n',
};

/** The letter without its accents ("é" → "e"), for vocabularies without accented letters. */
const withoutMarks = (char: string) => char.normalize('NFD').replace(/\p{M}/gu, '');

export interface NormalizedSeed {
  text: string;
  /** Distinct replacements made, in order of appearance (not counting NFKC's). */
  replaced: { from: string; to: string }[];
  /** Distinct characters dropped because the vocabulary lacks them. */
  dropped: string[];
}

/**
 * NFKC, then the ASCII forms above where the vocabulary lacks the original
 * (and the letter without accents), then every character still unknown dropped (whole code points, so an emoji
 * never leaves half a surrogate pair). A space left doubled by a drop is
 * merged: "Hello 😀 world" becomes "Hello world".
 */
export function normalizeSeed(raw: string, has: (char: string) => boolean): NormalizedSeed {
  const fit = (char: string): string => {
    if (has(char)) return char;
    const ascii = ASCII_FORMS[char];
    return ascii !== undefined && [...ascii].every(has) ? ascii : '';
  };
  const replaced = new Map<string, string>();
  const dropped = new Set<string>();
  let out = '';
  let afterDrop = false;
  for (const char of raw.replace(/\r\n/g, '\n')) {
    const kept = has(char) ? char : [...(ASCII_FORMS[char] ?? char.normalize('NFKC'))].map((c) => fit(c) || fit(withoutMarks(c))).join('');
    if (kept === '') {
      dropped.add(char);
      afterDrop = true;
      continue;
    }
    // Whitespace changes (tabs, carriage returns) are not worth a note.
    if (kept !== char && !/\s/.test(char)) replaced.set(char, kept);
    out += afterDrop && kept.startsWith(' ') && out.endsWith(' ') ? kept.slice(1) : kept;
    afterDrop = false;
  }
  return { text: out, replaced: [...replaced].map(([from, to]) => ({ from, to })), dropped: [...dropped] };
}
