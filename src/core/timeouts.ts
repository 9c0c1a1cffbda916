// How long the program waits on the network unless told otherwise. Every wait has a bound: a run left
// unattended (a CronJob) must end with an error that says what it waited for, never hang.

/**
 * --request-timeout: 60 s for each Kubernetes API request. kube-apiserver ends every request that is
 * not a watch after its own `--request-timeout` (default 1m, answering 504), so a client waiting
 * longer waits for an answer that will not come. The largest request this program sends is a page
 * of 500 pods as metadata only (about 1 MB): 25 ms on the benchmark's fake (bench/README.md: 100
 * pages in 2.3–2.7 s) and seconds at worst on a large, busy cluster whose continue pages come from
 * etcd. 60 s is ample for a slow server and still ends, within a minute, a run whose server accepted
 * the connection and never answered. kubectl's default is 0 (no limit); `0` means no limit here too.
 */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 60

/**
 * --db-timeout: 30 s for connecting to the Airflow DB and for each query. The longest statement of
 * the 50k-pod benchmark (the task instances of 50,000 pods' dag runs, in a task_instance table of
 * 4.97M rows) took 1.1–1.4 s with its rows converted (bench/README.md); the statements are indexed
 * and their cost grows with the pods listed, not with the table (the same bench: 1M → 2M rows, same
 * time). 30 s is over 20 times that, room for a remote, busy or cold-cached DB, and a connection
 * that goes silent ends the run within half a minute. `0` means no limit.
 */
export const DEFAULT_DB_TIMEOUT_SECONDS = 30

/** How long `unstick --wait` waits for the names to be free, without --wait-timeout. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 120
