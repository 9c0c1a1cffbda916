// Which task-instance source a run reads (cli-contract.md, "Task-instance source: the REST API"): the
// contract's usage errors (exit 2) come from chooseTaskSource, before anything is opened.
import {describe, expect, it} from 'vitest'
import {type TaskSourceOptions, chooseTaskSource} from '../../src/task-source/choice.js'
import {EXIT_USAGE, UsageError} from '../../src/errors.js'

const options = (over: {db?: string; url?: string; taskSource?: TaskSourceOptions['taskSource']; tokenCmd?: string; dbSecret?: string} = {}): TaskSourceOptions => ({
  taskSource: over.taskSource ?? 'auto',
  db: {db: over.db, dbSecret: over.dbSecret, portForward: 'auto'},
  api: {url: over.url, api: 'auto', tokenCmd: over.tokenCmd, timeoutSeconds: 30, pageSize: 100, maxRequests: 2000},
})

function refusal(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).exitCode).toBe(EXIT_USAGE)
    return (error as Error).message
  }
  throw new Error('not refused')
}

describe('chooseTaskSource', () => {
  it.each([
    ['nothing given: the DB, as before', options(), {}, 'db'],
    ['--airflow-url: the API', options({url: 'https://airflow.example.com'}), {}, 'api'],
    ['AIRFLOW_REAP_API_URL: the API', options(), {AIRFLOW_REAP_API_URL: 'https://airflow.example.com'}, 'api'],
    ['--db as a flag outweighs AIRFLOW_REAP_API_URL', options({db: 'sqlite:////tmp/a.db'}), {AIRFLOW_REAP_API_URL: 'https://airflow.example.com'}, 'db'],
    ['--task-source db ignores AIRFLOW_REAP_API_URL', options({taskSource: 'db'}), {AIRFLOW_REAP_API_URL: 'https://airflow.example.com'}, 'db'],
    ['--task-source api with --db and the URL from the environment: the API', options({taskSource: 'api', db: 'sqlite:////tmp/a.db'}), {AIRFLOW_REAP_API_URL: 'https://a.example.com'}, 'api'],
    ['plain http to loopback with credentials', options({url: 'http://127.0.0.1:8080'}), {AIRFLOW_REAP_API_TOKEN: 't0ken'}, 'api'],
    ['plain http to a remote host without credentials', options({url: 'http://airflow.internal:8080'}), {}, 'api'],
  ] as const)('%s', (_name, given, env, kind) => {
    expect(chooseTaskSource(given, env).kind).toBe(kind)
  })

  it('the API: the URL parsed, the credentials found, the DB settings it will not read named', () => {
    const choice = chooseTaskSource(options({url: 'https://astro.example.com/d1/', dbSecret: 'meta'}), {AIRFLOW_REAP_API_TOKEN: 't0ken', AIRFLOW_REAP_DB: 'postgresql://x'})
    expect(choice).toMatchObject({kind: 'api', base: {base: 'https://astro.example.com/d1', redacted: 'https://astro.example.com/d1'}, credentials: {kind: 'token'}})
    expect(choice.kind === 'api' && choice.ignored).toEqual(['AIRFLOW_REAP_DB', '--db-secret'])
  })

  it.each([
    ['--db and --airflow-url both as flags', options({db: 'sqlite:////tmp/a.db', url: 'https://a.example.com'}), {}, '--db and --airflow-url cannot be used together: choose the DB or the REST API'],
    ['--task-source db with --airflow-url', options({taskSource: 'db', url: 'https://a.example.com'}), {}, '--task-source db and --airflow-url cannot be used together'],
    ['--task-source api without a URL', options({taskSource: 'api'}), {}, '--task-source api needs the API\'s URL: --airflow-url or AIRFLOW_REAP_API_URL'],
    ['user info in --airflow-url', options({url: 'https://admin:s3cret@a.example.com'}), {}, '--airflow-url: user info in the URL is refused'],
    ['user info in AIRFLOW_REAP_API_URL', options(), {AIRFLOW_REAP_API_URL: 'https://admin:s3cret@a.example.com'}, 'AIRFLOW_REAP_API_URL: user info in the URL is refused'],
    ['plain http to a remote host with a token', options({url: 'http://airflow.internal:8080'}), {AIRFLOW_REAP_API_TOKEN: 't0ken'}, 'refusing to send Airflow API credentials over plain http:// to airflow.internal:8080'],
    ['plain http to a remote host with a token command', options({url: 'http://10.0.0.5', tokenCmd: 'gcloud auth print-access-token'}), {}, 'refusing to send Airflow API credentials over plain http:// to 10.0.0.5'],
    ['plain http to a remote host with a password', options({url: 'http://airflow.internal'}), {AIRFLOW_REAP_API_USERNAME: 'u', AIRFLOW_REAP_API_PASSWORD: 'p'}, 'refusing to send Airflow API credentials over plain http:// to airflow.internal'],
  ] as const)('refused (exit 2): %s', (_name, given, env, message) => {
    const text = refusal(() => chooseTaskSource(given, env))
    expect(text.startsWith(message)).toBe(true)
    expect(text).not.toContain('s3cret')
    expect(text).not.toContain('t0ken')
  })
})
