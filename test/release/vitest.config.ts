// `npm run test:release`: the release tests, after scripts/release.mjs has built the archive for
// this machine. Kept out of `npm test` (the build takes minutes on a cold cache).
import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/release/**/*.test.ts', 'test/release/**/*.e2e.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
})
