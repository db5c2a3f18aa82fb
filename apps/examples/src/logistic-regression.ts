/**
 * Logistic regression fitted by gradient descent, the gradient from `valueAndGrad`:
 *   z = X·w + b,  loss = mean(log(1 + eᶻ) − y·z)  (binary cross-entropy of σ(z), stable),
 * whose gradient autodiff finds to be ∂loss/∂w = Xᵀ(σ(z) − y)/n, ∂loss/∂b = mean(σ(z) − y)
 * (the test checks it against that formula in float64).
 * Written eagerly: every array is released by `using` (or replaced and disposed), with an
 * `await` inside the loop, so live memory stays flat however long it runs.
 */
import { type Array, np, valueAndGrad } from "@webjax/core";
import { makeBlobs } from "./data.js";

export interface FitOptions {
  steps: number;
  learningRate?: number;
  samples?: number;
  /** Called after every step with the step number (1-based); may be async. */
  onStep?: (step: number) => void | Promise<void>;
  /** Steps between loss reports passed to `log`. */
  logEvery?: number;
  log?: (step: number, loss: number) => void;
}

export interface FitResult {
  w: number[];
  b: number;
  loss: number;
  accuracy: number;
}

interface Params {
  w: Array;
  b: Array;
}

/** Mean binary cross-entropy of σ(x·w + b) against labels y, from the logits (no log of 0). */
function loss(p: Params, x: Array, y: Array): Array {
  const z = x.matmul(p.w).add(p.b);
  return np.logaddexp(0, z).sub(y.mul(z)).mean();
}

const lossAndGrad = valueAndGrad(loss);

export async function fitLogisticRegression(opts: FitOptions): Promise<FitResult> {
  const lr = opts.learningRate ?? 0.5;
  const data = makeBlobs(opts.samples ?? 512, 0);
  using x = np.array(data.x, { shape: [data.n, 2] });
  using y = np.array(data.y);
  let w = np.zeros([2]);
  let b = np.zeros([]);
  try {
    for (let step = 1; step <= opts.steps; step++) {
      const [value, grads] = lossAndGrad({ w, b }, x, y);
      using l = value;
      using gw = grads.w;
      using gb = grads.b;
      using dw = gw.mul(lr);
      using db = gb.mul(lr);
      const w2 = w.sub(dw);
      const b2 = b.sub(db);
      w.dispose();
      b.dispose();
      w = w2;
      b = b2;
      if (opts.log && opts.logEvery && (step % opts.logEvery === 0 || step === 1)) opts.log(step, await l.item());
      await opts.onStep?.(step);
    }
    using logits0 = x.matmul(w);
    using logits = logits0.add(b);
    using p = np.sigmoid(logits);
    // loss() makes intermediates it does not dispose: outside a transform they would wait for
    // the GC, so evaluate it through the transform (which releases them) and drop the gradient.
    const [finalValue, finalGrads] = lossAndGrad({ w, b }, x, y);
    using finalLoss = finalValue;
    finalGrads.w.dispose();
    finalGrads.b.dispose();
    using predicted = p.greater(0.5);
    using truth = y.greater(0.5);
    using correct = predicted.equal(truth);
    using accuracy = correct.mean();
    return {
      w: globalThis.Array.from(await w.data()),
      b: await b.item(),
      loss: await finalLoss.item(),
      accuracy: await accuracy.item(),
    };
  } finally {
    w.dispose();
    b.dispose();
  }
}
