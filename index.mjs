// ESM entry: the same module as `index.js` (Node reads its named exports from `module.exports`).
export * from './index.js'
export { default } from './index.js'
