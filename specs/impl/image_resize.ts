import { deflateSync, inflateSync } from "node:zlib";

// PNG in and out with Node's zlib alone: 8-bit greyscale, RGB, palette and alpha images,
// 1 to 16 bits per sample, not interlaced; resampled bilinearly, written as 8-bit RGBA.
const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const MAX_PIXELS = 1 << 26;

interface Image {
  width: number;
  height: number;
  rgba: Uint8Array;
}

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of bytes)
    crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function notPng(why: string): RangeError {
  return new RangeError(
    `image_data is not a PNG image this function can read: ${why}`,
  );
}

function decode(data: Uint8Array): Image {
  if (data.length < 8 || SIGNATURE.some((byte, i) => data[i] !== byte))
    throw notPng("no PNG signature");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const idat: Uint8Array[] = [];
  let header: Uint8Array | null = null;
  let palette: Uint8Array = new Uint8Array(0);
  let transparency: Uint8Array = new Uint8Array(0);
  for (let at = 8; at + 8 <= data.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...data.subarray(at + 4, at + 8));
    const body = data.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") header = body;
    else if (type === "PLTE") palette = body;
    else if (type === "tRNS") transparency = body;
    else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    at += 12 + length;
  }
  if (header === null || header.length < 13) throw notPng("no header");
  const head = new DataView(
    header.buffer,
    header.byteOffset,
    header.byteLength,
  );
  const [width, height] = [head.getUint32(0), head.getUint32(4)];
  const [depth, color, interlace] = [
    header[8] ?? 0,
    header[9] ?? 0,
    header[12] ?? 0,
  ];
  const channels = CHANNELS[color];
  if (
    channels === undefined ||
    interlace !== 0 ||
    ![1, 2, 4, 8, 16].includes(depth)
  ) {
    throw notPng(
      `colour type ${color}, depth ${depth}, interlace ${interlace} not supported`,
    );
  }
  if (width < 1 || height < 1 || width * height > MAX_PIXELS)
    throw notPng("bad size");
  const raw = inflateSync(Buffer.concat(idat));
  const bits = channels * depth;
  const stride = Math.ceil((width * bits) / 8);
  const step = Math.max(1, bits >> 3);
  if (raw.length < height * (stride + 1)) throw notPng("truncated image data");
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const byte = raw[y * (stride + 1) + 1 + x] ?? 0;
      const left = x >= step ? (rows[y * stride + x - step] ?? 0) : 0;
      const up = y > 0 ? (rows[(y - 1) * stride + x] ?? 0) : 0;
      const corner =
        x >= step && y > 0 ? (rows[(y - 1) * stride + x - step] ?? 0) : 0;
      const predicted = [
        0,
        left,
        up,
        (left + up) >> 1,
        paeth(left, up, corner),
      ][filter ?? 0];
      if (predicted === undefined) throw notPng(`unknown filter ${filter}`);
      rows[y * stride + x] = (byte + predicted) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  const sample = (y: number, index: number): number => {
    if (depth === 16) return rows[y * stride + index * 2] ?? 0;
    if (depth === 8) return rows[y * stride + index] ?? 0;
    const byte = rows[y * stride + ((index * depth) >> 3)] ?? 0;
    const value =
      (byte >> (8 - depth - ((index * depth) & 7))) & ((1 << depth) - 1);
    return color === 3 ? value : Math.round((value * 255) / ((1 << depth) - 1));
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (c: number): number => sample(y, x * channels + c);
      const out = (y * width + x) * 4;
      let pixel: number[];
      if (color === 3) {
        const i = s(0);
        pixel = [
          palette[i * 3] ?? 0,
          palette[i * 3 + 1] ?? 0,
          palette[i * 3 + 2] ?? 0,
          transparency[i] ?? 255,
        ];
      } else if (color === 0 || color === 4) {
        pixel = [s(0), s(0), s(0), color === 4 ? s(1) : 255];
      } else {
        pixel = [s(0), s(1), s(2), color === 6 ? s(3) : 255];
      }
      rgba.set(pixel, out);
    }
  }
  return { width, height, rgba };
}

function resize(image: Image, width: number, height: number): Image {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(
      image.height - 1,
      Math.max(0, ((y + 0.5) * image.height) / height - 0.5),
    );
    const [y0, fy] = [Math.floor(sy), sy - Math.floor(sy)];
    const y1 = Math.min(image.height - 1, y0 + 1);
    for (let x = 0; x < width; x++) {
      const sx = Math.min(
        image.width - 1,
        Math.max(0, ((x + 0.5) * image.width) / width - 0.5),
      );
      const [x0, fx] = [Math.floor(sx), sx - Math.floor(sx)];
      const x1 = Math.min(image.width - 1, x0 + 1);
      for (let c = 0; c < 4; c++) {
        const at = (px: number, py: number): number =>
          image.rgba[(py * image.width + px) * 4 + c] ?? 0;
        const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
        const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
        rgba[(y * width + x) * 4 + c] = Math.round(
          top * (1 - fy) + bottom * fy,
        );
      }
    }
  }
  return { width, height, rgba };
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(Buffer.from(type, "latin1"), 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

function encode(image: Image): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, image.width);
  view.setUint32(4, image.height);
  header.set([8, 6, 0, 0, 0], 8);
  const stride = image.width * 4;
  const raw = new Uint8Array(image.height * (stride + 1));
  for (let y = 0; y < image.height; y++) {
    raw.set(
      image.rgba.subarray(y * stride, (y + 1) * stride),
      y * (stride + 1) + 1,
    );
  }
  const parts = [
    new Uint8Array(SIGNATURE),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  return new Uint8Array(Buffer.concat(parts));
}

export function image_resize(
  image_data: Uint8Array,
  width: bigint = 800n,
  height: bigint = 600n,
): Uint8Array {
  if (width < 1n || height < 1n) {
    throw new RangeError(
      `width and height must be positive, got ${width}x${height}`,
    );
  }
  if (width * height > BigInt(MAX_PIXELS)) {
    throw new RangeError(
      `${width}x${height} is more than ${MAX_PIXELS} pixels`,
    );
  }
  return encode(resize(decode(image_data), Number(width), Number(height)));
}
