/**
 * Plain-text layout for mail: wrapping at a column, with a hanging indent. A token that cannot be broken (a
 * URL) goes on its own line whatever its length; any other over-long token is split.
 */
export const MAIL_WIDTH = 72;

const UNBREAKABLE = /^(?:https?:\/\/|<[^>]+@)/;

/** Wraps one paragraph: `first` prefixes the first line, `rest` the following ones. */
export function wrap(text: string, width = MAIL_WIDTH, first = "", rest = first): string[] {
  const words = text.split(/\s+/).filter((w) => w !== "");
  const lines: string[] = [];
  let line = first;
  let fresh = true;
  const push = () => {
    lines.push(line.trimEnd());
    line = rest;
    fresh = true;
  };
  for (let word of words) {
    if (!fresh && line.length + 1 + word.length > width) push();
    if (fresh && line.length + word.length > width && !UNBREAKABLE.test(word)) {
      while (line.length + word.length > width && width - line.length > 8) {
        const room = width - line.length;
        line += word.slice(0, room);
        word = word.slice(room);
        push();
      }
    }
    line += fresh ? word : ` ${word}`;
    fresh = false;
    if (UNBREAKABLE.test(word) && line.length > width) push();
  }
  if (!fresh || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}
