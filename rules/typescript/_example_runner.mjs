// Runs one function body against its spec's examples: apipack copies this file, as run.mjs,
// into an empty folder beside candidate.mjs (the body, types stripped) and cases.mjs (the
// examples as JavaScript values), and runs it there with no environment, a time limit and a
// memory limit. It writes verdict.json: {"failures": [...]} (empty when every example holds),
// or {"unverified": reason} when the body imports a module that is not here.
import { writeFileSync } from "node:fs";

const LONGEST = 200; // characters of a value shown in a message

// a value as JavaScript source: 3n, "text", new Uint8Array([1, 2]), [..], { key: .. }
function source(value) {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return `new Uint8Array([${Array.from(value).join(", ")}])`;
  if (Array.isArray(value)) return `[${value.map(source).join(", ")}]`;
  if (value && typeof value === "object") {
    const items = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${source(item)}`);
    return items.length ? `{ ${items.join(", ")} }` : "{}";
  }
  return String(value);
}

function shown(value) {
  const text = source(value);
  return text.length <= LONGEST ? text : `${text.slice(0, LONGEST - 3)}...`;
}

function close(actual, expected) {
  if (typeof actual === "number" && typeof expected === "number") {
    return actual === expected || Math.abs(actual - expected) <= 1e-6 * Math.abs(expected) + 1e-12;
  }
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.length === expected.length && actual.every((item, i) => close(item, expected[i]));
  }
  if (actual instanceof Uint8Array && expected instanceof Uint8Array) {
    return actual.length === expected.length && actual.every((byte, i) => byte === expected[i]);
  }
  if (actual && expected && typeof actual === "object" && typeof expected === "object") {
    const keys = Object.keys(expected).sort();
    return (
      JSON.stringify(Object.keys(actual).sort()) === JSON.stringify(keys) &&
      keys.every((key) => close(actual[key], expected[key]))
    );
  }
  return actual === expected;
}

function indexOf(whole, part) {
  if (typeof whole === "string") return whole.indexOf(part);
  outer: for (let i = 0; i + part.length <= whole.length; i++) {
    for (let j = 0; j < part.length; j++) if (whole[i + j] !== part[j]) continue outer;
    return i;
  }
  return -1;
}

const length = (value) => (Array.isArray(value) || typeof value === "string" || value instanceof Uint8Array ? value.length : Object.keys(value).length);

const HOLDS = {
  starts_with: (result, part) => indexOf(result.slice(0, part.length), part) === 0,
  ends_with: (result, part) => result.length >= part.length && indexOf(result.slice(result.length - part.length), part) === 0,
  contains: (result, part) => indexOf(result, part) >= 0,
  min_length: (result, size) => length(result) >= size,
  max_length: (result, size) => length(result) <= size,
  min: (result, bound) => result >= bound,
  max: (result, bound) => result <= bound,
};

async function main() {
  let candidate;
  try {
    candidate = await import("./candidate.mjs");
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND") {
      return { unverified: `it imports a module that is not installed here: ${error.message.split("\n")[0]}` };
    }
    return { failures: [`importing it failed: ${error?.name}: ${error?.message}`] };
  }
  const { NAME, CASES } = await import("./cases.mjs");
  const fn = candidate[NAME];
  if (typeof fn !== "function") return { failures: [`it exports no function ${NAME}`] };
  for (const method of ["log", "info", "warn", "error", "debug"]) console[method] = () => {};
  const failures = [];
  for (const { example, call, args, hasOutput, expected, checks } of CASES) {
    let result;
    try {
      result = fn(...args);
    } catch (error) {
      failures.push(`example '${example}': ${call} threw ${error?.name}: ${error?.message}`);
      continue;
    }
    if (hasOutput && !close(result, expected)) {
      failures.push(`example '${example}': ${call} returned ${shown(result)}, not ${shown(expected)}`);
      continue;
    }
    for (const [kind, value] of checks) {
      let holds = false;
      try {
        holds = HOLDS[kind](result, value);
      } catch {
        holds = false;
      }
      if (!holds) {
        failures.push(`example '${example}': ${call} returned ${shown(result)}, for which ${kind} ${shown(value)} does not hold`);
      }
    }
  }
  return { failures };
}

writeFileSync("verdict.json", JSON.stringify(await main()));
