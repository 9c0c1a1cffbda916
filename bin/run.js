#!/usr/bin/env node
// Entry point for both executables (`kubectl-airflow_reap` for kubectl plugin discovery, `airflow-reap`).
// `version` and `--version` are answered without loading oclif (dist/src/cli/quick-version.js).
import {fileURLToPath} from 'node:url'
import {answerVersion} from '../dist/src/cli/quick-version.js'

if (!answerVersion(process.argv.slice(2), fileURLToPath(new URL('..', import.meta.url)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
