// Simple HTML to an A4 PDF with the standard Helvetica fonts, written by hand: headings,
// paragraphs, lists, table rows, bold and italic. The core fonts cover Latin-1 only:
// typographic punctuation becomes its ASCII twin, any other character beyond Latin-1 '?'.
const TAG = /<(\/?)([A-Za-z][A-Za-z0-9]*)[^>]*>|<!--[\s\S]*?-->|[^<]+|</g;
const ENTITY = /&(?:#(\d+)|#[xX]([0-9A-Fa-f]+)|([A-Za-z]+));/g;
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};
const PUNCTUATION: Record<string, string> = {
  "\u2018": "'",
  "\u2019": "'",
  "\u201c": '"',
  "\u201d": '"',
  "\u2013": "-",
  "\u2014": "-",
  "\u2026": "...",
  "\u2022": "*",
};
const BLOCKS = new Set([
  "p",
  "div",
  "br",
  "ul",
  "ol",
  "li",
  "table",
  "tr",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
]);
const HEADINGS: Record<string, number> = {
  h1: 20,
  h2: 16,
  h3: 14,
  h4: 12,
  h5: 12,
  h6: 12,
};
const [PAGE_WIDTH, PAGE_HEIGHT, MARGIN, BODY_SIZE] = [595, 842, 56, 11];

interface Run {
  font: number; // 1 regular, 2 bold, 3 italic, 4 bold italic
  size: number;
  text: string;
}

function latin1(text: string): string {
  const expanded = text.replace(
    ENTITY,
    (whole, decimal?: string, hex?: string, name?: string) => {
      if (decimal !== undefined)
        return String.fromCodePoint(Math.min(Number(decimal), 0x10ffff));
      if (hex !== undefined)
        return String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff));
      return NAMED[name ?? ""] ?? whole;
    },
  );
  return [...expanded]
    .map(
      (char) =>
        PUNCTUATION[char] ?? ((char.codePointAt(0) ?? 0) > 0xff ? "?" : char),
    )
    .join("");
}

function lines(html: string): Run[][] {
  const result: Run[][] = [[]];
  const open = new Map<string, number>();
  for (const [token, closing, name] of html.matchAll(TAG)) {
    const tag = (name ?? "").toLowerCase();
    if (tag) {
      open.set(tag, (open.get(tag) ?? 0) + (closing ? -1 : 1));
      if (BLOCKS.has(tag) && (result.at(-1)?.length ?? 0) > 0) result.push([]);
      if (tag === "li" && !closing)
        result.at(-1)?.push({ font: 1, size: BODY_SIZE, text: "* " });
      if (
        (tag === "td" || tag === "th") &&
        !closing &&
        (result.at(-1)?.length ?? 0) > 0
      ) {
        result.at(-1)?.push({ font: 1, size: BODY_SIZE, text: "    " });
      }
      continue;
    }
    if (token.startsWith("<!--")) continue;
    const text = latin1(token).replace(/\s+/g, " ");
    if (!text.trim() && (result.at(-1)?.length ?? 0) === 0) continue;
    const heading = Object.keys(HEADINGS).find((h) => (open.get(h) ?? 0) > 0);
    const bold =
      heading !== undefined ||
      ["b", "strong", "th"].some((t) => (open.get(t) ?? 0) > 0);
    const italic = ["i", "em"].some((t) => (open.get(t) ?? 0) > 0);
    result.at(-1)?.push({
      font: 1 + (bold ? 1 : 0) + (italic ? 2 : 0),
      size: heading ? (HEADINGS[heading] ?? BODY_SIZE) : BODY_SIZE,
      text,
    });
  }
  return result.filter((line) => line.some((run) => run.text.trim()));
}

function wrap(line: Run[], width: number): Run[][] {
  const wrapped: Run[][] = [[]];
  let used = 0;
  for (const run of line) {
    for (const word of run.text.split(/(?<= )/)) {
      const size = word.length * run.size * 0.5;
      if (used + size > width && used > 0) {
        wrapped.push([]);
        used = 0;
      }
      wrapped
        .at(-1)
        ?.push({ ...run, text: used === 0 ? word.trimStart() : word });
      used += size;
    }
  }
  return wrapped;
}

function escaped(text: string): string {
  return text.replace(/[\\()]/g, (char) => `\\${char}`).replace(/[\r\n]/g, " ");
}

function pageStreams(html: string, width: number, height: number): string[] {
  const pages: string[][] = [[]];
  let y = height - MARGIN;
  for (const line of lines(html).flatMap((l) => wrap(l, width - 2 * MARGIN))) {
    const size = Math.max(...line.map((run) => run.size));
    if (y - size * 1.4 < MARGIN) {
      pages.push([]);
      y = height - MARGIN;
    }
    y -= size * 1.4;
    const shown = line.map(
      (run) => `/F${run.font} ${run.size} Tf (${escaped(run.text)}) Tj`,
    );
    pages.at(-1)?.push(`BT ${MARGIN} ${y.toFixed(2)} Td ${shown.join(" ")} ET`);
  }
  return pages.map((page) => page.join("\n"));
}

export function html_to_pdf(
  html: string,
  landscape: boolean = false,
): Uint8Array {
  const [width, height] = landscape
    ? [PAGE_HEIGHT, PAGE_WIDTH]
    : [PAGE_WIDTH, PAGE_HEIGHT];
  const streams = pageStreams(html, width, height);
  const fonts = [
    "Helvetica",
    "Helvetica-Bold",
    "Helvetica-Oblique",
    "Helvetica-BoldOblique",
  ];
  const fontIds = fonts.map((_, i) => 3 + i);
  const firstPage = 3 + fonts.length;
  const pageIds = streams.map((_, i) => firstPage + 2 * i);
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${streams.length} >>`,
    ...fonts.map(
      (font) =>
        `<< /Type /Font /Subtype /Type1 /BaseFont /${font} /Encoding /WinAnsiEncoding >>`,
    ),
  ];
  const resources = fontIds.map((id, i) => `/F${i + 1} ${id} 0 R`).join(" ");
  streams.forEach((stream, i) => {
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${width} ${height}] /Resources << /Font << ${resources} >> >> /Contents ${firstPage + 2 * i + 1} 0 R >>`,
      `<< /Length ${Buffer.byteLength(stream, "latin1")} >>\nstream\n${stream}\nendstream`,
    );
  });
  let pdf = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, "latin1"));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, "latin1");
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets
    .map((offset) => `${String(offset).padStart(10, "0")} 00000 n \n`)
    .join("");
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(pdf, "latin1"));
}
