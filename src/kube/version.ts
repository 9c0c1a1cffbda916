// GET /version: the API server's version, and its clock as the `Date` header of the answer says it
// (Go's HTTP server stamps every answer, to the second).
import type {KubeClient} from './client.js'

export interface ServerVersion {
  /** `v1.33.4`, `v1.30.2-eks-1552ad0`. */
  gitVersion: string
  major: string
  minor: string
  platform?: string
}

export interface ClockReading {
  /** The server's clock (the Date header), undefined when it sent none or an unreadable one. */
  serverTime?: Date
  /** This machine's clock when the request was sent and when the answer arrived. */
  sentAt: Date
  receivedAt: Date
}

export async function serverVersion(client: KubeClient, signal?: AbortSignal): Promise<{version: ServerVersion; clock: ClockReading}> {
  const sentAt = new Date()
  const response = await client.request<Partial<ServerVersion>>({method: 'GET', path: '/version', signal})
  const receivedAt = new Date()
  const body = response.body ?? {}
  const version: ServerVersion = {
    gitVersion: typeof body.gitVersion === 'string' ? body.gitVersion : 'unknown',
    major: typeof body.major === 'string' ? body.major : '',
    minor: typeof body.minor === 'string' ? body.minor : '',
  }
  if (typeof body.platform === 'string') version.platform = body.platform
  const date = response.headers.date ? new Date(response.headers.date) : undefined
  const clock: ClockReading = {sentAt, receivedAt}
  if (date && !Number.isNaN(date.getTime())) clock.serverTime = date
  return {version, clock}
}
