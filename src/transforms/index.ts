/** Optax-style gradient transforms: composition, preconditioners, RMSprop, momentum and Adam. */
export { TransformError } from './errors.js';
export { chain, scale, scaleBySchedule, applyUpdates, type ChainState, type TransformState } from './chain.js';
export {
  scaleByPreconditioner,
  applyPreconditioner,
  checkPreconditioner,
  meanStepSize,
  preconditionerMatrix,
  type Preconditioner,
  type PreconditionerState,
} from './preconditioner.js';
export { scaleByRms, rmsDiagonal, type RmsOptions, type RmsState } from './rms.js';
export { momentum, type MomentumOptions, type MomentumState } from './momentum.js';
export { adam, scaleByAdam, sgd, type AdamOptions, type AdamScalingOptions, type AdamState, type SgdOptions } from './adam.js';
