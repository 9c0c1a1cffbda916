// The real Airflow's REST API over a suite DB, for the API-source tests: `airflow api-server` (3.x,
// SimpleAuthManager with one configured viewer whose password the test writes into the passwords
// file, tokens from POST /auth/token) or `airflow webserver` (2.10, [api] auth_backends = basic_auth,
// an FAB user with the Viewer role made by `airflow users create`). The server listens on 127.0.0.1
// on a port the kernel picks (`-p 0`: uvicorn and gunicorn both log the port they bound), start-up is
// bounded, and stop() ends its whole process group (gunicorn's workers too). Nothing is downloaded:
// both commands come with the venv.
import {type ChildProcess, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {runProcess} from '../cli.js'
import {type RealAirflowDb, airflowEnv} from './airflow.js'
import type {AirflowVenv} from './venv.js'

/** Both start in 20–30 s on an idle machine (FAB's permission sync on 2.10); a loaded one takes longer. */
const START_TIMEOUT_MS = 180_000
const STOP_TIMEOUT_MS = 10_000
const USERNAME = 'reaper'

export interface RealAirflowApi {
  /** The base URL airflow-reap is given (--airflow-url). */
  url: string
  /** The credentials as airflow-reap reads them (AIRFLOW_REAP_API_USERNAME / _PASSWORD). */
  credentialsEnv: Record<string, string>
  stop(): Promise<void>
}

export async function startAirflowApi(venv: AirflowVenv, db: RealAirflowDb): Promise<RealAirflowApi> {
  const password = randomBytes(12).toString('hex')
  const secret = randomBytes(24).toString('hex')
  const env = airflowEnv(venv, db.home, db.airflowUrl, venv.line === '3' ? simpleAuthConfig(db.home, password, secret) : basicAuthConfig(secret))
  const [args, listening] =
    venv.line === '3'
      ? [['api-server', '-H', '127.0.0.1', '-p', '0', '-w', '1', '--apps', 'core'], /Uvicorn running on http:\/\/127\.0\.0\.1:(\d+)/]
      : [['webserver', '-H', '127.0.0.1', '-p', '0', '-w', '1'], /Listening at: http:\/\/127\.0\.0\.1:(\d+)/]
  // detached: a process group of its own, which stop() ends as a whole.
  const child = spawn(venv.airflow, args, {env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
  const stop = () => stopGroup(child)
  try {
    const port = await portOnceListening(child, listening, `airflow ${args[0]} (${venv.line}, ${db.kind})`)
    if (venv.line === '2.10') await createFabViewer(venv, db, password)
    return {url: `http://127.0.0.1:${port}`, credentialsEnv: {AIRFLOW_REAP_API_USERNAME: USERNAME, AIRFLOW_REAP_API_PASSWORD: password}, stop}
  } catch (error) {
    await stop()
    throw error
  }
}

/** 3.x: SimpleAuthManager (the default) reads its users from the config and their passwords from this file. */
function simpleAuthConfig(home: string, password: string, secret: string): Record<string, string> {
  const passwordsFile = path.join(home, 'simple-auth-passwords.json')
  writeFileSync(passwordsFile, JSON.stringify({[USERNAME]: password}), {mode: 0o600})
  return {
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: `${USERNAME}:viewer`,
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: passwordsFile,
    AIRFLOW__API_AUTH__JWT_SECRET: secret,
  }
}

/** 2.10: the basic-auth backend a CLI needs (the default, session, serves browsers only). */
function basicAuthConfig(secret: string): Record<string, string> {
  return {
    AIRFLOW__API__AUTH_BACKENDS: 'airflow.api.auth.backend.basic_auth',
    AIRFLOW__WEBSERVER__SECRET_KEY: secret,
    // gunicorn 27 would otherwise open a control socket in ~/.gunicorn, shared by every webserver.
    GUNICORN_CMD_ARGS: '--no-control-socket',
  }
}

/** The Viewer role exists once the webserver has synced FAB's permissions, i.e. after it listens. */
async function createFabViewer(venv: AirflowVenv, db: RealAirflowDb, password: string): Promise<void> {
  const args = ['users', 'create', '-u', USERNAME, '-p', password, '-r', 'Viewer', '-f', 'Reap', '-l', 'Test', '-e', 'reap@example.com']
  const result = await runProcess(venv.airflow, args, {env: airflowEnv(venv, db.home, db.airflowUrl), timeoutMs: 120_000})
  if (result.code !== 0) throw new Error(`airflow users create exited ${result.code}:\n${(result.stdout + result.stderr).slice(-2000)}`)
}

function portOnceListening(child: ChildProcess, listening: RegExp, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = ''
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new Error(`${what} ${why}:\n${output.slice(-3000)}`))
    }
    const timer = setTimeout(() => fail(`did not listen within ${START_TIMEOUT_MS / 1000}s`), START_TIMEOUT_MS)
    const read = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000)
      const match = listening.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`))
  })
}

/** SIGTERM to the group, SIGKILL to what is left of it after STOP_TIMEOUT_MS or once the leader is gone. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name)
    } catch {
      // the group is gone
    }
  }
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    signal('SIGTERM')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))])
  }
  signal('SIGKILL')
}
