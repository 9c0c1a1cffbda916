// "Can I?": a SelfSubjectAccessReview asks the API server whether the current credentials may do one
// thing, the way `kubectl auth can-i` does. Every authenticated user may create one (the default
// ClusterRole system:basic-user), so it works even when nothing else is allowed.
import {ApiError} from '../errors.js'
import type {KubeClient} from './client.js'

export interface ResourceAttributes {
  verb: string
  group: string
  resource: string
  subresource?: string
  name?: string
  /** undefined: every namespace (cluster scope). */
  namespace?: string
}

export interface AccessDecision {
  allowed: boolean
  /** An authorizer said no outright (not merely "no opinion"). */
  denied: boolean
  /** The authorizer's reason, when it gave one. */
  reason?: string
}

interface SelfSubjectAccessReview {
  status?: {allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string}
}

const PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'

export async function canI(client: KubeClient, attributes: ResourceAttributes, signal?: AbortSignal): Promise<AccessDecision> {
  const resourceAttributes: Record<string, string> = {verb: attributes.verb, group: attributes.group, resource: attributes.resource}
  if (attributes.subresource) resourceAttributes.subresource = attributes.subresource
  if (attributes.name) resourceAttributes.name = attributes.name
  if (attributes.namespace) resourceAttributes.namespace = attributes.namespace
  const response = await client.request<SelfSubjectAccessReview>({
    method: 'POST',
    path: PATH,
    body: {apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {resourceAttributes}},
    signal,
  })
  const status = response.body?.status
  if (typeof status?.allowed !== 'boolean') {
    throw new ApiError('the API server answered a SelfSubjectAccessReview without status.allowed', response.status)
  }
  const decision: AccessDecision = {allowed: status.allowed, denied: status.denied === true}
  const reason = status.reason || status.evaluationError
  if (reason) decision.reason = reason
  return decision
}
