import { inflateSync } from "node:zlib";

// A small reader for the PDFs simple tools write: objects in plain text, content streams
// uncompressed or FlateDecode, text shown with Tj, TJ, ' and " in a standard encoding.
const OBJECT = /(\d+)\s+\d+\s+obj\b([\s\S]*?)\bendobj/g;
const REFERENCE = /(\d+)\s+\d+\s+R/g;
const TOKEN =
  /\(|<[0-9A-Fa-f\s]*>|\[|\]|\/[^\s/[\]()<>]+|[-+]?[0-9.]+|[A-Za-z'"*]+/y;
const ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  b: "\b",
  f: "\f",
};

function readObjects(text: string): Map<string, string> {
  const objects = new Map<string, string>();
  for (const [, id, body] of text.matchAll(OBJECT)) {
    if (id !== undefined && body !== undefined) objects.set(id, body);
  }
  return objects;
}

function references(value: string): string[] {
  return [...value.matchAll(REFERENCE)].map((match) => match[1] ?? "");
}

function field(body: string, name: string): string {
  const match = new RegExp(
    `/${name}\\s*(\\[[^\\]]*\\]|\\d+\\s+\\d+\\s+R)`,
  ).exec(body);
  return match?.[1] ?? "";
}

function pages(
  objects: Map<string, string>,
  id: string,
  seen: Set<string>,
): string[] {
  const body = objects.get(id);
  if (body === undefined || seen.has(id)) return [];
  seen.add(id);
  if (!/\/Type\s*\/Pages\b/.test(body)) return [id];
  return references(field(body, "Kids")).flatMap((kid) =>
    pages(objects, kid, seen),
  );
}

function streamOf(body: string): string {
  const start = body.indexOf("stream");
  const end = body.lastIndexOf("endstream");
  if (start < 0 || end < start) return "";
  const raw = body
    .slice(start + 6, end)
    .replace(/^\r?\n/, "")
    .replace(/\r?\n$/, "");
  if (!/\/FlateDecode\b/.test(body.slice(0, start))) return raw;
  return inflateSync(Buffer.from(raw, "latin1")).toString("latin1");
}

function literal(content: string, start: number): [string, number] {
  let depth = 1;
  let out = "";
  let i = start;
  while (i < content.length && depth > 0) {
    const char = content[i++] ?? "";
    if (char === "\\") {
      const next = content[i++] ?? "";
      const octal = /^[0-7]{1,3}/.exec(content.slice(i - 1, i + 2));
      if (octal) {
        out += String.fromCharCode(parseInt(octal[0], 8));
        i += octal[0].length - 1;
      } else if (next !== "\n" && next !== "\r") {
        out += ESCAPES[next] ?? next;
      }
    } else if (char === "(" || char === ")") {
      depth += char === "(" ? 1 : -1;
      if (depth > 0) out += char;
    } else {
      out += char;
    }
  }
  return [out, i];
}

function hex(token: string): string {
  const digits = token.slice(1, -1).replace(/\s/g, "");
  const bytes = (digits.length % 2 ? digits + "0" : digits).match(/../g) ?? [];
  return bytes.map((pair) => String.fromCharCode(parseInt(pair, 16))).join("");
}

function showText(content: string): string {
  const lines: string[] = [""];
  const operands: (string | number)[] = [];
  let array: (string | number)[] | null = null;
  let i = 0;
  while (i < content.length) {
    if (/\s/.test(content[i] ?? "")) {
      i++;
      continue;
    }
    TOKEN.lastIndex = i;
    const match = TOKEN.exec(content);
    if (match === null) {
      i++;
      continue;
    }
    const token = match[0];
    i = TOKEN.lastIndex;
    let value: string | number | null = null;
    if (token === "(") [value, i] = literal(content, i);
    else if (token.startsWith("<")) value = hex(token);
    else if (/^[-+]?[0-9.]+$/.test(token)) value = Number(token);
    if (value !== null) {
      (array ?? operands).push(value);
      continue;
    }
    if (token === "[") array = [];
    else if (token === "]") {
      operands.push(
        array
          ?.map((item) =>
            typeof item === "number" ? (item < -200 ? " " : "") : item,
          )
          .join("") ?? "",
      );
      array = null;
    } else {
      const last = operands.at(-1);
      const moves =
        token === "T*" ||
        token === "'" ||
        token === '"' ||
        ((token === "Td" || token === "TD") && operands.at(-1) !== 0);
      if (moves && lines.at(-1) !== "") lines.push("");
      if (["Tj", "TJ", "'", '"'].includes(token) && typeof last === "string") {
        lines[lines.length - 1] += last;
      }
      operands.length = 0;
    }
  }
  return lines
    .map((line) => line.trimEnd())
    .filter(Boolean)
    .join("\n");
}

export function pdf_to_text(data: Uint8Array): string {
  const text = Buffer.from(data).toString("latin1");
  if (!text.startsWith("%PDF-")) {
    throw new RangeError("not a readable PDF: it does not start with %PDF-");
  }
  const objects = readObjects(text);
  const catalog = [...objects.values()].find((body) =>
    /\/Type\s*\/Catalog\b/.test(body),
  );
  const root = references(field(catalog ?? "", "Pages"))[0];
  if (root === undefined)
    throw new RangeError("not a readable PDF: no page tree");
  try {
    return pages(objects, root, new Set())
      .map((page) => {
        const ids = references(field(objects.get(page) ?? "", "Contents"));
        return showText(
          ids.map((id) => streamOf(objects.get(id) ?? "")).join("\n"),
        ).trim();
      })
      .join("\n\n");
  } catch (error) {
    throw new RangeError(
      `not a readable PDF: ${error instanceof Error ? error.message : error}`,
    );
  }
}
