// Credentials applied without client-node (the common kubeconfig forms), table-driven; exec plugins
// and auth providers are covered end to end in test/integration/kube-client.test.ts.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import type https from 'node:https'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {Cluster, User} from '@kubernetes/client-node'
import {afterAll, afterEach, describe, expect, it, vi} from 'vitest'
import {type CredentialTarget, credentialsFor} from '../../src/kube/credentials.js'

const dir = mkdtempSync(path.join(tmpdir(), 'reap-credentials-'))
const file = (name: string, content: string) => {
  const full = path.join(dir, name)
  writeFileSync(full, content)
  return full
}
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const CLUSTER: Cluster = {name: 'c', server: 'https://example.test:6443', skipTLSVerify: false}
const b64 = (text: string) => Buffer.from(text).toString('base64')

function target(cluster: Partial<Cluster>, user?: Partial<User>): CredentialTarget {
  return {
    contextName: 'x',
    context: {name: 'x', cluster: 'c', user: 'u'},
    cluster: {...CLUSTER, ...cluster},
    user: user ? ({name: 'u', ...user} as User) : undefined,
  }
}

async function applied(t: CredentialTarget): Promise<https.RequestOptions> {
  const options: https.RequestOptions = {headers: {Accept: 'application/json'}}
  await credentialsFor(t).apply(options)
  return options
}

const text = (value: unknown) => (value === undefined ? undefined : String(value))

describe('credentials applied directly', () => {
  const cases: Array<{name: string; target: CredentialTarget; want: Record<string, unknown>}> = [
    {
      name: 'CA data and a bearer token',
      target: target({caData: b64('CA-PEM')}, {token: 't0k3n'}),
      want: {ca: 'CA-PEM', authorization: 'Bearer t0k3n'},
    },
    {
      name: 'a CA file wins over CA data, as in client-node',
      target: target({caFile: file('ca.pem', 'CA-FROM-FILE'), caData: b64('CA-PEM')}, {token: 't'}),
      want: {ca: 'CA-FROM-FILE'},
    },
    {
      name: 'client certificate and key, from data and from files',
      target: target({}, {certData: b64('CERT'), keyFile: file('key.pem', 'KEY')}),
      want: {cert: 'CERT', key: 'KEY', authorization: undefined},
    },
    {
      name: 'basic auth and impersonation',
      target: target({}, {username: 'admin', password: 'pw', impersonateUser: 'ops'}),
      want: {auth: 'admin:pw', impersonate: 'ops'},
    },
    {
      name: 'insecure-skip-tls-verify and tls-server-name',
      target: target({skipTLSVerify: true, tlsServerName: 'kubernetes.default'}, {token: 't'}),
      want: {rejectUnauthorized: false, servername: 'kubernetes.default'},
    },
    {
      name: 'no user: the CA still applies, no credentials',
      target: target({caData: b64('CA-PEM')}),
      want: {ca: 'CA-PEM', authorization: undefined, cert: undefined},
    },
    {
      name: 'the in-cluster token file, trimmed',
      target: target({}, {authProvider: {name: 'tokenFile', config: {tokenFile: file('sa-token', 'sa-token-1\n')}}}),
      want: {authorization: 'Bearer sa-token-1'},
    },
  ]

  it.each(cases)('$name', async ({target: t, want}) => {
    const options = await applied(t)
    const headers = options.headers as Record<string, string>
    const got: Record<string, unknown> = {
      ca: text(options.ca),
      cert: text(options.cert),
      key: text(options.key),
      authorization: headers.Authorization,
      impersonate: headers['Impersonate-User'],
      auth: options.auth,
      rejectUnauthorized: options.rejectUnauthorized,
      servername: options.servername,
    }
    expect(got).toMatchObject(want)
    expect(credentialsFor(t).usesProxy).toBe(false)
  })

  describe('token file rotation', () => {
    afterEach(() => vi.useRealTimers())

    it('re-reads the token file once it is older than a minute', async () => {
      vi.useFakeTimers({toFake: ['Date']})
      const tokenFile = file('rotating', 'first')
      const credentials = credentialsFor(target({}, {authProvider: {name: 'tokenFile', config: {tokenFile}}}))
      const authorization = async () => {
        const options: https.RequestOptions = {}
        await credentials.apply(options)
        return (options.headers as Record<string, string>).Authorization
      }
      expect(await authorization()).toBe('Bearer first')
      writeFileSync(tokenFile, 'second')
      vi.advanceTimersByTime(30_000)
      expect(await authorization()).toBe('Bearer first')
      vi.advanceTimersByTime(31_000)
      expect(await authorization()).toBe('Bearer second')
    })
  })

  it('a missing CA file fails the request (the client reports it as a credentials error)', async () => {
    await expect(applied(target({caFile: path.join(dir, 'absent.pem')}, {token: 't'}))).rejects.toThrow(/ENOENT/)
  })
})

describe('credentials through client-node', () => {
  it('uses client-node for a proxy, and says so (its agent must be kept)', () => {
    expect(credentialsFor(target({proxyUrl: 'http://proxy.test:3128'}, {token: 't'})).usesProxy).toBe(true)
  })

  it('applies a token through client-node when the user has an auth provider it must run', async () => {
    // An unknown auth provider: client-node applies nothing for it, but still the token beside it.
    const options = await applied(target({caData: b64('CA-PEM')}, {token: 'inline', authProvider: {name: 'custom', config: {}}}))
    expect((options.headers as Record<string, string>).Authorization).toBe('Bearer inline')
    expect(text(options.ca)).toBe('CA-PEM')
    expect(options.agent).toBeDefined() // client-node's own agent: proof the request went through it
  })
})

describe('credential files', () => {
  it('are read once per run, not once per request', async () => {
    const caFile = file('ca-once.pem', 'CA-ONE')
    const credentials = credentialsFor(target({caFile}, {token: 't'}))
    const first: https.RequestOptions = {}
    await credentials.apply(first)
    writeFileSync(caFile, 'CA-TWO')
    const second: https.RequestOptions = {}
    await credentials.apply(second)
    expect([text(first.ca), text(second.ca)]).toEqual(['CA-ONE', 'CA-ONE'])
  })
})
