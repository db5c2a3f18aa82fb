import { defineConfig } from "vitest/config";

/** The CPU suite runs three times: normal, deferred (reads on later tasks), interpreter (no new Function). */
const cpuModes = ["normal", "deferred", "interpreter"] as const;

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    projects: [
      ...cpuModes.map((mode) => ({
        resolve: { conditions: ["source"] },
        ssr: { resolve: { conditions: ["source"] } },
        test: {
          name: `core-cpu-${mode}`,
          include: ["packages/core/test/**/*.test.ts"],
          setupFiles: ["packages/test-utils/src/setup.ts"],
          env: { WEBJAX_CPU: mode },
        },
      })),
      {
        resolve: { conditions: ["source"] },
        ssr: { resolve: { conditions: ["source"] } },
        test: {
          name: "examples",
          include: ["apps/examples/test/**/*.test.ts"],
          setupFiles: ["packages/test-utils/src/setup.ts"],
        },
      },
    ],
  },
});
