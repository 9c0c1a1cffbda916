import {describe, expect, it} from 'vitest'
import {redactArgv, redactText} from '../../src/core/redact.js'

describe('redactArgv', () => {
  it.each([
    ['--db URL', ['zombies', '--db', 'postgresql+psycopg2://airflow:pw123@db:5432/airflow'], ['zombies', '--db', 'postgresql+psycopg2://airflow:***@db:5432/airflow']],
    ['--db=URL', ['--db=mysql+mysqldb://root:pw123@mysql/airflow'], ['--db=mysql+mysqldb://root:***@mysql/airflow']],
    ['password containing @ : / and a space', ['--db', 'postgres://u:p@ss:w/o rd@host/db'], ['--db', 'postgres://u:***@host/db']],
    ['password without user', ['--db=redis://:pw123@cache:6379/0'], ['--db=redis://:***@cache:6379/0']],
    ['positional URL', ['unstick', 'https://admin:pw123@kube'], ['unstick', 'https://admin:***@kube']],
    ['password in the query string', ['--db', 'postgresql://airflow@db/airflow?password=pw123&sslmode=require'], ['--db', 'postgresql://airflow@db/airflow?password=***&sslmode=require']],
    ['--token VALUE', ['--token', 'eyJhbGciOi.pw123', '-n', 'airflow'], ['--token', '***', '-n', 'airflow']],
    ['--token=VALUE', ['--token=eyJhbGciOi.pw123'], ['--token=***']],
    ['--password VALUE', ['--password', 'pw123'], ['--password', '***']],
    ['--db-password=VALUE', ['--db-password=pw123'], ['--db-password=***']],
    ['--client-secret VALUE', ['--client-secret', 'pw123'], ['--client-secret', '***']],
    ['--api-key VALUE', ['--api-key', 'pw123'], ['--api-key', '***']],
    ['a secret flag as the last word', ['zombies', '--token'], ['zombies', '--token']],
    ['URL without password is kept', ['--db', 'sqlite:////var/lib/airflow/airflow.db'], ['--db', 'sqlite:////var/lib/airflow/airflow.db']],
    ['URL with user only is kept', ['--db=postgresql://airflow@db/airflow'], ['--db=postgresql://airflow@db/airflow']],
    ['--token-file names a file, not a secret', ['--token-file', '/var/run/token'], ['--token-file', '/var/run/token']],
    ['ordinary flags are kept', ['zombies', '-A', '--min-age=10m', '-o', 'json', '--context', 'prod'], ['zombies', '-A', '--min-age=10m', '-o', 'json', '--context', 'prod']],
  ])('%s', (_name, argv, expected) => {
    const redacted = redactArgv(argv)
    expect(redacted).toEqual(expected)
    expect(redacted.join(' ')).not.toContain('pw123')
  })

  it('does not change its input', () => {
    const argv = ['--db', 'postgres://u:pw123@h/db']
    redactArgv(argv)
    expect(argv[1]).toBe('postgres://u:pw123@h/db')
  })

  it('is idempotent', () => {
    const once = redactArgv(['--db=postgres://u:pw123@h/db', '--token', 'x'])
    expect(redactArgv(once)).toEqual(once)
  })
})

describe('redactText', () => {
  it.each([
    ['URL in an error message', 'connect failed: postgresql://airflow:pw123@db:5432/airflow (timeout)', 'connect failed: postgresql://airflow:***@db:5432/airflow (timeout)'],
    ['two URLs', 'tried postgres://a:pw123@h1/db then mysql://b:pw123@h2/db', 'tried postgres://a:***@h1/db then mysql://b:***@h2/db'],
    ['libpq keyword form', 'host=db user=airflow password=pw123 dbname=airflow', 'host=db user=airflow password=*** dbname=airflow'],
    ['quoted keyword value', "password='pw 123' host=db", "password=*** host=db"],
    ['JSON field', '{"login":"airflow","password":"pw\\"123"}', '{"login":"airflow","password":"***"}'],
    ['bearer token', 'request failed: Authorization: Bearer eyJhbGciOi.pw123', 'request failed: Authorization: Bearer ***'],
    ['plain text is kept', 'task instance etl.extract is failed', 'task instance etl.extract is failed'],
    ['URL without password is kept', 'see https://kube.example:6443/api', 'see https://kube.example:6443/api'],
  ])('%s', (_name, text, expected) => {
    expect(redactText(text)).toBe(expected)
  })
})

