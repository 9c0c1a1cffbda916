// Opening the REST API source: one client for the whole run, the API version found (or taken from
// --airflow-api), the release checked, and the credentials bound to that version's auth flow.
import {AirflowApiError, AirflowApiClient, AirflowAuthError, type ApiAuth} from './http.js'
import {type CredentialSource, createAuth} from './auth.js'
import {type ApiVersion, type Personality, personalityFor} from './personality.js'
import {ApiTaskInstanceSource} from './source.js'
import {type ApiBaseUrl, requestUrl} from './url.js'

export interface OpenAirflowApiOptions {
  base: ApiBaseUrl
  api: 'auto' | ApiVersion
  credentials: CredentialSource
  timeoutMs: number
  pageSize: number
  maxRequests: number
  concurrency: number
  signal?: AbortSignal
}

export interface OpenedAirflowApi {
  source: ApiTaskInstanceSource
  client: AirflowApiClient
  personality: Personality
}

/** Until the version is known, requests carry no credentials: /version needs none. */
const NO_AUTH: ApiAuth = {how: 'none', header: async () => undefined, renew: async () => false}

export async function openAirflowApi(options: OpenAirflowApiOptions): Promise<OpenedAirflowApi> {
  let auth: ApiAuth = NO_AUTH
  const client = new AirflowApiClient({
    base: options.base,
    timeoutMs: options.timeoutMs,
    maxRequests: options.maxRequests,
    concurrency: options.concurrency,
    signal: options.signal,
    auth: {how: options.credentials.kind, header: (signal) => auth.header(signal), renew: (signal) => auth.renew(signal)},
  })
  const personality = await findPersonality(client, options.api)
  auth = createAuth(options.credentials, {
    api: personality.api,
    requestToken: async (username, password) => {
      const answer = await client.post(requestUrl(options.base, ['auth', 'token']), {username, password}, {idempotent: false, anonymous: true})
      const token = (answer.body as {access_token?: unknown} | undefined)?.access_token
      if (answer.status === 201 && typeof token === 'string' && token !== '') return token
      const detail = (answer.body as {detail?: unknown} | undefined)?.detail
      throw new AirflowAuthError(`the Airflow API refused AIRFLOW_REAP_API_USERNAME/PASSWORD (POST /auth/token: ${answer.status}${typeof detail === 'string' ? ` ${detail}` : ''})`)
    },
  })
  return {source: new ApiTaskInstanceSource(client, personality, options.pageSize), client, personality}
}

/** --airflow-api auto asks /api/v2/version, then /api/v1/version; a 404 means "not this one". */
async function findPersonality(client: AirflowApiClient, api: OpenAirflowApiOptions['api']): Promise<Personality> {
  for (const candidate of api === 'auto' ? (['v2', 'v1'] as const) : [api]) {
    const answer = await client.get(requestUrl(client.base, ['api', candidate, 'version']))
    if (answer.status === 404) continue
    const version = (answer.body as {version?: unknown} | undefined)?.version
    if (answer.status !== 200 || typeof version !== 'string') {
      throw new AirflowApiError(`GET /api/${candidate}/version answered ${answer.status} without a version: is ${client.base.redacted} an Airflow API server?`, answer.status)
    }
    return personalityFor(candidate, version)
  }
  const tried = api === 'auto' ? '/api/v2/version and /api/v1/version' : `/api/${api}/version`
  throw new AirflowApiError(`${client.base.redacted} answers 404 to ${tried}: not an Airflow 2.7+ API server, or a prefix is missing from --airflow-url`)
}
