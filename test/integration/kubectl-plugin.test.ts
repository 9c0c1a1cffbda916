// kubectl's plugin discovery: with `kubectl-airflow_reap` on PATH (what `npm link` or krew put there),
// `kubectl airflow-reap ...` runs this program. Checked with the kubectl on PATH (CI: Debian's
// kubernetes-client) and with the current one built with the real control plane (v1.37, see
// test/support/real-kube.ts).
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, cleanEnv} from '../support/cli.js'
import {realKubeMissing, realKubectl} from '../support/real-kube.js'

const run = promisify(execFile)
const kubectlFound = await run('kubectl', ['version', '--client']).then(
  () => true,
  () => false,
)

const KUBECTLS = [
  // CI installs Debian's kubernetes-client (.ci/run); on a developer machine without kubectl it is skipped.
  {name: 'the kubectl on PATH', kubectl: 'kubectl', missing: !kubectlFound && !process.env.CI},
  // Built by scripts/real-cluster.sh (.ci/run builds it; under CI=true a missing one fails).
  {name: 'the kubectl built from k8s.io/kubernetes', kubectl: realKubectl, missing: realKubeMissing !== undefined},
]

describe.each(KUBECTLS)('kubectl plugin discovery with $name', ({kubectl, missing}) => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'reap-plugin-'))
    symlinkSync(BIN, path.join(dir, 'kubectl-airflow_reap'))
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it.skipIf(missing)('kubectl plugin list finds it', async () => {
    const env = cleanEnv({PATH: `${dir}:${process.env.PATH}`})
    const {stdout} = await run(kubectl, ['plugin', 'list'], {env}).catch((error) => error)
    expect(stdout).toContain(path.join(dir, 'kubectl-airflow_reap'))
  })

  it.skipIf(missing)('kubectl airflow-reap zombies --help runs the plugin', async () => {
    const env = cleanEnv({PATH: `${dir}:${process.env.PATH}`})
    const {stdout} = await run(kubectl, ['airflow-reap', 'zombies', '--help'], {env})
    expect(stdout).toContain('Find (and with --delete --yes, delete) zombie KubernetesPodOperator pods')
    expect(stdout).toContain('--min-age')
  })
})
