// Turns generated text into a Discord-safe reply. The text goes in a code
// block, so nothing in it renders as markdown or mentions; runs of backticks
// are broken so the text cannot close the block. A reply that would pass
// Discord's 2,000-character limit shows the beginning and attaches the whole
// text as a .txt file, so nothing is lost.
import type { Reply } from '../command.js';
import { cutText, MESSAGE_LIMIT } from './limits.js';
const FENCE = '```';
const ZERO_WIDTH_SPACE = '\u200b';

/** Puts a zero-width space after every backtick that precedes another one. */
function breakFences(text: string): string {
  return text.replace(/`(?=`)/g, '`' + ZERO_WIDTH_SPACE);
}

/**
 * The reply for a generated passage: the text in a code block, then the
 * signature (e.g. "— shakespeare v3"). `fileName` names the attachment used
 * when the text is too long to show whole.
 */
export function passageReply(text: string, signature: string, fileName: string): Reply {
  const block = (body: string) => `${FENCE}\n${body}\n${FENCE}\n`;
  const whole = block(breakFences(text)) + signature;
  if (whole.length <= MESSAGE_LIMIT) return { content: whole };
  const note = `*Cut short here; all ${text.length} characters are in ${fileName}.*\n`;
  const budget = MESSAGE_LIMIT - block('').length - note.length - signature.length - 1;
  const excerpt = cutText(breakFences(text), budget) + '…';
  return { content: block(excerpt) + note + signature, files: [{ name: fileName, data: Buffer.from(text, 'utf8') }] };
}
