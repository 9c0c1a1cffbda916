// The pure parts of src/cluster-db: which hosts name a Service, and how sources and paths read.
import {describe, expect, it} from 'vitest'
import {serviceOfHost} from '../../src/cluster-db/service-host.js'
import {type DbSource, type DbVia, dbOrigin, describeSource, describeVia, originLine} from '../../src/cluster-db/source.js'

describe('serviceOfHost', () => {
  it.each([
    ['airflow-pgbouncer', {name: 'airflow-pgbouncer', namespace: 'home'}],
    ['airflow-pgbouncer.airflow', {name: 'airflow-pgbouncer', namespace: 'airflow'}],
    ['airflow-pgbouncer.airflow.svc', {name: 'airflow-pgbouncer', namespace: 'airflow'}],
    ['airflow-pgbouncer.airflow.svc.cluster.local', {name: 'airflow-pgbouncer', namespace: 'airflow'}],
    ['airflow-pgbouncer.airflow.svc.cluster.local.', {name: 'airflow-pgbouncer', namespace: 'airflow'}],
    ['pg.team-a.svc.corp.example', {name: 'pg', namespace: 'team-a'}],
    ['Airflow-PgBouncer.Airflow', {name: 'airflow-pgbouncer', namespace: 'airflow'}],
  ])('%s names a Service', (host, expected) => {
    expect(serviceOfHost(host, 'home')).toEqual(expected)
  })

  it.each([
    [undefined],
    [''],
    ['127.0.0.1'],
    ['10.96.0.12'],
    ['::1'],
    ['localhost'],
    ['db.example.com'], // three labels, the third is not svc
    ['mydb.eu-west-1.rds.amazonaws.com'],
    ['1db.airflow'], // a Service name starts with a letter
    ['db_x.airflow'],
  ])('%s does not', (host) => {
    expect(serviceOfHost(host, 'home')).toBeUndefined()
  })
})

describe('describing where the DB came from and how it is reached', () => {
  it.each<[DbSource, string]>([
    [{kind: 'flag'}, 'flag'],
    [{kind: 'env', variable: 'AIRFLOW_REAP_DB'}, 'env AIRFLOW_REAP_DB'],
    [{kind: 'secret', namespace: 'airflow', name: 'airflow-airflow-metadata', key: 'connection'}, 'secret airflow/airflow-airflow-metadata:connection'],
    [{kind: 'pod-template', namespace: 'airflow', workload: 'deployment/airflow-scheduler', variable: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'}, 'deployment/airflow-scheduler airflow env AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'],
  ])('%j → %s', (source, text) => {
    expect(describeSource(source)).toBe(text)
  })

  it.each<[DbVia, string]>([
    [{kind: 'direct'}, 'direct'],
    [{kind: 'port-forward', namespace: 'airflow', pod: 'airflow-pgbouncer-7d9f8b6c4-x2x9z', port: 6543}, 'port-forward pod/airflow-pgbouncer-7d9f8b6c4-x2x9z:6543'],
  ])('%j → %s', (via, text) => {
    expect(describeVia(via)).toBe(text)
  })

  it('the header line of the table output', () => {
    const origin = dbOrigin({kind: 'secret', namespace: 'airflow', name: 'm', key: 'connection'}, {kind: 'port-forward', namespace: 'airflow', pod: 'p', port: 6543})
    expect(origin).toEqual({source: 'secret airflow/m:connection', via: 'port-forward pod/p:6543'})
    expect(originLine(origin)).toBe('DB: secret airflow/m:connection via port-forward pod/p:6543')
  })
})
