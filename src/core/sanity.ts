// Sanity stops before a mass action (contract: --max-deletes, more than half of the scanned objects).
// A wrong --db (another Airflow's DB, an empty restore) makes every pod look like a zombie; these stops
// turn that mistake into a refusal instead of an outage.

export interface SanityInput {
  scanned: number
  candidates: number
  maxDeletes: number
  allowMassDelete: boolean
}

export type SanityVerdict =
  | {ok: true; allowed: number; heldBack: number}
  | {ok: false; message: string}

export function checkSanity({scanned, candidates, maxDeletes, allowMassDelete}: SanityInput): SanityVerdict {
  if (!allowMassDelete && candidates > 0 && candidates * 2 > scanned) {
    return {
      ok: false,
      message:
        `refusing to delete ${candidates} of ${scanned} scanned pods (more than half): ` +
        'check that --db (or --airflow-url) points at the Airflow that owns these pods, or pass --allow-mass-delete',
    }
  }
  const allowed = Math.min(candidates, Math.max(0, maxDeletes))
  return {ok: true, allowed, heldBack: candidates - allowed}
}
