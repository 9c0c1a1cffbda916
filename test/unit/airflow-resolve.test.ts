// resolveDbUrl: the order of the CLI contract's `--db` row, and `*_CMD` run without a shell.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it, vi} from 'vitest'

import {NO_DB_MESSAGE, type RunCommand, resolveDbUrl, runWithoutShell} from '../../src/airflow/resolve.js'
import {InvalidDbUrlError} from '../../src/airflow/url.js'
import {ConfigError, EXIT_RUNTIME, EXIT_USAGE, InterruptedError, UsageError} from '../../src/errors.js'

const A = 'postgresql://a:pa@a/a'
const B = 'postgresql://b:pb@b/b'
const C = 'postgresql://c:pc@c/c'
const D = 'postgresql://d:pd@d/d'
const E = 'postgresql://e:pe@e/e'
const F = 'postgresql://f:pf@f/f'

/** A RunCommand that prints the URL named by the command's last word (`print C` → C). */
const printing: RunCommand = async (argv) => ({exitCode: 0, stdout: `${{C, F}[argv.at(-1) as 'C' | 'F']}\n`})

describe('resolveDbUrl', () => {
  const all = {
    AIRFLOW_REAP_DB: B,
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: D,
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: 'print C',
    AIRFLOW__CORE__SQL_ALCHEMY_CONN: E,
    AIRFLOW__CORE__SQL_ALCHEMY_CONN_CMD: 'print F',
  }

  it.each([
    ['--db wins over everything', {flag: A, env: all}, A, '--db'],
    ['then AIRFLOW_REAP_DB', {env: all}, B, 'AIRFLOW_REAP_DB'],
    ['then [database] sql_alchemy_conn', {env: {...all, AIRFLOW_REAP_DB: undefined}}, D, 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'],
    [
      'then its _CMD',
      {env: {...all, AIRFLOW_REAP_DB: undefined, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: undefined}},
      C,
      'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD',
    ],
    ['then the legacy [core] spelling', {env: {AIRFLOW__CORE__SQL_ALCHEMY_CONN: E, AIRFLOW__CORE__SQL_ALCHEMY_CONN_CMD: 'print F'}}, E, 'AIRFLOW__CORE__SQL_ALCHEMY_CONN'],
    ['and its _CMD last', {env: {AIRFLOW__CORE__SQL_ALCHEMY_CONN_CMD: 'print F'}}, F, 'AIRFLOW__CORE__SQL_ALCHEMY_CONN_CMD'],
    ['empty variables count as unset', {env: {AIRFLOW_REAP_DB: '', AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: '  ', AIRFLOW__CORE__SQL_ALCHEMY_CONN: E}}, E, 'AIRFLOW__CORE__SQL_ALCHEMY_CONN'],
  ])('%s', async (_title, options, expectedUrl, source) => {
    const resolved = await resolveDbUrl({...options, runCommand: printing})
    expect(resolved.source).toBe(source)
    expect(resolved.url.redacted).toBe(expectedUrl.replace(/:(p\w)@/, ':***@'))
  })

  it('says what to do when nothing is set', async () => {
    await expect(resolveDbUrl({env: {}})).rejects.toThrow(new UsageError(NO_DB_MESSAGE))
  })

  it('explains that a *_SECRET variable cannot be used', async () => {
    await expect(resolveDbUrl({env: {AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET: 'sql_alchemy_conn'}})).rejects.toThrow(
      `${NO_DB_MESSAGE} (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET is set, but Airflow secrets backends are not supported)`,
    )
  })

  it('names the variable in URL errors', async () => {
    await expect(resolveDbUrl({env: {AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql://u:pw@h:x/d'}})).rejects.toThrow(
      'invalid AIRFLOW__DATABASE__SQL_ALCHEMY_CONN URL: port is not a number',
    )
  })

  it('an explicit empty --db is an error, not "unset": a usage error like a malformed --db', async () => {
    const empty = await resolveDbUrl({flag: '', env: {AIRFLOW_REAP_DB: B}}).catch((e: unknown) => e)
    const malformed = await resolveDbUrl({flag: 'S3cretPW', env: {AIRFLOW_REAP_DB: B}}).catch((e: unknown) => e)
    for (const error of [empty, malformed]) {
      expect(error).toBeInstanceOf(InvalidDbUrlError)
      expect((error as InvalidDbUrlError).exitCode).toBe(EXIT_USAGE)
    }
    expect((malformed as Error).message).toBe('invalid --db URL: not a URL of the form dialect[+driver]://user:password@host:port/database')
  })

  it('a malformed variable is a configuration error (exit 1), its value never shown', async () => {
    const error = await resolveDbUrl({env: {AIRFLOW_REAP_DB: 'S3cretPW'}}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidDbUrlError)
    expect((error as InvalidDbUrlError).exitCode).toBe(EXIT_RUNTIME)
    expect((error as Error).message).toBe('invalid AIRFLOW_REAP_DB URL: not a URL of the form dialect[+driver]://user:password@host:port/database')
  })

  describe('_CMD', () => {
    const env = (command: string) => ({AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: command})

    it('splits the command like shlex.split and runs it without a shell', async () => {
      const run = vi.fn<RunCommand>(async () => ({exitCode: 0, stdout: `${C}\n`}))
      await resolveDbUrl({env: env(`cat "/run/secrets/my db" '$HOME'`), runCommand: run})
      expect(run).toHaveBeenCalledWith(['cat', '/run/secrets/my db', '$HOME'], {})
    })

    it('is given the time limit and the signal it was asked to honour (--db-timeout, the run)', async () => {
      const run = vi.fn<RunCommand>(async () => ({exitCode: 0, stdout: `${C}\n`}))
      const signal = new AbortController().signal
      await resolveDbUrl({env: env('get-conn'), runCommand: run, command: {timeoutMs: 5000, signal}})
      expect(run).toHaveBeenCalledWith(['get-conn'], {timeoutMs: 5000, signal})
    })

    it('a non-zero exit is a ConfigError naming the variable, not the output', async () => {
      const run: RunCommand = async () => ({exitCode: 3, stdout: 'postgresql://u:leaked@h/d'})
      const error = await resolveDbUrl({env: env('/usr/bin/get-conn --x'), runCommand: run}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: command "/usr/bin/get-conn --x" exited with code 3')
    })

    it('a program that cannot start is a ConfigError', async () => {
      const run: RunCommand = async () => {
        throw Object.assign(new Error('spawn nope ENOENT'), {code: 'ENOENT'})
      }
      await expect(resolveDbUrl({env: env('nope'), runCommand: run})).rejects.toThrow(
        new ConfigError('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: cannot run command "nope" (ENOENT)'),
      )
    })

    it('empty output, unsplittable commands and invalid URLs are ConfigErrors without the output', async () => {
      const say = (stdout: string): RunCommand => async () => ({exitCode: 0, stdout})
      await expect(resolveDbUrl({env: env('x'), runCommand: say('\n')})).rejects.toThrow('command "x" printed nothing')
      await expect(resolveDbUrl({env: env('x "y'), runCommand: say(C)})).rejects.toThrow(
        'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: cannot split the command: No closing quotation',
      )
      const error = await resolveDbUrl({env: env('x'), runCommand: say('postgresql://u:leaked@h:bad/d')}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: command "x" printed an invalid DB URL: port is not a number')
    })

    it('a token or password among the command\'s arguments is masked in the error', async () => {
      const run: RunCommand = async () => ({exitCode: 2, stdout: ''})
      const error = await resolveDbUrl({env: env('vault read -token=s.Xk3yT0ken -field=url secret/airflow'), runCommand: run}).catch((e: unknown) => e)
      expect((error as Error).message).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: command "vault read -token=*** -field=url secret/airflow" exited with code 2')
      const echo = await resolveDbUrl({env: env("echo 'postgresql://u:pw1@h/d' --password hunter2"), runCommand: run}).catch((e: unknown) => e)
      expect((echo as Error).message).not.toMatch(/pw1|hunter2/)
    })

    it('a command that hangs is bounded: killed, and the error names the command and the time', async () => {
      const hung: RunCommand = async () => ({exitCode: null, stdout: '', timedOutAfterMs: 30_000})
      await expect(resolveDbUrl({env: env('vault read -field=url secret/airflow'), runCommand: hung})).rejects.toThrow(
        new ConfigError('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: command "vault read -field=url secret/airflow" did not finish within 30s (--db-timeout) and was killed'),
      )
    })
  })
})

describe('runWithoutShell', () => {
  it('returns stdout and the exit code, with no shell in between', async () => {
    const result = await runWithoutShell([process.execPath, '-e', 'process.stdout.write(process.argv[1]); process.exit(0)', 'a|b $HOME'])
    expect(result).toEqual({exitCode: 0, stdout: 'a|b $HOME'})
  })

  it('reports the exit code', async () => {
    expect((await runWithoutShell([process.execPath, '-e', 'process.exit(4)'])).exitCode).toBe(4)
  })

  it('kills a program that runs past the timeout, even one that ignores SIGTERM and leaves a child holding stdout', async () => {
    const script = "process.on('SIGTERM', () => {}); require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], {stdio: ['ignore', 'inherit', 'ignore']}); setInterval(() => {}, 1000)"
    const started = Date.now()
    const result = await runWithoutShell([process.execPath, '-e', script], {timeoutMs: 500})
    expect(result).toMatchObject({exitCode: null, timedOutAfterMs: 500})
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('kills what the program started too (its process group), not only the program', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reap-cmd-'))
    const pidFile = path.join(dir, 'grandchild.pid')
    try {
      const script = `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'}); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000)`
      const result = await runWithoutShell([process.execPath, '-e', script], {timeoutMs: 1000})
      expect(result.timedOutAfterMs).toBe(1000)
      const grandchild = Number(readFileSync(pidFile, 'utf8'))
      await vi.waitFor(() => expect(isAlive(grandchild)).toBe(false), {timeout: 5000})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('a signal kills it (and what it started) at once and rejects as an interrupt', async () => {
    const controller = new AbortController()
    const started = Date.now()
    const running = runWithoutShell([process.execPath, '-e', 'setInterval(() => {}, 1000)'], {timeoutMs: 0, signal: controller.signal})
    setTimeout(() => controller.abort(new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'})), 300)
    await expect(running).rejects.toBeInstanceOf(InterruptedError)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('rejects when the program does not exist', async () => {
    await expect(runWithoutShell(['/nonexistent/program'])).rejects.toMatchObject({code: 'ENOENT'})
  })
})

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
