// Turns generated text into a Discord-safe reply. The text goes in a code
// block, so nothing in it renders as markdown or mentions; runs of backticks
// are broken so the text cannot close the block. A reply that would pass
// Discord's 2,000-character limit shows the beginning and attaches the whole
// text as a .txt file, so nothing is lost.
import type { Reply } from '../command.js';
import { text as say } from '../i18n.js';
import { cutText, MESSAGE_LIMIT } from './limits.js';
const FENCE = '```';
const ZERO_WIDTH_SPACE = '\u200b';

/** Puts a zero-width space after every backtick that precedes another one. */
function breakFences(text: string): string {
  return text.replace(/`(?=`)/g, '`' + ZERO_WIDTH_SPACE);
}

const block = (body: string) => `${FENCE}\n${body}\n${FENCE}\n`;

/**
 * The reply for a generated passage: the text in a code block, then `notes`
 * (one short line each) and the signature (e.g. "— shakespeare v3").
 * `fileName` names the attachment used when the text is too long to show
 * whole (a note in `locale` says so); `whole` says whether the message shows all of it.
 */
export function passageReply(text: string, signature: string, fileName: string, notes: readonly string[], locale: string): Reply & { whole: boolean } {
  const tail = notes.map((n) => `*${n}*\n`).join('') + signature;
  const whole = block(breakFences(text)) + tail;
  if (whole.length <= MESSAGE_LIMIT) return { content: whole, whole: true };
  const cut = `*${say(locale, 'cutShort', { chars: text.length, file: fileName })}*\n`;
  const budget = MESSAGE_LIMIT - block('').length - cut.length - tail.length - 1;
  const excerpt = cutText(breakFences(text), budget) + '…';
  return { content: block(excerpt) + cut + tail, files: [{ name: fileName, data: Buffer.from(text, 'utf8') }], whole: false };
}

/** The text of a passage message made by passageReply (its excerpt when it was cut); undefined for any other message. */
export function passageText(content: string): string | undefined {
  if (!content.startsWith(`${FENCE}\n`)) return undefined;
  // breakFences leaves no two backticks in a row, so the first fence after the opening one closes the block.
  const end = content.indexOf(`\n${FENCE}\n`, FENCE.length);
  return end < 0 ? undefined : content.slice(FENCE.length + 1, end).replaceAll(`\`${ZERO_WIDTH_SPACE}`, '`');
}
