// Discord's message limits, and the one helper every outgoing text goes
// through (the Discord adapter applies it to every reply), so no message,
// whatever it echoes, is ever refused by Discord for its length.

export const MESSAGE_LIMIT = 2000;

/** At most `max` UTF-16 units of `text`, cut at a line or word end when one is near, never inside a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? '')) end--;
  const window = text.slice(0, end);
  const nearBreak = Math.max(window.lastIndexOf('\n'), window.lastIndexOf(' '));
  return nearBreak >= end - 200 && nearBreak > 0 ? window.slice(0, nearBreak) : window;
}

/** `text` as is when it fits in one message, else cut with an ellipsis. */
export function fitMessage(text: string, max = MESSAGE_LIMIT): string {
  return text.length <= max ? text : cutText(text, max - 1) + '…';
}
