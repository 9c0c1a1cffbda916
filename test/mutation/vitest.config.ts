// The tests the mutation run (Stryker, `npm run test:mutation`) uses: those that exercise src in this
// process. Most integration tests run the built CLI from dist/, which Stryker's mutants never reach, so
// they could only slow the run down without killing anything.
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/reap-guards.test.ts',
      'test/integration/reap-writes.test.ts',
      'test/integration/reap-unstick.test.ts',
      'test/integration/reap-scan.test.ts',
      'test/integration/kube-client.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Stryker runs one vitest per worker: keep each one to a single fork on a shared 2-core machine.
    maxWorkers: 1,
    fileParallelism: false,
  },
})
