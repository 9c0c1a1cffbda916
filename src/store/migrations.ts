// The store's schema, as an ordered list of forward migrations. `PRAGMA user_version` holds how many
// have been applied. Never edit a released step: append a new one, since stores written by older
// versions are migrated from wherever they stopped.
import type Database from 'better-sqlite3'
import {StoreTooNewError} from './errors.js'

export interface Migration {
  description: string
  up: (db: Database.Database) => void
}

export const migrations: readonly Migration[] = [
  {
    description: 'runs and their findings',
    up: (db) =>
      db.exec(`
        -- AUTOINCREMENT: a run id is what people paste into "history show", so it is never reused.
        CREATE TABLE runs (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,
          started_at    TEXT    NOT NULL,
          finished_at   TEXT,
          command       TEXT    NOT NULL,
          argv          TEXT    NOT NULL,            -- JSON array, redacted
          context       TEXT    NOT NULL,
          server        TEXT    NOT NULL,
          namespace     TEXT    NOT NULL,            -- a namespace, or '*' for all
          dry_run       INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
          dry_run_mode  TEXT,                        -- 'client' | 'server', NULL when not a dry run
          outcome       TEXT    NOT NULL,            -- 'running' until finished
          error         TEXT,
          scanned       INTEGER,                     -- summary counts, NULL until finished
          found         INTEGER,
          acted         INTEGER,
          failed        INTEGER,
          skipped       INTEGER
        );
        CREATE TABLE run_items (
          id            INTEGER PRIMARY KEY,         -- keeps the report's order
          run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
          kind          TEXT    NOT NULL,
          namespace     TEXT    NOT NULL,
          name          TEXT    NOT NULL,
          uid           TEXT    NOT NULL,
          phase         TEXT,
          age_seconds   INTEGER NOT NULL,
          reason        TEXT    NOT NULL,
          detail        TEXT    NOT NULL,
          dag_id        TEXT,                        -- task instance columns: all NULL when there is none
          task_id       TEXT,
          ti_run_id     TEXT,
          map_index     INTEGER,
          try_number    INTEGER,
          ti_state      TEXT,
          action        TEXT    NOT NULL,
          skip_reason   TEXT,
          error         TEXT,
          acted_at      TEXT
        );
        -- One row per object and run: recording an object again (found, then deleted) updates it.
        CREATE UNIQUE INDEX run_items_object ON run_items (run_id, kind, namespace, name, uid);
      `),
  },
  {
    description: 'where the Airflow DB came from and how it was reached (db.source, db.via)',
    up: (db) =>
      db.exec(`
        ALTER TABLE runs ADD COLUMN db_source TEXT;   -- 'flag', 'env VAR', 'secret NS/NAME:KEY'; NULL: no DB read
        ALTER TABLE runs ADD COLUMN db_via    TEXT;   -- 'direct', 'port-forward pod/NAME:PORT'
      `),
  },
  {
    description: 'journal: who runs a run, actions in flight, unknown outcomes',
    up: (db) =>
      db.exec(`
        -- The process that runs the run, so that history can tell a run still going from one whose
        -- process died (crashed): pid, host, and on Linux boot id + start ticks against pid reuse.
        ALTER TABLE runs ADD COLUMN pid INTEGER;
        ALTER TABLE runs ADD COLUMN host TEXT;
        ALTER TABLE runs ADD COLUMN process_start TEXT;
        -- Actions whose outcome could not be known (they may have applied); NULL on older rows.
        ALTER TABLE runs ADD COLUMN unknown INTEGER;
        -- The verb ('delete', 'patch') of an action whose request may be on its way: written before
        -- the request is sent, cleared when its outcome is recorded. Still set after a crash: unknown.
        ALTER TABLE run_items ADD COLUMN in_flight TEXT;
      `),
  },
  {
    description: "heartbeat: a run of another host (a CronJob's pod) whose process stopped reporting is crashed",
    up: (db) =>
      db.exec(`
        -- When the run's process last said it was alive (every 30 s while it runs). A pid cannot be
        -- checked from another host; a heartbeat long gone quiet can. NULL on older rows: unknown.
        ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
      `),
  },
  {
    description: 'settlement: what a later run found became of an action recorded unknown',
    up: (db) =>
      db.exec(`
        -- The action stays 'unknown' as recorded; these say what a later look at the cluster found:
        -- 'deleted' | 'patched' | 'failed', when, by which run (NULL: by history), and what was seen.
        ALTER TABLE run_items ADD COLUMN settled_action TEXT;
        ALTER TABLE run_items ADD COLUMN settled_at TEXT;
        ALTER TABLE run_items ADD COLUMN settled_by_run INTEGER;
        ALTER TABLE run_items ADD COLUMN settled_detail TEXT;
        -- The verb of the action ('delete', 'patch'), kept after its outcome (in_flight is cleared):
        -- settling needs it, since unstick both deletes dependents and patches. NULL on older rows.
        ALTER TABLE run_items ADD COLUMN verb TEXT;
      `),
  },
  {
    description: 'the task-instance source: the metadata DB or the REST API (source.kind, url, api, versions, auth, requests)',
    up: (db) =>
      db.exec(`
        -- 'db' (db_source/db_via say where) or 'api'; NULL on older rows (db_source set: the DB) and
        -- for runs that read no task instances (unstick).
        ALTER TABLE runs ADD COLUMN source_kind TEXT;
        ALTER TABLE runs ADD COLUMN api_url TEXT;          -- redacted: scheme, host and path prefix only
        ALTER TABLE runs ADD COLUMN api_version TEXT;      -- 'v1' | 'v2'
        ALTER TABLE runs ADD COLUMN airflow_version TEXT;  -- as /api/vN/version answered
        ALTER TABLE runs ADD COLUMN api_auth TEXT;         -- how the credentials were obtained: 'token-cmd' | 'token' | 'password' | 'none'
        ALTER TABLE runs ADD COLUMN api_requests INTEGER;  -- requests made, as last recorded
      `),
  },
]

export const SCHEMA_VERSION = migrations.length

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', {simple: true}) as number
}

/**
 * Bring the store up to `steps.length`. Runs in one BEGIN IMMEDIATE transaction, so two processes
 * opening a fresh file at once do not both migrate: the second waits for the lock, then finds the
 * work done. A failing step leaves the store as it was.
 */
export function migrate(db: Database.Database, steps: readonly Migration[] = migrations): void {
  // Checked before taking the write lock too: a newer store must not be written to at all.
  if (!needsMigration(db, steps)) return
  db.transaction(() => {
    // Read again under the lock: another process may have migrated while we waited for it.
    const current = schemaVersion(db)
    if (!needsMigration(db, steps)) return
    for (let version = current; version < steps.length; version++) {
      steps[version].up(db)
      db.pragma(`user_version = ${version + 1}`)
    }
  }).immediate()
}

function needsMigration(db: Database.Database, steps: readonly Migration[]): boolean {
  const current = schemaVersion(db)
  if (current > steps.length) throw new StoreTooNewError(db.name, current, steps.length)
  return current < steps.length
}
