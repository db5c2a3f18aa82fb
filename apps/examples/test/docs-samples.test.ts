/**
 * Docs that cannot rot: every fenced `ts` block in README.md and docs/ is a complete program.
 * Each is written to apps/examples/.samples/ (git-ignored), typechecked with the repo's
 * compiler (TypeScript, which also makes `using` run on Node 20), and run; a block that
 * throws, or does not typecheck, fails the suite and names the file and line.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setBackend } from "@webjax/core";
import { describe, expect, test, vi } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const out = fileURLToPath(new URL("../.samples/", import.meta.url));

interface Sample {
  file: string;
  line: number;
  code: string;
  name: string;
}

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
    );
  return [join(root, "README.md"), ...walk(join(root, "docs"))];
}

function samples(): Sample[] {
  const found: Sample[] = [];
  for (const path of markdownFiles()) {
    const lines = readFileSync(path, "utf8").split("\n");
    const file = relative(root, path);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]?.trim() !== "```ts") continue;
      const start = i + 1;
      let j = start;
      while (j < lines.length && lines[j]?.trim() !== "```") j++;
      const name = `${file.replace(/[^A-Za-z0-9]+/g, "_")}_L${start + 1}`;
      found.push({ file, line: start + 1, code: lines.slice(start, j).join("\n"), name });
      i = j;
    }
  }
  return found;
}

const all = samples();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const s of all) writeFileSync(join(out, `${s.name}.ts`), `// ${s.file}:${s.line}\n${s.code}\nexport {};\n`);
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../../../tsconfig.base.json",
    compilerOptions: { rootDir: ".", noEmit: true, customConditions: ["source"], noUnusedLocals: false },
    include: ["*.ts"],
  }),
);

describe("code samples in README.md and docs/", () => {
  test("there are samples, from the README and the guides", () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(new Set(all.map((s) => dirname(s.file))).size).toBeGreaterThanOrEqual(2);
  });

  test("every sample typechecks", { timeout: 120_000 }, () => {
    const tsc = join(root, "node_modules", ".bin", "tsc");
    const r = spawnSync(tsc, ["-p", join(out, "tsconfig.json")], { encoding: "utf8" });
    const report = `${r.stdout}${r.stderr}`.replace(/^([A-Za-z0-9_]+)_L(\d+)\.ts/gm, (m) => {
      const s = all.find((x) => m.startsWith(x.name));
      return s ? `${s.file}:${s.line} (sample)` : m;
    });
    expect(r.status, report).toBe(0);
  });

  for (const s of all) {
    test(`${s.file}:${s.line} runs`, { timeout: 120_000 }, async () => {
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
      try {
        await import(/* @vite-ignore */ pathToFileURL(join(out, `${s.name}.ts`)).href);
      } finally {
        log.mockRestore();
        warn.mockRestore();
        setBackend("cpu");
      }
    });
  }
});
