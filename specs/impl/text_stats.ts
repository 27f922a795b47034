// As the Python implementation counts: characters are code points, lines are split as
// str.splitlines() splits them, sentences end in . ! or ? before whitespace or the end.
const SENTENCE_END = /[.!?]+(?=\s|$)/g;
const PARAGRAPH_BREAK = /\n\s*\n/;
// eslint-disable-next-line no-control-regex -- str.splitlines() splits at these too
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;
const WHITESPACE = /\s+/;

function countLines(text: string): number {
  if (text === "") return 0;
  const lines = text.split(LINE_BREAK);
  return lines.at(-1) === "" ? lines.length - 1 : lines.length;
}

export function text_stats(text: string): Record<string, bigint> {
  const stripped = text.trim();
  return {
    characters: BigInt([...text].length),
    words: BigInt(text.split(WHITESPACE).filter(Boolean).length),
    lines: BigInt(countLines(text)),
    sentences: BigInt(stripped.match(SENTENCE_END)?.length ?? 0),
    paragraphs: BigInt(stripped ? stripped.split(PARAGRAPH_BREAK).length : 0),
  };
}
