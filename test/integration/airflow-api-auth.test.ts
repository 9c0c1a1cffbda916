// Credentials for the Airflow API: which source wins, the token command (no shell, ExecCredential
// expiry honoured, Ctrl-C ends it and what it started), and secrets kept out of every message.
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {credentialSource, createAuth} from '../../src/airflow-api/auth.js'
import {InterruptedError} from '../../src/errors.js'

const node = process.execPath
const cmd = (script: string) => `${node} -e ${JSON.stringify(script)}`
const noToken = async () => {
  throw new Error('no token request expected')
}

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
  dir = undefined
})

describe('credentialSource: first found wins', () => {
  const env = {AIRFLOW_REAP_API_TOKEN_CMD: 'print-token', AIRFLOW_REAP_API_TOKEN: 'tok', AIRFLOW_REAP_API_USERNAME: 'u', AIRFLOW_REAP_API_PASSWORD: 'p'}
  it.each([
    ['the flag over everything', 'flag-cmd', env, {kind: 'token-cmd', commandLine: 'flag-cmd', from: '--airflow-token-cmd'}],
    ['the command variable', undefined, env, {kind: 'token-cmd', commandLine: 'print-token', from: 'AIRFLOW_REAP_API_TOKEN_CMD'}],
    ['the static token', undefined, {...env, AIRFLOW_REAP_API_TOKEN_CMD: ' '}, {kind: 'token', token: 'tok'}],
    ['username and password', undefined, {AIRFLOW_REAP_API_USERNAME: 'u', AIRFLOW_REAP_API_PASSWORD: 'p'}, {kind: 'password', username: 'u', password: 'p'}],
    ['nothing', undefined, {}, {kind: 'none'}],
  ])('%s', (_name, flag, environment, expected) => {
    expect(credentialSource(flag, environment)).toEqual(expected)
  })

  it('half a username/password pair is a usage error that names the missing half, not the value', () => {
    expect(() => credentialSource(undefined, {AIRFLOW_REAP_API_PASSWORD: 'hunter2'})).toThrow(/^AIRFLOW_REAP_API_PASSWORD is set without AIRFLOW_REAP_API_USERNAME/)
    expect(() => credentialSource('  ', {})).toThrow(/the command is empty/)
  })
})

describe('createAuth', () => {
  it('a static token and v1 basic auth are sent as they are, and cannot be renewed', async () => {
    const token = createAuth({kind: 'token', token: 'abc.def'}, {api: 'v2', requestToken: noToken})
    expect(await token.header()).toBe('Bearer abc.def')
    expect(await token.renew()).toBe(false)
    const basic = createAuth({kind: 'password', username: 'admin', password: 'pw'}, {api: 'v1', requestToken: noToken})
    expect(await basic.header()).toBe(`Basic ${Buffer.from('admin:pw').toString('base64')}`)
    expect(basic.how).toBe('password')
  })

  it('v2 exchanges username and password for a token once, and again when renewed', async () => {
    let requests = 0
    const auth = createAuth({kind: 'password', username: 'u', password: 'p'}, {api: 'v2', requestToken: async () => `jwt-${++requests}`})
    expect(await auth.header()).toBe('Bearer jwt-1')
    expect(await auth.header()).toBe('Bearer jwt-1')
    expect(await auth.renew()).toBe(true)
    expect(await auth.header()).toBe('Bearer jwt-2')
  })

  it('the token command runs without a shell: its output is the token, run once until renewed', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'token-cmd-'))
    const counter = path.join(dir, 'runs')
    const script = `const fs=require('fs');fs.appendFileSync(${JSON.stringify(counter)},'x');process.stdout.write('tok-$HOME\\n')`
    const auth = createAuth({kind: 'token-cmd', commandLine: cmd(script), from: '--airflow-token-cmd'}, {api: 'v2', requestToken: noToken})
    expect(await auth.header()).toBe('Bearer tok-$HOME') // no shell expanded $HOME
    await auth.header()
    expect(readFileSync(counter, 'utf8')).toBe('x')
    await auth.renew()
    expect(readFileSync(counter, 'utf8')).toBe('xx')
  })

  it('an ExecCredential is run again once its expirationTimestamp (less a margin) has passed', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'token-cmd-'))
    const counter = path.join(dir, 'runs')
    const script = `const fs=require('fs');fs.appendFileSync(${JSON.stringify(counter)},'x');const n=fs.readFileSync(${JSON.stringify(counter)},'utf8').length;` +
      `process.stdout.write(JSON.stringify({apiVersion:'client.authentication.k8s.io/v1',kind:'ExecCredential',status:{token:'t'+n,expirationTimestamp:new Date(Date.now()+11500).toISOString()}}))`
    const auth = createAuth({kind: 'token-cmd', commandLine: cmd(script), from: 'AIRFLOW_REAP_API_TOKEN_CMD'}, {api: 'v2', requestToken: noToken})
    // Expires in 11.5 s: used for 1.5 s (10 s margin), then fetched again.
    expect(await auth.header()).toBe('Bearer t1')
    expect(await auth.header()).toBe('Bearer t1')
    await new Promise((resolve) => setTimeout(resolve, 1700))
    expect(await auth.header()).toBe('Bearer t2')
  })

  it.each([
    ['JSON that is not an ExecCredential', `process.stdout.write(JSON.stringify({token:'s3cret'+'-value'}))`, /printed JSON that is not an ExecCredential/],
    ['an ExecCredential without a token', `process.stdout.write(JSON.stringify({apiVersion:'client.authentication.k8s.io/v1',kind:'ExecCredential',status:{}}))`, /without status\.token/],
    ['two lines', `process.stdout.write('s3cret'+'-value\\nmore')`, /not a bearer token/],
    ['nothing', ``, /printed nothing/],
    ['a failure', `process.stdout.write('s3cret'+'-value');process.exit(3)`, /exited with code 3/],
  ])('a command printing %s is an error that never shows its output', async (_name, script, message) => {
    const auth = createAuth({kind: 'token-cmd', commandLine: cmd(script), from: '--airflow-token-cmd'}, {api: 'v2', requestToken: noToken})
    const error = (await auth.header().catch((e: Error) => e)) as Error
    expect(error.message).toMatch(message)
    expect(error.message).toMatch(/^--airflow-token-cmd: /)
    expect(error.message).not.toContain('s3cret'+'-value')
  })

  it('Ctrl-C ends the token command and what it started, at once, with the run\'s reason', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'token-cmd-'))
    const marker = path.join(dir, 'grandchild-alive')
    // The command starts a grandchild that would write a file after 1.5 s, then waits for ever.
    const script = `require('child_process').spawn(process.execPath,['-e','setTimeout(()=>require("fs").writeFileSync(${JSON.stringify(marker)},"x"),1500)'],{stdio:'inherit'});setInterval(()=>{},1000)`
    const controller = new AbortController()
    const auth = createAuth({kind: 'token-cmd', commandLine: cmd(script), from: '--airflow-token-cmd'}, {api: 'v2', requestToken: noToken})
    setTimeout(() => controller.abort(new InterruptedError('interrupted', {signal: 'SIGTERM'})), 300)
    const started = Date.now()
    await expect(auth.header(controller.signal)).rejects.toMatchObject({signal: 'SIGTERM'})
    expect(Date.now() - started).toBeLessThan(1200)
    await new Promise((resolve) => setTimeout(resolve, 1800))
    expect(existsSync(marker)).toBe(false)
  })
})
