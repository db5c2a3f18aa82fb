import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** @webjax/core's own tests reach the test helpers by alias (a dependency would make a cycle). */
const alias = { "@webjax/test-utils": fileURLToPath(new URL("packages/test-utils/src/index.ts", import.meta.url)) };

/** The CPU suite runs three times: normal, deferred (reads on later tasks), interpreter (no new Function). */
const cpuModes = ["normal", "deferred", "interpreter"] as const;

export default defineConfig({
  resolve: { conditions: ["source"], alias },
  ssr: { resolve: { conditions: ["source"], alias } },
  test: {
    projects: [
      ...cpuModes.map((mode) => ({
        resolve: { conditions: ["source"], alias },
        ssr: { resolve: { conditions: ["source"], alias } },
        test: {
          name: `core-cpu-${mode}`,
          include: ["packages/core/test/**/*.test.ts"],
          setupFiles: ["packages/test-utils/src/setup.ts"],
          env: { WEBJAX_CPU: mode },
        },
      })),
      ...(["normal", "deferred"] as const).map((mode) => ({
        resolve: { conditions: ["source"], alias },
        ssr: { resolve: { conditions: ["source"] } },
        test: {
          name: `examples-${mode}`,
          include: ["apps/examples/test/**/*.test.ts"],
          setupFiles: ["packages/test-utils/src/setup.ts"],
          env: { WEBJAX_CPU: mode },
        },
      })),
    ],
  },
});
