/**
 * Logistic regression fitted by gradient descent, the gradient written out by hand:
 *   p = σ(X·w + b),  loss = −mean(y·log p + (1−y)·log(1−p)),
 *   ∂loss/∂w = Xᵀ(p − y)/n,  ∂loss/∂b = mean(p − y).
 * Written eagerly: every array is released by `using` (or replaced and disposed), with an
 * `await` inside the loop, so live memory stays flat however long it runs.
 */
import { type Array, np } from "@webjax/core";
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

function binaryCrossEntropy(p: Array, y: Array): Array {
  using logP = np.log(p);
  using oneMinusP = np.subtract(1, p);
  using log1mP = np.log(oneMinusP);
  using oneMinusY = np.subtract(1, y);
  using a = y.mul(logP);
  using c = oneMinusY.mul(log1mP);
  using total = a.add(c);
  using m = total.mean();
  return m.neg();
}

export async function fitLogisticRegression(opts: FitOptions): Promise<FitResult> {
  const lr = opts.learningRate ?? 0.5;
  const data = makeBlobs(opts.samples ?? 512, 0);
  using x = np.array(data.x, { shape: [data.n, 2] });
  using y = np.array(data.y);
  using xt = x.T;
  let w = np.zeros([2]);
  let b = np.zeros([]);
  try {
    for (let step = 1; step <= opts.steps; step++) {
      using logits0 = x.matmul(w);
      using logits = logits0.add(b);
      using p = np.sigmoid(logits);
      using err = p.sub(y);
      using gwSum = xt.matmul(err);
      using gw = gwSum.div(data.n);
      using gb = err.mean();
      using dw = gw.mul(lr);
      using db = gb.mul(lr);
      const w2 = w.sub(dw);
      const b2 = b.sub(db);
      w.dispose();
      b.dispose();
      w = w2;
      b = b2;
      if (opts.log && opts.logEvery && (step % opts.logEvery === 0 || step === 1)) {
        using loss = binaryCrossEntropy(p, y);
        opts.log(step, await loss.item());
      }
      await opts.onStep?.(step);
    }
    using logits0 = x.matmul(w);
    using logits = logits0.add(b);
    using p = np.sigmoid(logits);
    using loss = binaryCrossEntropy(p, y);
    using predicted = p.greater(0.5);
    using truth = y.greater(0.5);
    using correct = predicted.equal(truth);
    using accuracy = correct.mean();
    return {
      w: globalThis.Array.from(await w.data()),
      b: await b.item(),
      loss: await loss.item(),
      accuracy: await accuracy.item(),
    };
  } finally {
    w.dispose();
    b.dispose();
  }
}
