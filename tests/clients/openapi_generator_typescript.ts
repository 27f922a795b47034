// Calls every function through openapi-generator's typescript-fetch client; prints the results.
import { Configuration, FunctionsApi, HealthApi, ResponseError } from "./client";

declare const process: { argv: string[]; exit(code: number): never };

const utf8 = (text: string) => new TextEncoder().encode(text);
const b64 = (text: string): string => btoa(String.fromCharCode(...utf8(text)));

async function main(): Promise<void> {
  const configuration = new Configuration({ basePath: process.argv[2] });
  const api = new FunctionsApi(configuration);
  const results: Record<string, unknown> = {
    scale: (await api.scale({ scaleRequest: { values: [1, 2.5] } })).result,
    checksum: (
      await api.checksum({ checksumRequest: { data: b64("héllo"), tags: { a: 2 }, upper: true } })
    ).result,
    checksum_upload: (
      await api.checksumUpload({ data: new Blob([utf8("héllo")]), tags: { a: 2 }, upper: true })
    ).result,
    reverse_bytes: (await api.reverseBytes({ reverseBytesRequest: { data: b64("abc"), repeat: 2 } }))
      .result,
    reverse_bytes_upload: (
      await api.reverseBytesUpload({
        data: new Blob([utf8("abc")]),
        repeat: 2,
        sep: new Blob([utf8("-")]),
      })
    ).result,
    describe: (
      await api.describe({
        describeRequest: { words: ["a", "b"], loud: true, nested: { k: [b64("xy")] }, bonus: null },
      })
    ).result,
    health: (await new HealthApi(configuration).healthReady()).status,
  };
  const raw = await api.reverseBytesRaw(
    { reverseBytesRequest: { data: b64("abc") } },
    // a function of the request's own init, so that its other headers stay
    async ({ init }) => ({ headers: { ...init.headers, Accept: "application/octet-stream" } }),
  );
  const bytes = new Uint8Array(await raw.raw.arrayBuffer());
  results.reverse_bytes_raw = [raw.raw.headers.get("content-type"), String.fromCharCode(...bytes)];
  try {
    await api.reverseBytes({ reverseBytesRequest: { data: b64("abc"), repeat: 101 } });
  } catch (error) {
    if (!(error instanceof ResponseError)) throw error;
    const body = await error.response.json();
    results.error = [error.response.status, body.error.code];
  }
  console.log(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
