// Listing objects as metadata only (PartialObjectMetadataList), page by page, starting over when the
// API server says the continue token has expired (410 Gone). Each page is reduced to records as it
// arrives (toObjectMeta, or the caller's smaller record) and then dropped: only the records stay.

import type {ObjectMeta} from '../core/types.js'
import {ApiError} from '../errors.js'
import type {KubeClient} from './client.js'
import {type MetadataReducer, type RawObjectMeta, toObjectMeta} from './convert.js'
import {type ResourceType, collectionPath, qualifiedName} from './resources.js'

export interface ListMetadataOptions {
  resource: ResourceType
  /** undefined: all namespaces. */
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  pageSize?: number
  /** Fresh starts allowed after 410 Expired before giving up. */
  maxRestarts?: number
  signal?: AbortSignal
  /** Called after each page with the number of objects listed so far (progress display). */
  onPage?: (listedSoFar: number) => void
}

interface MetadataList {
  metadata?: {continue?: string; resourceVersion?: string}
  /** null in kube-apiserver's answer to an empty metadata-only list. */
  items?: {metadata?: RawObjectMeta}[] | null
}

// The fallback to full objects keeps the list working through aggregated APIs or proxies that do not
// offer the metadata-only form; only `metadata` is read either way.
export const METADATA_ONLY_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'

/** Items a page asks for at most, unless the caller says otherwise: kubectl's --chunk-size. */
export const MAX_PAGE_ITEMS = 500
/** The least a page asks for, however large its items. */
export const MIN_PAGE_ITEMS = 50
/**
 * JSON a page should carry at most. A page's parsed objects must die young: V8 collects its young
 * generation cheaply, but a page still being parsed or reduced when scavenges run is promoted, and
 * piles up in the old generation as garbage until a full collection. Pods with the managedFields a
 * real server writes (about 3.8 kB of metadata each) made 500-item pages of about 2 MB, and peak RSS
 * grew by 35 MB at 10k pods and 70 MB at 150k; pages near 1 MB kept it flat at the same wall time
 * (bench/README.md, Findings).
 */
export const PAGE_TARGET_CHARS = 1_000_000

/** The next page's limit: as many items as fit PAGE_TARGET_CHARS at the last page's size per item, within [MIN_PAGE_ITEMS, maxItems]. */
export function nextPageLimit(limit: number, items: number, chars: number | undefined, maxItems: number): number {
  if (!chars || items === 0) return limit
  return Math.min(maxItems, Math.max(MIN_PAGE_ITEMS, Math.floor(PAGE_TARGET_CHARS / (chars / items))))
}

export function listMetadata(client: KubeClient, options: ListMetadataOptions): Promise<ObjectMeta[]> {
  return listRecords(client, options, toObjectMeta)
}

/** listMetadata, each object kept as `reduce` makes it (a compact record instead of the whole ObjectMeta). */
export async function listRecords<T>(client: KubeClient, options: ListMetadataOptions, reduce: MetadataReducer<T>): Promise<T[]> {
  const maxRestarts = options.maxRestarts ?? 3
  for (let restarts = 0; ; restarts++) {
    const items = await listAllPages(client, options, reduce)
    if (items) return items
    if (restarts >= maxRestarts) {
      const what = qualifiedName(options.resource)
      throw new ApiError(`listing ${what} failed: the list expired (410 Gone) ${restarts + 1} times in a row`, 410, 'Expired')
    }
  }
}

/** Every page, or undefined when a continue token expired and the list must start over. */
async function listAllPages<T>(client: KubeClient, options: ListMetadataOptions, reduce: MetadataReducer<T>): Promise<T[] | undefined> {
  const {resource, signal} = options
  const items: T[] = []
  const maxItems = options.pageSize ?? MAX_PAGE_ITEMS
  let limit = maxItems
  let continueToken: string | undefined
  do {
    const response = await client.request<MetadataList>({
      method: 'GET',
      path: collectionPath(resource, options.namespace),
      query: {
        labelSelector: options.labelSelector || undefined,
        fieldSelector: options.fieldSelector || undefined,
        limit,
        continue: continueToken,
      },
      accept: METADATA_ONLY_ACCEPT,
      signal,
      allowStatus: [410],
    })
    if (response.status === 410) return undefined
    const page = checkedPage(resource, response.body)
    // The page goes out of scope with this iteration: nothing of it outlives the loop but the records.
    for (const item of page.items ?? []) items.push(reduce(resource.kind, item.metadata))
    limit = nextPageLimit(limit, page.items?.length ?? 0, response.bodyChars, maxItems)
    continueToken = page.metadata?.continue || undefined
    options.onPage?.(items.length)
  } while (continueToken)
  return items
}

function checkedPage(resource: ResourceType, body: unknown): MetadataList {
  const page = body as MetadataList | null
  if (typeof page !== 'object' || page === null || (page.items !== undefined && page.items !== null && !Array.isArray(page.items))) {
    throw new ApiError(`listing ${qualifiedName(resource)}: the API server did not answer with a list`, 200)
  }
  return page
}
