// Kubeconfig files pointing at the fake, shaped like the ones kubectl writes.

import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import yaml from 'js-yaml'

export interface KubeconfigOptions {
  /** Default: one context named 'fake'. */
  contexts?: {name: string; namespace?: string; cluster?: string; user?: string}[]
  /** Default: the first context; null writes no current-context. */
  currentContext?: string | null
  clusterName?: string
  userName?: string
  /** Overrides (a closed port, a wrong token) for the failure tests. */
  server?: string
  token?: string
}

export interface FakeEndpoint {
  server: string
  caPem: string
  token: string
}

export function writeKubeconfig(path: string, endpoint: FakeEndpoint, options: KubeconfigOptions = {}): string {
  const clusterName = options.clusterName ?? 'fake'
  const userName = options.userName ?? 'fake-user'
  const contexts = options.contexts ?? [{name: 'fake'}]
  const config: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: clusterName,
        cluster: {
          server: options.server ?? endpoint.server,
          'certificate-authority-data': Buffer.from(endpoint.caPem).toString('base64'),
        },
      },
    ],
    users: [{name: userName, user: {token: options.token ?? endpoint.token}}],
    contexts: contexts.map((c) => ({
      name: c.name,
      context: {cluster: c.cluster ?? clusterName, user: c.user ?? userName, ...(c.namespace ? {namespace: c.namespace} : {})},
    })),
  }
  const current = options.currentContext === undefined ? contexts[0]?.name : options.currentContext
  if (current !== null && current !== undefined) config['current-context'] = current
  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, yaml.dump(config), {mode: 0o600})
  return path
}
