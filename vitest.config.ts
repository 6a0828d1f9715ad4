import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Fail the run when a file declares no test, so "ran nothing" can never pass.
    passWithNoTests: false,
  },
});
