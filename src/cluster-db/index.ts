// Finding the Airflow metadata DB and reaching it from this machine: an adapter between the cluster
// (src/kube) and the DB (src/airflow). locateDb says where the URL is (flag, environment, a Secret of
// the cluster); reachDb says how to get there (directly, or through a port-forward); openClusterDb
// does both and opens the DB, for the commands that read it.
import {openAirflowDb} from '../airflow/open.js'
import type {SqlAirflowDb} from '../airflow/sql-airflow-db.js'
import {DEFAULT_DB_TIMEOUT_SECONDS} from '../core/timeouts.js'
import {type ClusterAccess, type LocateDbOptions, locateDb} from './locate.js'
import {type ClusterConnection, type PortForwardMode, reachDb} from './reach.js'
import {type DbOrigin, dbOrigin} from './source.js'

export {type ClusterAccess, type LocateDbOptions, type LocatedDb, locateDb} from './locate.js'
export {type ClusterConnection, PORT_FORWARD_MODES, type PortForwardMode, type ReachOptions, type ReachedDb, reachDb} from './reach.js'
export {type DbOrigin, type DbSource, type DbVia, dbOrigin, describeSource, describeVia, originLine} from './source.js'
export {TunnelLostError} from './tunnel.js'

export interface ClusterDbOptions extends LocateDbOptions {
  portForward: PortForwardMode
}

export interface ClusterDb {
  db: SqlAirflowDb
  /** Where the URL came from and how it is reached, as reports and the run store show it. */
  origin: DbOrigin
  /** Aborted (reason: TunnelLostError) when the port-forward drops: nothing may be acted on after it. */
  lost: AbortSignal
  close(): Promise<void>
}

export async function openClusterDb(options: ClusterDbOptions, kube: ClusterAccess & ClusterConnection, signal?: AbortSignal): Promise<ClusterDb> {
  const located = await locateDb(options, kube, signal)
  const reached = await reachDb(located, kube, {portForward: options.portForward}, signal)
  let db: SqlAirflowDb
  try {
    // The signal ends a connect or query in flight and closes the connection.
    db = await openAirflowDb(reached.url, {timeoutMs: (options.timeoutSeconds ?? DEFAULT_DB_TIMEOUT_SECONDS) * 1000, signal})
  } catch (error) {
    await reached.close()
    // A connection that failed because the tunnel did is the tunnel's failure (the kubelet says why).
    throw reached.lost.aborted ? reached.lost.reason : error
  }
  return {
    db,
    origin: dbOrigin(located.source, reached.via),
    lost: reached.lost,
    close: async () => {
      // The tunnel first: it stops counting drops before the drivers say goodbye.
      await Promise.all([reached.close(), db.close()])
    },
  }
}
