/**
 * Checkpoints as safetensors files: `saveCheckpoint`/`loadCheckpoint` (paths in Node, Blobs in
 * browsers), `encodeCheckpoint`/`decodeCheckpoint` (bytes), validated against a template.
 */
export {
  type CheckpointOptions,
  type CheckpointSource,
  checkpointBlob,
  checkpointMetadata,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.js";
export { CheckpointError } from "./safetensors.js";
