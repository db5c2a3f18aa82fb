import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BackendError, currentBackend, np } from "@webjax/core";
import { init, initTask, initWebGPU } from "@webjax/webgpu/node";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { describe, expect, test, vi } from "vitest";
import { installProvider } from "../src/acquire.js";
import { nodeProvider } from "../src/node.js";

describe("acquiring a device", () => {
  test("initTask is a TaskEither: Right(backend) where an adapter exists", async () => {
    const result = await initTask({ allowSoftware: true })();
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

  test("a software adapter is used only when asked for: init() falls back to the cpu backend, loudly", async () => {
    const software = {
      info: {
        vendor: "google",
        architecture: "swiftshader",
        description: "SwiftShader driver",
        isFallbackAdapter: true,
      },
      limits: {},
      requestDevice: async () => {
        throw new Error("the test adapter makes no device");
      },
    };
    installProvider({ where: "node", gpu: async () => ({ requestAdapter: async () => software }) as unknown as GPU });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await expect(initWebGPU()).rejects.toThrow(
        /only adapter is a software one \(google SwiftShader driver\).*allowSoftware: true/,
      );
      expect(await init()).toBe("cpu");
      expect(currentBackend()).toBe("cpu");
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/WebGPU is unavailable, using the cpu backend.*software/),
      );
      // Asked for by name, the software adapter is taken (this one then fails to make a device).
      await expect(initWebGPU({ allowSoftware: true })).rejects.toThrow(/makes no device/);
    } finally {
      warn.mockRestore();
      installProvider(nodeProvider);
      await initWebGPU({ allowSoftware: true });
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
