// `node --import ./register-ts.mjs child.mjs`: install the TypeScript hooks before the child runs.
import {register} from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
