import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BackendError, np } from "@webjax/core";
import { initTask } from "@webjax/webgpu/node";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { describe, expect, test } from "vitest";
import { installProvider } from "../src/acquire.js";
import { nodeProvider } from "../src/node.js";

describe("acquiring a device", () => {
  test("initTask is a TaskEither: Right(backend) where an adapter exists", async () => {
    const result = await initTask()();
    expect(E.isRight(result)).toBe(true);
    const name = pipe(
      result,
      E.match(
        () => "none",
        (b) => b.name,
      ),
    );
    expect(name).toBe("webgpu");
    using x = np.array([1, 2]);
    expect(await x.add(1).toArray()).toEqual([2, 3]);
  });

  test("no adapter: Left(BackendError) naming the driver to install and the cpu fallback", async () => {
    installProvider({ where: "node", gpu: async () => ({ requestAdapter: async () => null }) as unknown as GPU });
    try {
      const result = await initTask()();
      expect(E.isLeft(result)).toBe(true);
      if (E.isLeft(result)) {
        expect(result.left).toBeInstanceOf(BackendError);
        expect(result.left.message).toMatch(/no GPU adapter found.*Vulkan driver.*setBackend\('cpu'\)/);
      }
    } finally {
      installProvider(nodeProvider);
    }
  });

  test("a Node script that calls shutdown() exits by itself", () => {
    const script = fileURLToPath(new URL("./fixtures/exit-after-shutdown.mjs", import.meta.url));
    const r = spawnSync(process.execPath, [script], { timeout: 60_000, encoding: "utf8", env: process.env });
    expect(r.signal, `the script did not exit by itself: ${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("[2,3,4]");
  });
});
