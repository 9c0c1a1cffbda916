// Runs the built CLI (bin/run.js → dist/) as a user would, in a child process. Asynchronous on purpose:
// the fake API server lives in the test process and must keep answering while the CLI runs.
import {spawn} from 'node:child_process'
import path from 'node:path'
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

/** Environment with nothing of the developer's own cluster or Airflow leaking into a test. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(KUBECONFIG|AIRFLOW_|AIRFLOW__|KUBERNETES_)/.test(key)) continue
    env[key] = value
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const command = [...(options.wrapper ?? []), process.execPath, BIN, ...args]
    const child = spawn(command[0], command.slice(1), {
      env: cleanEnv({NO_COLOR: '1', ...options.env}),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
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
