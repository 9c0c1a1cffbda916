// Posting an events.k8s.io/v1 Event: one POST, whose answer the caller only needs to know succeeded.
import type {KubeEvent} from '../core/events.js'
import type {KubeClient} from './client.js'

export const EVENTS_GROUP = 'events.k8s.io'

export function eventsPath(namespace: string): string {
  return `/apis/${EVENTS_GROUP}/v1/namespaces/${encodeURIComponent(namespace)}/events`
}

/**
 * Creates the event. A 409 AlreadyExists can only mean that an attempt whose answer was lost (the
 * client retries 5xx and reset connections) created it: the event is there, which is all we want.
 */
export async function createEvent(client: KubeClient, event: KubeEvent, signal?: AbortSignal): Promise<void> {
  await client.request({method: 'POST', path: eventsPath(event.metadata.namespace), body: event, signal, allowStatus: [409]})
}
