// Module hooks that let a plain `node` child process import the project's TypeScript sources (the
// store tests need a second real process running the real store code; tsx is not installed, and
// Node 20 cannot strip types). Transpile-only: type checking is tsc's job.
import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'

// Sources import `./x.js` (NodeNext style); on disk there is only `./x.ts`.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (err) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../')
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !relative || !specifier.endsWith('.js')) throw err
    return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context)
  const fileName = fileURLToPath(url)
  const {outputText} = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true},
  })
  return {format: 'module', source: outputText, shortCircuit: true}
}