// Each secret-shaped word the patterns know, and the forms around it (issue 23: the mutants that
// survived showed which alternatives no test used).
describe('redaction: every form it knows', () => {
  it.each([
    ['--credentials VALUE', ['--credentials', 'c'], ['--credentials', '***']],
    ['--credential=VALUE', ['--credential=c'], ['--credential=***']],
    ['--apikey VALUE', ['--apikey', 'k'], ['--apikey', '***']],
    ['--passwd=VALUE', ['--passwd=p'], ['--passwd=***']],
    ['-token VALUE (one dash)', ['-token', 't'], ['-token', '***']],
    ['--TOKEN in capitals', ['--TOKEN', 't'], ['--TOKEN', '***']],
    ['a flag that merely contains the word is not a secret flag', ['--token-secret-name', 'n'], ['--token-secret-name', 'n']],
    ['a flag whose name only ends in a secret word after an underscore', ['--conn_-token', 'v'], ['--conn_-token', 'v']],
    ['a URL in a flag value, password with spaces', ['--db=postgres://u:p w@h/db'], ['--db=postgres://u:***@h/db']],
    ['a URL value whose password has a newline', ['--db', 'postgres://u:p\nw@h/db'], ['--db', 'postgres://u:***@h/db']],
    ['a flag with an empty value', ['--db='], ['--db=']],
    ['a URL with a user but no password in a value', ['--db', 'postgres://u@h:5432/db'], ['--db', 'postgres://u@h:5432/db']],
    ['a value that is not a URL but holds an assignment', ['--conn-args', 'sslpassword=s3cret sslmode=require'], ['--conn-args', 'sslpassword=*** sslmode=require']],
  ])('%s', (_name, argv, expected) => {
    expect(redactArgv(argv)).toEqual(expected)
  })

  it.each([
    ['passwd=', 'passwd=x1 next', 'passwd=*** next'],
    ['pwd=', 'PWD=x1;other', 'PWD=***;other'],
    ['secret=', 'client_secret = x1, next', 'client_secret = ***, next'],
    ['token=', 'access.token=x1&y=2', 'access.token=***&y=2'],
    ['api_key=', 'api_key=x1', 'api_key=***'],
    ['api-key=', 'my-api-key="x 1" rest', 'my-api-key=*** rest'],
    ['apikey=', 'apikey=x1', 'apikey=***'],
    ['a JSON secret', '{"client_secret": "x1"}', '{"client_secret": "***"}'],
    ['a JSON token', '{"token":"x1"}', '{"token":"***"}'],
    ['a JSON api-key', '{"x-api-key" : "x1"}', '{"x-api-key" : "***"}'],
    ['a JSON apikey', '{"apikey":"x1"}', '{"apikey":"***"}'],
    ['a JSON passwd', '{"passwd":"x1"}', '{"passwd":"***"}'],
    ['a JSON field with a prefix and suffix', '{"db.password.v2":"x1"}', '{"db.password.v2":"***"}'],
    ['a JSON field that is no secret', '{"login":"x1"}', '{"login":"x1"}'],
    ['a secret word with a suffix', 'password_v2=x1 token.old=y2', 'password_v2=*** token.old=***'],
    ['a bearer token with several spaces', 'bearer   abc.def', 'bearer   ***'],
    ['a URL password in text, with a user', 'dsn mysql://root:x1@h/db.', 'dsn mysql://root:***@h/db.'],
    ['a URL password in text, without a user', 'redis://:x1@cache:6379', 'redis://:***@cache:6379'],
    ['a word that only ends like a URL', 'see notaurl:x1@h', 'see notaurl:x1@h'],
  ])('%s', (_name, text, expected) => {
    expect(redactText(text)).toBe(expected)
  })
})
