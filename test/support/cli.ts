// Runs the built CLI (bin/run.js → dist/) as a user would, in a child process. Asynchronous on purpose:
// the fake API server lives in the test process and must keep answering while the CLI runs.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {FakeKube} from './fake-kube/index.js'
import {repoRoot} from './paths.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  input?: string
  timeoutMs?: number
  /** A command the CLI runs under (`['unshare', ..., '--']`): the CLI's own argv is appended to it. */
  wrapper?: readonly string[]
  /** Called once the child is running (to send it a signal, say). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void
}

export const BIN = path.join(repoRoot, 'bin', 'run.js')

let isolatedHome: string | undefined

function emptyHome(): string {
  const home = mkdtempSync(path.join(tmpdir(), 'reap-home-'))
  process.once('exit', () => rmSync(home, {recursive: true, force: true}))
  return home
}

/**
 * Environment with nothing of the developer's own cluster or Airflow leaking into a test. HOME (and
 * the XDG directories under it) is an empty directory unless the test gives its own, so a test that
 * forgets it can read no ~/.kube/config and write no ~/.cache/airflow-reap.
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(KUBECONFIG|AIRFLOW_|AIRFLOW__|KUBERNETES_|XDG_(CACHE|CONFIG|DATA)_HOME$)/.test(key)) continue
    env[key] = value
  }
  env.HOME = isolatedHome ??= emptyHome()
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const command = [...(options.wrapper ?? []), process.execPath, BIN, ...args]
  return runProcess(command[0], command.slice(1), {...options, env: cleanEnv({NO_COLOR: '1', ...options.env})})
}

export interface ProcessOptions {
  /** The whole environment, as given (runCli cleans it first). */
  env: NodeJS.ProcessEnv
  cwd?: string
  input?: string
  /** SIGKILL after this long (default 60 s): a hung child ends the test, never the suite. */
  timeoutMs?: number
  onSpawn?: (child: import('node:child_process').ChildProcess) => void
}

/** Any program in a child process, its output collected. Asynchronous: fakes in this process keep answering. */
export function runProcess(command: string, args: string[], options: ProcessOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
    child.stdin.end(options.input ?? '')
    options.onSpawn?.(child)
  })
}

export interface CliWorkspace {
  /** A throwaway directory: HOME, the kubeconfig and the run store live in it. */
  dir: string
  kubeconfig: string
  /** What runCli needs to reach `kube` (and the DB, when given) and nothing of the developer's own. */
  env: Record<string, string>
  remove(): void
}

export interface CliWorkspaceOptions {
  /** Names the directory (`reap-PREFIX-XXXXXX`), to tell a leftover apart. */
  prefix: string
  /** The kubeconfig's one context (default `prod`, namespace `airflow`). */
  context?: string
  namespace?: string
  /** The Airflow DB, as AIRFLOW_REAP_DB. */
  db?: {url: string}
}

/** A directory holding a kubeconfig for the API server (the fake or a real one) and the run store, and the CLI's environment for them. */
export function cliWorkspace(kube: Pick<FakeKube, 'writeKubeconfig'>, options: CliWorkspaceOptions): CliWorkspace {
  const dir = mkdtempSync(path.join(tmpdir(), `reap-${options.prefix}-`))
  const kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: options.context ?? 'prod', namespace: options.namespace ?? 'airflow'}]})
  const env: Record<string, string> = {KUBECONFIG: kubeconfig, AIRFLOW_REAP_CACHE: path.join(dir, 'runs.sqlite'), HOME: dir}
  if (options.db) env.AIRFLOW_REAP_DB = options.db.url
  return {dir, kubeconfig, env, remove: () => rmSync(dir, {recursive: true, force: true})}
}
