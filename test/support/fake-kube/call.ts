// A plain https request to the fake API server, for the tests of the fake itself (the CLI's own
// client is tested against it elsewhere), or to the real one (test/support/real-kube.ts): the body as
// JSON or text, the answer parsed when it is JSON.
import https from 'node:https'

/** Where an API server listens and how to reach it: the fake (FakeKube) or a real one (RealKube). */
export interface ApiEndpoint {
  url: string
  token: string
  caPem: string
}

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

const ANSWER_TIMEOUT_MS = 30_000

export function callFake(kube: ApiEndpoint, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
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
    request.setTimeout(ANSWER_TIMEOUT_MS, () => request.destroy(new Error(`${method} ${path}: no answer within ${ANSWER_TIMEOUT_MS / 1000} s`)))
    request.on('error', reject)
    request.end(payload)
  })
}
