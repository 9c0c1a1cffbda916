// The CLI contract (docs/cli-contract.md) as a test: every flag it names exists on its command, with
// its short form, default and choices. Flags may be added; these may not disappear or change.
import {Config} from '@oclif/core'
import {beforeAll, describe, expect, it} from 'vitest'
import {repoRoot} from '../support/paths.js'

interface FlagSpec {
  char?: string
  default?: unknown
  options?: string[]
}

const KUBE: Record<string, FlagSpec> = {
  kubeconfig: {},
  context: {},
  namespace: {char: 'n'},
  'all-namespaces': {char: 'A'},
  selector: {char: 'l'},
  'request-timeout': {default: 60},
}
const OUTPUT: Record<string, FlagSpec> = {output: {char: 'o', default: 'table', options: ['table', 'wide', 'json', 'yaml', 'name']}}
const STORE: Record<string, FlagSpec> = {cache: {}, 'no-cache': {}}
const DB: Record<string, FlagSpec> = {db: {}, 'airflow-namespace': {}, 'db-secret': {}, 'port-forward': {default: 'auto', options: ['auto', 'always', 'never']}}
// --dry-run: the contract's client|server, and kubectl's none (no dry run), accepted since 0.2.0.
// The REST API source (0.3.0): cli-contract.md, "Task-instance source: the REST API".
const API: Record<string, FlagSpec> = {
  'airflow-url': {},
  'airflow-api': {default: 'auto', options: ['auto', 'v1', 'v2']},
  'airflow-token-cmd': {},
  'airflow-timeout': {default: 30},
  'airflow-page-size': {default: 100},
  'airflow-max-requests': {default: 2000},
  'task-source': {default: 'auto', options: ['auto', 'db', 'api']},
}
const ACT: Record<string, FlagSpec> = {yes: {}, 'dry-run': {options: ['none', 'client', 'server']}, 'exit-code': {}, 'no-events': {}}

const CONTRACT: Record<string, Record<string, FlagSpec>> = {
  zombies: {
    ...KUBE,
    ...OUTPUT,
    ...STORE,
    ...ACT,
    ...DB,
    ...API,
    'db-timeout': {default: 30},
    'min-age': {default: 300},
    delete: {},
    'grace-period': {},
    force: {},
    concurrency: {default: 10},
    'include-finished': {},
    'max-deletes': {default: 100},
    'allow-mass-delete': {},
    'include-unknown': {},
  },
  overdue: {...KUBE, ...OUTPUT, ...STORE, ...ACT, ...DB, ...API, 'db-timeout': {default: 30}, grace: {default: 60}, delete: {}, 'default-execution-timeout': {}},
  unstick: {...KUBE, ...OUTPUT, ...STORE, ...ACT, 'older-than': {default: 300}, finalizer: {}},
  doctor: {
    kubeconfig: {},
    context: {},
    namespace: {char: 'n'},
    'all-namespaces': {char: 'A'},
    'request-timeout': {default: 60},
    db: {},
    'airflow-namespace': {},
    'db-secret': {},
    'port-forward': {default: 'auto', options: ['auto', 'always', 'never']},
    'db-timeout': {default: 30},
    output: {char: 'o', default: 'table', options: ['table', 'json', 'yaml']},
    ...STORE,
  },
  history: {...OUTPUT, cache: {}, limit: {}, kubeconfig: {}, context: {}},
  'history:show': {...OUTPUT, cache: {}, kubeconfig: {}, context: {}},
  cronjob: {
    output: {char: 'o', default: 'yaml', options: ['yaml', 'json']},
    schedule: {default: '*/15 * * * *'},
    image: {},
    'name-prefix': {},
    suspend: {},
    'history-pvc': {},
    apply: {},
  },
}

let config: Config

beforeAll(async () => {
  config = await Config.load(repoRoot)
})

describe.each(Object.entries(CONTRACT))('%s', (commandId, flags) => {
  it.each(Object.entries(flags))('has --%s as the contract says', async (name, spec) => {
    const command = await config.findCommand(commandId)!.load()
    const flag = command.flags[name] as {char?: string; default?: unknown; options?: string[]} | undefined
    expect(flag, `--${name} missing from ${commandId}`).toBeDefined()
    if (spec.char) expect(flag!.char).toBe(spec.char)
    if (spec.options) expect(flag!.options).toEqual(spec.options)
    if (spec.default !== undefined) {
      const value = typeof flag!.default === 'function' ? await (flag!.default as (ctx: object) => unknown)({options: {}, flags: {}}) : flag!.default
      expect(value).toEqual(spec.default)
    }
  })
})

describe('installation names', () => {
  it('declares both executables of the contract', async () => {
    const {readFileSync} = await import('node:fs')
    const pkg = JSON.parse(readFileSync(`${repoRoot}/package.json`, 'utf8'))
    expect(pkg.name).toBe('kubectl-airflow-reap')
    expect(pkg.bin).toEqual({'kubectl-airflow_reap': 'bin/run.js', 'airflow-reap': 'bin/run.js'})
  })
})
