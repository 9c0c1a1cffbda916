// Shared pieces of the run store tests: throwaway directories, a realistic run, child processes.
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import type {RecordableItem, StartRunInput} from '../../../src/store/types.js'

const here = path.dirname(fileURLToPath(import.meta.url))

/** A fresh directory per test; call the returned cleanup in afterEach. */
export function makeTempDir(): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-reap-store-'))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

/** The pid of a process that has exited (and been reaped): what a crashed run recorded. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
  return Number(child.stdout)
}

/** Every byte of a store and its side files (-wal, -shm), to show that nothing was written. */
export function storeFingerprint(file: string): string {
  const hash = createHash('sha256')
  for (const suffix of ['', '-wal', '-shm']) {
    const part = `${file}${suffix}`
    hash.update(`${suffix}:${existsSync(part) ? readFileSync(part).toString('hex') : 'absent'};`)
  }
  return hash.digest('hex')
}

export const DB_PASSWORD = 'Hunter2-s3cr3t'

export function zombiesRun(overrides: Partial<StartRunInput> = {}): StartRunInput {
  return {
    command: 'zombies',
    argv: ['zombies', '-n', 'airflow', '--delete', '--yes'],
    context: 'prod-eks',
    server: 'https://ABCD.gr7.eu-west-1.eks.amazonaws.com',
    namespace: 'airflow',
    dryRun: false,
    ...overrides,
  }
}

export function deletedZombie(overrides: Partial<RecordableItem> = {}): RecordableItem {
  return {
    kind: 'Pod',
    namespace: 'airflow',
    name: 'etl-extract-abc123',
    uid: '0b7c0a52-5b5e-4e0e-9a51-000000000001',
    phase: 'Running',
    ageSeconds: 5400,
    reason: 'no-active-task-instance',
    detail: 'task instance etl.extract is failed',
    taskInstance: {dagId: 'etl', taskId: 'extract', runId: 'scheduled__2026-11-23T09:00:00+00:00', mapIndex: -1, tryNumber: 2, state: 'failed'},
    action: 'deleted',
    actedAt: '2026-11-23T10:00:05.000Z',
    ...overrides,
  }
}

export function skippedStaleTry(overrides: Partial<RecordableItem> = {}): RecordableItem {
  return {
    kind: 'Pod',
    namespace: 'airflow',
    name: 'etl-load-def456',
    uid: '0b7c0a52-5b5e-4e0e-9a51-000000000002',
    ageSeconds: 900,
    reason: 'stale-try',
    detail: 'pod of try 1; the task instance is on try 2',
    taskInstance: {dagId: 'etl', taskId: 'load', runId: 'manual__2026-11-23', mapIndex: 3, tryNumber: 1, state: null},
    action: 'skipped',
    skipReason: 'may-be-reattached',
    ...overrides,
  }
}

export interface ChildResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run a script of this folder in a separate `node` that can import the TypeScript sources. */
export function runChild(script: string, args: string[], onStdout?: (chunk: string) => void, onSpawn?: (child: ChildProcess) => void): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', path.join(here, 'register-ts.mjs'), path.join(here, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    onStdout?.(chunk)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  onSpawn?.(child)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

/**
 * Start a process holding the store's write lock for holdMs; resolves once it holds it. `release()`
 * ends it at once (the lock goes with the process), for a test that must hold it as long as it needs.
 */
export async function holdWriteLock(storePath: string, holdMs: number): Promise<{released: Promise<ChildResult>; release: () => Promise<ChildResult>}> {
  let signalLocked: () => void = () => {}
  const locked = new Promise<void>((resolve) => (signalLocked = resolve))
  let holder: ChildProcess | undefined
  const released = runChild(
    'lock-holder.mjs',
    [storePath, String(holdMs)],
    (chunk) => {
      if (chunk.includes('locked')) signalLocked()
    },
    (child) => (holder = child),
  )
  await Promise.race([locked, released.then((result) => Promise.reject(new Error(`lock holder exited: ${result.stderr}`)))])
  const release = () => {
    holder?.kill('SIGKILL')
    return released
  }
  return {released, release}
}

/**
 * Start one writer process per label, and let them all go at once when every one has loaded (loading
 * the TypeScript sources takes each a second or so, unevenly). Resolves with each writer's run ids.
 */
export async function runWritersTogether(storePath: string, labels: string[], runsEach: number): Promise<{results: ChildResult[]; runIds: number[][]}> {
  const goDir = mkdtempSync(path.join(os.tmpdir(), 'airflow-reap-go-'))
  const goFile = path.join(goDir, 'go')
  let ready = 0
  let allReady: () => void = () => {}
  const everyoneReady = new Promise<void>((resolve) => (allReady = resolve))
  const writers = labels.map((label) =>
    runChild('child-writer.mjs', [storePath, label, String(runsEach), goFile], (chunk) => {
      if (chunk.includes('ready') && ++ready === labels.length) allReady()
    }),
  )
  const finishedEarly = Promise.all(writers).then((results) => Promise.reject(new Error(`writers exited before starting: ${results.map((r) => r.stderr).join(' ')}`)))
  await Promise.race([everyoneReady, finishedEarly])
  writeFileSync(goFile, '')
  const results = await Promise.all(writers)
  rmSync(goDir, {recursive: true, force: true})
  const runIds = results.map((result) => (result.code === 0 ? (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {runIds: number[]}).runIds : []))
  return {results, runIds}
}
