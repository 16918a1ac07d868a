import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The Worker's tests run in workerd: vitest run -c vitest.workers.config.ts
    exclude: ["test/workers/**", "**/node_modules/**"],
    setupFiles: ["test/setup.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    pool: "forks",
  },
});
