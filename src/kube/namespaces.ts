// Whether a namespace exists, for the hint after "No resources found in NS namespace.": a mistyped -n
// lists nothing without an error, as in kubectl. Best effort: anything but a clear answer (RBAC
// denies `get namespaces` to many users, a timeout) is "unknown" and never fails the run.
import type {KubeClient} from './client.js'

export async function namespaceExists(client: KubeClient, name: string, signal?: AbortSignal): Promise<boolean | undefined> {
  try {
    const response = await client.request({method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(name)}`, allowStatus: [404], signal})
    return response.status !== 404
  } catch {
    return undefined
  }
}
