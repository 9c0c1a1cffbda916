// Usage and errors as a kubectl user meets them, through the built CLI: one `error: ...` line and
// kubectl's usage hint, exit 2 for usage errors (before anything is opened), no oclif error block,
// no USAGE dump, no value of a rejected --db echoed; version and help.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../support/cli.js'

const SECRET = 'S3cretPW-9f2'
let dir: string
let env: Record<string, string>

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reap-usage-'))
  // Nothing to connect to: a usage error must be found before the kubeconfig is even read.
  env = {KUBECONFIG: path.join(dir, 'no-such-kubeconfig'), AIRFLOW_REAP_CACHE: path.join(dir, 'runs.sqlite'), HOME: dir}
})

afterAll(() => rmSync(dir, {recursive: true, force: true}))

function expectUsageError(result: {code: number | null; stdout: string; stderr: string}, line: string | RegExp, command?: string): void {
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines, result.stderr).toHaveLength(2)
  if (typeof line === 'string') expect(lines[0]).toBe(`error: ${line}`)
  else expect(lines[0]).toMatch(line)
  expect(lines[1]).toBe(`See 'kubectl airflow-reap${command ? ` ${command}` : ''} --help' for usage.`)
  expect(result.stderr).not.toMatch(/›|USAGE|Error:|\n\s+at /)
  expect(result.stdout).toBe('')
  expect(result.code).toBe(2)
}

describe('usage errors: one line, the usage hint, exit 2', () => {
  it.each([
    [['zombies', '--bogus'], 'unknown flag: --bogus', 'zombies'],
    [['zombies', '--min-age', '5x'], 'invalid argument "5x" for "--min-age" flag: not a duration (examples: 90s, 10m, 2h, 1h30m)', 'zombies'],
    [['overdue', '--grace', 'soon'], 'invalid argument "soon" for "--grace" flag: not a duration (examples: 90s, 10m, 2h, 1h30m)', 'overdue'],
    [['zombies', '-o', 'xml'], 'invalid argument "xml" for "--output" flag: must be one of table, wide, json, yaml, name', 'zombies'],
    [['zombies', '--dry-run=maybe'], 'invalid argument "maybe" for "--dry-run" flag: must be one of none, client, server', 'zombies'],
    [['zombies', '--concurrency', '0'], /^error: invalid argument "0" for "--concurrency" flag: must be an integer greater than or equal to 1$/, 'zombies'],
    [['zombies', '--concurrency', 'abc'], /^error: invalid argument "abc" for "--concurrency" flag: must be an integer$/, 'zombies'],
    [['zombies', 'extra-arg'], 'unexpected argument "extra-arg" for "kubectl airflow-reap zombies"', 'zombies'],
    [['-n', 'airflow', 'zombies'], 'flags go after the command: kubectl airflow-reap zombies -n ...', 'zombies'],
    [['nosuch'], /^error: unknown command "nosuch" for "kubectl airflow-reap" \(commands: .*zombies/, undefined],
    [['history', 'show', 'abc'], '"abc" is not a run id: give the number in the RUN column of kubectl airflow-reap history', 'history show'],
    [['history', 'show'], 'missing required argument RUNID', 'history show'],
    [['unstick', '--bogus'], 'unknown flag: --bogus', 'unstick'],
    [['doctor', '--db', SECRET], 'invalid --db URL: not a URL of the form dialect[+driver]://user:password@host:port/database', 'doctor'],
    [['zombies', '--request-timeout', '5x'], 'invalid argument "5x" for "--request-timeout" flag: not a duration (examples: 5, 90s, 10m, 1h30m)', 'zombies'],
  ])('%j', async (args, line, command) => {
    expectUsageError(await runCli(args, {env}), line, command)
  })

  it.each([
    [['zombies', '--db', '']],
    [['zombies', '--db', SECRET]],
    [['zombies', '--db', `postgresql://airflow:${SECRET}@db:port/airflow`]],
    [['zombies', `postgresql://airflow:${SECRET}@db/airflow`]],
    [[`--db=postgresql://airflow:${SECRET}@db/airflow`, 'zombies']],
  ])('%j: a rejected --db is a usage error and never echoed', async (args) => {
    const result = await runCli(args, {env})
    expectUsageError(result, /^error: /, 'zombies')
    expect(result.stderr).not.toContain(SECRET)
  })

  it('--db "" and a malformed --db are treated alike', async () => {
    const empty = await runCli(['overdue', '--db', ''], {env})
    const malformed = await runCli(['overdue', '--db', SECRET], {env})
    expectUsageError(empty, 'invalid --db URL: the URL is empty: give a database URL, or leave the flag out to use the environment', 'overdue')
    expectUsageError(malformed, 'invalid --db URL: not a URL of the form dialect[+driver]://user:password@host:port/database', 'overdue')
  })

  it('a malformed AIRFLOW_REAP_DB is a configuration error (exit 1), not echoed either', async () => {
    const result = await runCli(['doctor'], {env: {...env, AIRFLOW_REAP_DB: SECRET}})
    expect(result.stderr + result.stdout).not.toContain(SECRET)
  })
})

describe('the REST API source: usage errors of the contract, before the kubeconfig is read', () => {
  it.each([
    [['zombies', '--db', 'sqlite:////tmp/a.db', '--airflow-url', 'https://airflow.example.com'], {}, '--db and --airflow-url cannot be used together: choose the DB or the REST API'],
    [['overdue', '--task-source', 'api'], {}, "--task-source api needs the API's URL: --airflow-url or AIRFLOW_REAP_API_URL"],
    [['zombies', '--airflow-url', `https://admin:${SECRET}@airflow.example.com`], {}, '--airflow-url: user info in the URL is refused; give credentials through AIRFLOW_REAP_API_TOKEN, --airflow-token-cmd or AIRFLOW_REAP_API_USERNAME/PASSWORD'],
    [['zombies'], {AIRFLOW_REAP_API_URL: `https://admin:${SECRET}@airflow.example.com`}, 'AIRFLOW_REAP_API_URL: user info in the URL is refused; give credentials through AIRFLOW_REAP_API_TOKEN, --airflow-token-cmd or AIRFLOW_REAP_API_USERNAME/PASSWORD'],
    [['zombies', '--airflow-url', 'http://airflow.internal:8080'], {AIRFLOW_REAP_API_TOKEN: SECRET}, 'refusing to send Airflow API credentials over plain http:// to airflow.internal:8080: use https:// (plain http is allowed to loopback only)'],
    [['zombies', '--airflow-page-size', '1001'], {}, /^error: invalid argument "1001" for "--airflow-page-size" flag: must be an integer less than or equal to 1000$/],
    [['zombies', '--airflow-api', 'v3'], {}, 'invalid argument "v3" for "--airflow-api" flag: must be one of auto, v1, v2'],
  ] as Array<[string[], Record<string, string>, string | RegExp]>)('%j %j', async (args, extra, line) => {
    const result = await runCli(args, {env: {...env, ...extra}})
    expectUsageError(result, line, args[0])
    expect(result.stderr).not.toContain(SECRET)
  })
})

describe('not usage errors', () => {
  it('history show 999: not found, exit 1, no usage hint', async () => {
    const result = await runCli(['history', 'show', '999'], {env})
    expect(result).toMatchObject({code: 1, stdout: ''})
    expect(result.stderr).toBe('error: run 999 not found in the local run store (kubectl airflow-reap history lists the runs)\n')
  })

  it('--request-timeout 5 is 5 seconds, as kubectl reads it (it goes on to read the kubeconfig)', async () => {
    const result = await runCli(['zombies', '--request-timeout', '5'], {env})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: no kubeconfig found/)
  })

  it('--dry-run=none is accepted as kubectl accepts it (no dry run: it goes on to read the kubeconfig)', async () => {
    const result = await runCli(['zombies', '--dry-run=none'], {env})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: no kubeconfig found/)
  })
})

