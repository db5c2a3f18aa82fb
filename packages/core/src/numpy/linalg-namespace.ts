/** `np.linalg`: numpy's linear-algebra names (more arrive with the decompositions). */

export { cross, diagonal, trace } from "./assemble.js";
export { dot, matmul } from "./linalg.js";
export { norm } from "./norms.js";
