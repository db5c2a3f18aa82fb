/**
 * Setup of the WebGPU projects: acquire the device once per test file (never inside a test
 * body, where Dawn has crashed in Vitest workers), make it the default backend, and release
 * it afterwards. A missing adapter fails the run: it never skips.
 */
import { setBackend } from "@webjax/core";
import { initWebGPU, shutdown } from "@webjax/webgpu/node";
import { afterAll } from "vitest";

await initWebGPU({ fallback: false, allowSoftware: true });
setBackend("webgpu");
afterAll(() => shutdown());
