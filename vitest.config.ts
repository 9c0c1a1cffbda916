import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores on CI: integration files each own a throwaway database, so a few in parallel is fine.
    maxWorkers: 3,
  },
})
