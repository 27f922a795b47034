"""The kitchen-sink spec (``kitchen.SPEC``) built as a TypeScript package, its dependencies
installed by ``npm ci`` from a clean copy of the generated folder.

The spec is kitchen.SPEC with each function's code given per language: the Python code as it
is, and a TypeScript implementation from ``TS_CODE``. Built once per run (pytest-xdist workers
share it under a file lock); npm's cache is shared by every run under ``NPM_CACHE``, so after
the first run ``npm ci`` needs no download.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from filelock import FileLock
from kitchen import SPEC, generate, run

NPM_CACHE = Path.home() / ".cache" / "apipack-tests" / "npm"

TS_CODE = {
    "scale": """\
export function scale(
  values: number[],
  factor: number = 2.0,
  round_to: bigint | null = null,
): number[] {
  const scaled = values.map((value) => value * factor);
  if (round_to === null) return scaled;
  // as Python's round(value, digits): any digits, at most the 308 a double can show
  const digits = Number(
    round_to > 308n ? 308n : round_to < -308n ? -308n : round_to,
  );
  const power = 10 ** digits;
  return scaled.map((value) =>
    Number.isFinite(value * power) ? Math.round(value * power) / power : value,
  );
}
""",
    "checksum": """\
export function checksum(
  data: Uint8Array,
  tags: Record<string, bigint> | null,
  upper: boolean = false,
  label: string | null,
): Record<string, bigint> {
  const result: Record<string, bigint> = {
    length: BigInt(data.length),
    sum: BigInt(data.reduce((total, byte) => total + byte, 0) % 256),
  };
  for (const [key, weight] of Object.entries(tags ?? {})) {
    result[upper ? key.toUpperCase() : key] = weight * BigInt(data.length);
  }
  if (label !== null) result[label] = 0n;
  return result;
}
""",
    "reverse_bytes": """\
export function reverse_bytes(
  data: Uint8Array,
  repeat: bigint = 1n,
  sep: Uint8Array | null = null,
): Uint8Array {
  if (repeat < 0n || repeat > 100n) {
    throw new RangeError(`repeat must be 0 to 100, not ${repeat}`);
  }
  const reversed = [...data].reverse();
  const out: number[] = [];
  for (let i = 0n; i < repeat; i++) {
    if (i > 0n && sep !== null) out.push(...sep);
    out.push(...reversed);
  }
  return new Uint8Array(out);
}
""",
    "describe": """\
export function describe(
  words: string[],
  loud: boolean,
  sep: string = " ",
  json: bigint[] | null = null,
  nested: Record<string, Uint8Array[]> | null = null,
  bonus: bigint | null = 5n,
): string | null {
  if (words.length === 0) return null;
  let size = 0;
  for (const items of Object.values(nested ?? {}))
    for (const item of items) size += item.length;
  const total = (json ?? []).reduce((sum, item) => sum + item, 0n);
  const text = `${words.join(sep)} ${total} ${size} ${bonus === null ? "None" : bonus}`;
  return loud ? text.toUpperCase() : text;
}
""",
}


def spec(code: dict[str, str] | None = None) -> str:
    """kitchen.SPEC with TypeScript code (``TS_CODE``, or *code* for some functions) beside the
    Python code of every function."""
    data = yaml.safe_load(SPEC)
    for function in data["functions"]:
        typescript = (code or {}).get(function["name"], TS_CODE[function["name"]])
        function["code"] = {"python": function["code"], "typescript": typescript}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def npm() -> str:
    """npm from PATH (a system toolchain, not a Python tool); absent, the skip says how to
    get it."""
    found = shutil.which("npm")
    if found is None or shutil.which("node") is None:
        pytest.skip("Node.js 20+ with npm is not installed: apt-get install nodejs npm (or nvm)")
    return found


def npm_env() -> dict[str, str]:
    return {
        **os.environ,
        "npm_config_cache": str(NPM_CACHE),
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }


def generate_ts(
    project: Path, source: str, interfaces: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    (project / "specs").mkdir(parents=True, exist_ok=True)
    (project / "specs/kitchen.yml").write_text(source, encoding="utf-8")
    return generate(project, interfaces=interfaces, language="typescript")


@dataclass(frozen=True)
class BuiltTs:
    project: Path
    generated: Path  # the folder apipack wrote
    package: Path  # a clean copy of it, after npm ci and tsc

    def npm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([npm(), *args], self.package, env=npm_env())


def build_ts(
    base: Path, interfaces: tuple[str, ...], source: str | None = None, label: str = ""
) -> BuiltTs:
    """Generate the TypeScript package of *source* (default: ``spec()``) under *base*, copy the
    generated folder, ``npm ci`` and ``npm run build`` in the copy; once per *base* and label."""
    npm()
    root = base / ("ts-kitchen-" + (label or "-".join(interfaces)))
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".lock")):
        project = root / "project"
        built = BuiltTs(project, project / "generated/typescript/kitchen-sink", root / "package")
        if not (root / "ready").exists():
            result = generate_ts(project, source if source is not None else spec(), interfaces)
            assert result.returncode == 0, result.stdout + result.stderr
            if built.package.exists():
                shutil.rmtree(built.package)
            shutil.copytree(built.generated, built.package)
            NPM_CACHE.mkdir(parents=True, exist_ok=True)
            for step in (["ci"], ["run", "build"]):
                done = built.npm(*step)
                assert done.returncode == 0, f"npm {' '.join(step)}:\n{done.stdout}{done.stderr}"
            (root / "ready").touch()
    return built
