// kubectl's plugin discovery: with `kubectl-airflow_reap` on PATH (what `npm link` or krew put there),
// `kubectl airflow-reap ...` runs this program.
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, cleanEnv} from '../support/cli.js'

const run = promisify(execFile)
const kubectlFound = await run('kubectl', ['version', '--client']).then(
  () => true,
  () => false,
)

// CI installs Debian's kubernetes-client (.ci/run); on a developer machine without kubectl the test is skipped.
describe.skipIf(!kubectlFound && !process.env.CI)('kubectl plugin discovery', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'reap-plugin-'))
    symlinkSync(BIN, path.join(dir, 'kubectl-airflow_reap'))
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('kubectl plugin list finds it', async () => {
    const env = cleanEnv({PATH: `${dir}:${process.env.PATH}`})
    const {stdout} = await run('kubectl', ['plugin', 'list'], {env}).catch((error) => error)
    expect(stdout).toContain(path.join(dir, 'kubectl-airflow_reap'))
  })

  it('kubectl airflow-reap zombies --help runs the plugin', async () => {
    const env = cleanEnv({PATH: `${dir}:${process.env.PATH}`})
    const {stdout} = await run('kubectl', ['airflow-reap', 'zombies', '--help'], {env})
    expect(stdout).toContain('Find (and with --delete --yes, delete) zombie KubernetesPodOperator pods')
    expect(stdout).toContain('--min-age')
  })
})
