/** Built-in models (targets over index batches) and gradient estimators. */
export { ModelError, type ModeOptions, type ModeResult } from './common.js';
export {
  linearRegression,
  type GammaPrior,
  type GaussianPosterior,
  type LinearRegressionModel,
  type LinearRegressionOptions,
} from './linear.js';
export { logisticRegression, type LogisticRegressionModel, type LogisticRegressionOptions } from './logistic.js';
export {
  softmaxRegression,
  type SoftmaxModeOptions,
  type SoftmaxRegressionModel,
  type SoftmaxRegressionOptions,
} from './softmax.js';
export { minibatchGradient, fullGradient } from './estimator.js';
