/**
 * `np.linalg`: numpy's linear-algebra names. Products and norms (`dot`, `matmul`, `norm`,
 * `cross`, `diagonal`, `trace`) and the dense decompositions and solvers, all compositions of
 * primitives and `lax.scan` loops (so grad, vmap and jit come from their rules): `qr`
 * (blocked Householder), `cholesky`, `triangularSolve` (lax.linalg.triangular_solve's
 * semantics), and from LU with partial pivoting `solve`, `inv`, `det`, `slogdet`. Every one
 * takes stacks of matrices [..., M, N], in float32 (and float64 on the CPU).
 */

export { cross, diagonal, trace } from "./assemble.js";
export { dot, matmul } from "./linalg.js";
export { cholesky } from "./linalg-cholesky.js";
export { type QrMode, type QrOptions, qr } from "./linalg-qr.js";
export { det, inv, slogdet, solve } from "./linalg-solve.js";
export { type TriangularSolveOptions, triangularSolve } from "./linalg-triangular.js";
export { norm } from "./norms.js";
