/**
 * Reverse-mode automatic differentiation over float64 tensors, for custom models.
 *
 * `valueAndGrad(f, inputs)` records the ops of one evaluation of a scalar function on a tape and
 * returns its value and gradients; ops on tensors that do not depend on the inputs are constants.
 */
export { AutodiffError, ShapeError, broadcastShapes, sizeOf, type Shape } from './shape.js';
export {
  Tape,
  Tensor,
  asTensor,
  backward,
  beginTape,
  endTape,
  full,
  scalar,
  stopGradient,
  tensor,
  valueAndGrad,
  variable,
  zeros,
  type TensorLike,
} from './tensor.js';
export {
  abs,
  add,
  digamma,
  div,
  exp,
  expm1,
  lgamma,
  log,
  log1p,
  logSigmoid,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
} from './elementwise.js';
export { cumsum, logSoftmax, logsumexp, mean, scaleBy, softmax, sum, type Axes } from './reduce.js';
export { matmul, transpose } from './linalg.js';
export { concat, gather, reshape, select, slice, stack } from './indexing.js';
export {
  bernoulliLogitLogPmf,
  betaLogPdf,
  categoricalLogitLogPmf,
  cauchyLogPdf,
  exponentialLogPdf,
  gammaLogPdf,
  halfCauchyLogPdf,
  halfNormalLogPdf,
  normalLogPdf,
  poissonLogLogPmf,
  studentTLogPdf,
} from './distributions.js';
export {
  ConstraintError,
  identity,
  interval,
  lowerBounded,
  positive,
  simplex,
  unitInterval,
  upperBounded,
  type Constraint,
} from './constraints.js';
export {
  digamma as digammaScalar,
  lgamma as lgammaScalar,
  trigamma as trigammaScalar,
} from './special.js';
