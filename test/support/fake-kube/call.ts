// A plain https request to the fake API server, for the tests of the fake itself (the CLI's own
// client is tested against it elsewhere): the body as JSON or text, the answer parsed when it is JSON.
import https from 'node:https'
import type {FakeKube} from './index.js'

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  // A test reads whatever the server answered: typing it would only add casts.
  body: any
}

export interface CallOptions {
  body?: unknown
  contentType?: string
  accept?: string
  /** The bearer token (default: the fake's); null sends none. */
  token?: string | null
}

/** Any API server this suite talks to: the fake, or a real one reached with a bearer token. */
export type KubeEndpoint = Pick<FakeKube, 'url' | 'token' | 'caPem'>

export function callFake(kube: KubeEndpoint, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {}
  const token = options.token === undefined ? kube.token : options.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (options.accept) headers.accept = options.accept
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  if (payload !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json'
    // Node frames a DELETE body only with an explicit length.
    headers['content-length'] = String(Buffer.byteLength(payload))
  }
  return new Promise((resolve, reject) => {
    const request = https.request(`${kube.url}${path}`, {method, headers, ca: kube.caPem}, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const isJson = (response.headers['content-type'] ?? '').includes('json')
        resolve({status: response.statusCode ?? 0, headers: response.headers, body: isJson ? JSON.parse(text) : text})
      })
    })
    request.on('error', reject)
    request.end(payload)
  })
}
