// A word is a run of letters (Python's [^\W\d_]), with inner apostrophes: "don't".
const WORD = /[\p{L}\p{Nl}\p{No}]+(?:'[\p{L}\p{Nl}\p{No}]+)*/gu;

function byCountThenWord(a: [string, bigint], b: [string, bigint]): number {
  if (a[1] !== b[1]) return a[1] > b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

export function word_frequencies(
  text: string,
  limit: bigint | null = null,
): Record<string, bigint> {
  if (limit !== null && limit < 0n) {
    throw new RangeError(`limit must not be negative, got ${limit}`);
  }
  const counts = new Map<string, bigint>();
  for (const [word] of text.matchAll(WORD)) {
    const key = word.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0n) + 1n);
  }
  const ranked = [...counts].sort(byCountThenWord);
  return Object.fromEntries(
    limit === null ? ranked : ranked.slice(0, Number(limit)),
  );
}
