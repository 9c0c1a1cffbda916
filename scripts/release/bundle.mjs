// The release executable's app in one CommonJS file (esbuild): src/cli/bundle-entry.ts with every
// command, oclif and the pure-JS dependencies; and beside it src/cli/quick-version.ts alone. Left outside, loaded from the app's node_modules when a
// run needs them: better-sqlite3 (a native addon) and the parts of @kubernetes/client-node that load
// its whole generated API (exec credential plugins, port-forward), imported only for those.
//
//   node scripts/release/bundle.mjs OUTFILE     (scripts/release.mjs calls bundleApp)
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Bundled: only client-node's config_types.js, which the kubeconfig reader imports (it needs node:fs only). */
const keepClientNodeOutside = {
  name: 'client-node-outside',
  setup(build) {
    build.onResolve({filter: /^@kubernetes\/client-node(\/|$)/}, (args) =>
      args.path.endsWith('/config_types.js') ? undefined : {path: args.path, external: true},
    )
  },
}

export async function bundleApp(outfile) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, 'src', 'cli', 'bundle-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // typescript: oclif requires it only to run a plugin from its TypeScript sources (never in a release).
    external: ['better-sqlite3', 'typescript'],
    plugins: [keepClientNodeOutside],
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  })
  return result.metafile
}

/** src/cli/quick-version.ts alone (Node built-ins only): the executable answers `version` with it before loading the app. */
export async function bundleQuickVersion(outfile) {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, 'src', 'cli', 'quick-version.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outfile = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist', 'bundle', 'cli.cjs'))
  const meta = await bundleApp(outfile)
  process.stderr.write(`${outfile}: ${Object.keys(meta.inputs).length} modules\n`)
}
