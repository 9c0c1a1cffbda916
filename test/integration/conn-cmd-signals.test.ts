// A signal while `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD` runs (issue 21 §2): the command (and what it
// started) is killed at once, the spinner cleared, the run recorded `interrupted`, exit 130 / 143 well
// inside 2 s, ended by the abort and not by the last-resort deadline. Its time limit is --db-timeout.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {runCli} from '../support/cli.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {runOnPty} from '../support/pty.js'
import {runCliSignalled, stderrLines} from '../support/signals.js'

vi.setConfig({testTimeout: 90_000})
// The contract's 2 s plus slack for a machine whose cores are shared (as in faults-hangs.test.ts);
// that the abort ended the run, not the 1.9 s last-resort deadline, is checked apart.
const SIGNAL_BUDGET_MS = 2_000 + 1_500
const SPINNER_FRAMES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/

let kube: FakeKube
let dir: string
let kubeconfig: string
let runs = 0

beforeAll(async () => {
  kube = await startFakeKube()
  dir = mkdtempSync(path.join(tmpdir(), 'reap-conn-cmd-'))
  kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'prod', namespace: 'airflow'}]})
})

afterAll(async () => {
  await kube?.close()
  rmSync(dir, {recursive: true, force: true})
})

/** A `_CMD` (a shell) that starts a child holding its stdout, notes both pids, and waits for ever. */
function hangingCommand(): {env: Record<string, string>; pids: () => Promise<number[]>} {
  const n = ++runs
  const pidFile = path.join(dir, `cmd-${n}.pids`)
  const script = path.join(dir, `get-conn-${n}.sh`)
  writeFileSync(script, `#!/bin/sh\nsleep 600 &\necho "$$ $!" > "${pidFile}"\nwait\n`, {mode: 0o755})
  const env = {
    KUBECONFIG: kubeconfig,
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: script,
    AIRFLOW_REAP_CACHE: path.join(dir, `runs-${n}.sqlite`),
    HOME: dir,
  }
  const pids = async () => {
    for (let i = 0; i < 600; i++) {
      if (existsSync(pidFile)) {
        const found = readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number)
        if (found.length === 2 && found.every((pid) => pid > 0)) return found
      }
      await sleep(50)
    }
    throw new Error('the _CMD never started')
  }
  return {env, pids}
}

/** Running, not a zombie that the container's init has yet to reap. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function lastRun(env: Record<string, string>): Promise<{outcome: string; error?: string}> {
  const {stdout} = await runCli(['history', '-o', 'json'], {env})
  return (JSON.parse(stdout).items as {outcome: string; error?: string}[])[0]
}

describe.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const)('%s while the _CMD runs', (signal, code) => {
  it(`kills it and what it started at once, exit ${code} well inside 2 s, recorded interrupted`, async () => {
    const command = hangingCommand()
    const started = command.pids()
    const result = await runCliSignalled(['zombies'], {env: command.env, waiting: started, signal})
    expect(result.code).toBe(code)
    expect(result.exitMsAfterSignal!).toBeLessThan(SIGNAL_BUDGET_MS)
    expect(result.stderr).not.toMatch(/did not stop/) // the abort ended it, not the last-resort deadline
    expect(stderrLines(result.stderr)).toEqual([expect.stringMatching(new RegExp(`^error: interrupted by ${signal}`))])
    await sleep(200)
    for (const pid of await started) expect(isAlive(pid)).toBe(false)
    expect((await lastRun(command.env)).outcome).toBe('interrupted')
  })
})

describe('on a terminal', () => {
  it('Ctrl-C while the _CMD runs: the spinner is cleared, exit 130, recorded interrupted', async () => {
    const command = hangingCommand()
    const run = runOnPty(['zombies'], {env: command.env})
    const pids = await command.pids()
    await sleep(500) // the spinner is up and the run waits on the command
    const sent = performance.now()
    run.type('\u0003')
    const exit = await run.exited
    expect({code: exit.exitCode, signal: exit.signal}).toEqual({code: 130, signal: 0})
    expect(exit.at - sent).toBeLessThan(SIGNAL_BUDGET_MS)
    expect(run.screen().filter((line) => SPINNER_FRAMES.test(line))).toEqual([])
    expect(run.screen().join('\n')).toMatch(/^error: interrupted by SIGINT/m)
    expect(run.output()).not.toMatch(/did not stop/)
    await sleep(200)
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
    expect((await lastRun(command.env)).outcome).toBe('interrupted')
  })
})

describe('its time limit', () => {
  it('is --db-timeout, not a fixed 30 s: killed after 1 s, one line naming the flag, recorded failed', async () => {
    const command = hangingCommand()
    const started = performance.now()
    const result = await runCli(['zombies', '--db-timeout', '1s'], {env: command.env})
    expect(performance.now() - started).toBeLessThan(15_000)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: command ".*get-conn-\d+\.sh" did not finish within 1s \(--db-timeout\) and was killed\n$/)
    await sleep(200)
    for (const pid of await command.pids()) expect(isAlive(pid)).toBe(false)
    expect((await lastRun(command.env)).outcome).toBe('failed')
  })
})