describe('version and help', () => {
  it('version and --version print the same', async () => {
    const version = await runCli(['version'], {env})
    const flag = await runCli(['--version'], {env})
    expect(version).toMatchObject({code: 0, stderr: ''})
    expect(version.stdout).toMatch(/^kubectl-airflow-reap\/0\.2\.0 /)
    expect(flag.stdout).toBe(version.stdout)
  })

  it('the top-level help lists each command once, with USAGE as users type it', async () => {
    const {code, stdout} = await runCli(['--help'], {env})
    expect(code).toBe(0)
    expect(stdout).not.toContain('TOPICS')
    const commands = stdout.slice(stdout.indexOf('COMMANDS')).split('\n').filter((l) => /^ {2}\w/.test(l)).map((l) => l.trim().split(/\s+/)[0])
    expect(commands).toEqual([...new Set(commands)])
    expect(commands).toEqual(expect.arrayContaining(['zombies', 'overdue', 'unstick', 'history', 'version']))
    expect(stdout).toContain('$ kubectl airflow-reap [COMMAND]')
  })

  it('help nosuch: one error line and the usage hint, exit 2, not oclif\'s " ›   Error:"', async () => {
    const result = await runCli(['help', 'nosuch'], {env})
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^error: unknown command "nosuch" for "kubectl airflow-reap help" \(commands: [a-z, ]+\)\nSee 'kubectl airflow-reap help --help' for usage\.\n$/)
    expect((await runCli(['help', 'history', 'show'], {env})).stdout).toContain('$ kubectl airflow-reap history show RUNID')
  })

  it('-h is help too', async () => {
    expect((await runCli(['-h'], {env})).stdout).toContain('$ kubectl airflow-reap [COMMAND]')
  })

  it.each([['zombies'], ['overdue'], ['unstick'], ['history']])('%s --help: USAGE reads kubectl airflow-reap, placeholders say what flags take, no sentence broken mid-line by us', async (command) => {
    const {stdout} = await runCli([command, '--help'], {env})
    expect(stdout).toContain(`$ kubectl airflow-reap ${command}`)
    expect(stdout).not.toMatch(/<value>|<option>/)
  })
})
