// Whether a DB host names a Kubernetes Service, in the forms cluster DNS answers for it:
// NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.CLUSTER-DOMAIN (cluster.local by default).
import {isIP} from 'node:net'

export interface ServiceRef {
  namespace: string
  name: string
}

// A Service name is a DNS-1035 label; a namespace a DNS-1123 label.
const DNS_1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

/** The Service a host names (a bare NAME lives in `defaultNamespace`), or undefined for any other host. */
export function serviceOfHost(host: string | undefined, defaultNamespace: string): ServiceRef | undefined {
  if (!host || isIP(host) || host.toLowerCase() === 'localhost') return undefined
  const labels = host.toLowerCase().replace(/\.$/, '').split('.')
  const [name, namespace, svc] = labels
  if (!name || !DNS_1035.test(name)) return undefined
  if (labels.length === 1) return {name, namespace: defaultNamespace}
  if (!namespace || !DNS_1123.test(namespace)) return undefined
  if (labels.length === 2) return {name, namespace}
  if (svc !== 'svc') return undefined
  return {name, namespace}
}
