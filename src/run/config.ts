/**
 * The JSON configuration of `sgbayes run`, validated with zod. Every problem is reported with the
 * file, the field path and what is wrong, e.g.
 * `run.json: sampler.stepSize: expected a positive number, got "abc"`.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { listSamplers } from '../samplers/registry.js';

/** The model types a run can fit. */
export const MODEL_TYPES = ['linear-regression', 'logistic-regression', 'softmax-regression'] as const;

/** One of {@link MODEL_TYPES}. */
export type ModelType = (typeof MODEL_TYPES)[number];

/** Full-batch Hamiltonian samplers that `sgbayes run` supports besides the registry's. */
export const HAMILTONIAN_SAMPLERS = ['nuts', 'hmc'] as const;

/** The model section of a run configuration. */
export interface ModelConfig {
  type: ModelType;
  /** Absolute path of the CSV file (the config holds it relative to the config file). */
  data: string;
  /** Name of the target column. */
  target: string;
  /** Feature columns, in order (default: every column but the target). */
  features?: string[];
  /** λ, precision of the N(0, λ⁻¹ I) prior on every coefficient. */
  priorPrecision: number;
  /** τ, the known noise precision (linear regression only; default 1). */
  noisePrecision?: number;
  /** K, the number of classes (softmax regression only; default max label + 1). */
  classes?: number;
  /** Append an intercept coefficient (default true). */
  intercept: boolean;
  /** Standardise the features (and, for linear regression, the target) by their mean and sd (default false). */
  standardize: boolean;
}

/** The sampler section: `type` and the sampler's own options. */
export interface SamplerConfig {
  /** A registered stochastic-gradient sampler (see `listSamplers()`), 'nuts' or 'hmc'. */
  type: string;
  /** Step size ε (required for registry samplers; NUTS/HMC start from it, else find one). */
  stepSize?: number;
  /** Temperature T ≥ 0 of the injected noise (registry samplers; default 1). */
  temperature?: number;
  /** NUTS: maximum tree depth (default 10). */
  maxTreeDepth?: number;
  /** HMC: a fixed number of leapfrog steps per iteration (default: ⌊pathLength/ε⌋). */
  numIntegrationSteps?: number;
  /** HMC: integration time per iteration (default π/2). */
  pathLength?: number;
  /** NUTS/HMC: target acceptance statistic of dual averaging during burn-in (default 0.8). */
  targetAcceptance?: number;
  /** NUTS/HMC: adapt a diagonal metric during burn-in (default true). */
  adaptMetric?: boolean;
}

/** A validated run configuration, with defaults filled in and the data path made absolute. */
export interface RunConfig {
  model: ModelConfig;
  sampler: SamplerConfig;
  /** T, steps per chain. */
  steps: number;
  /** Steps at the start of each chain not kept (NUTS/HMC: warm-up adaptation). */
  burnIn: number;
  /** Keep every `thin`-th step after burn-in. */
  thin: number;
  /** K, the number of chains. */
  chains: number;
  /** Seed of the run; chain c's randomness depends only on (seed, c). */
  seed: number;
  /** S, the minibatch size (S ≥ N: full batch; ignored by NUTS/HMC). */
  batchSize: number;
  /** 'epochs' (default: shuffled epochs) or 'independent' (a fresh S-subset per step; see runChains). */
  batching: 'epochs' | 'independent';
  /** Write a checkpoint every this many steps of a chain. */
  checkpointEvery: number;
  /** Worker threads (default: one per core, at most one per chain); never changes the draws. */
  workers?: number;
  /** Initial positions are uniform in [−initRadius, initRadius] per coordinate (default 0: the origin). */
  initRadius: number;
  /** Free text describing the run. */
  description?: string;
}

/** A configuration that cannot be read or is invalid; the message names the file and every bad field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The configuration file (or source name). */
  readonly file: string;
  /** One line per problem: `field.path: what is wrong`. */
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super(problems.length === 1 ? `${file}: ${problems[0]}` : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
    this.file = file;
    this.problems = problems;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A zod error callback: `expected <what>, got <the value>`. */
function expected(what: string) {
  return (issue: { input?: unknown }): string =>
    issue.input === undefined ? `required: expected ${what}` : `expected ${what}, got ${show(issue.input)}`;
}

function numberWhere(what: string, test: (v: number) => boolean) {
  return z.number({ error: expected(what) }).refine(test, { error: expected(what) });
}

const positiveNumber = () => numberWhere('a positive number', (v) => v > 0);
const nonNegativeNumber = () => numberWhere('a number ≥ 0', (v) => v >= 0);
const integerAtLeast = (min: number, max = 2 ** 31 - 1) =>
  numberWhere(min === 0 ? 'an integer ≥ 0' : `an integer ≥ ${min}`, (v) => Number.isInteger(v) && v >= min && v <= max);
const text = () => z.string({ error: expected('a non-empty string') }).refine((s) => s.length > 0, { error: expected('a non-empty string') });
const flag = () => z.boolean({ error: expected('true or false') });

const modelSchema = z.strictObject(
  {
    type: z.enum(MODEL_TYPES, { error: expected(`one of ${MODEL_TYPES.join(', ')}`) }),
    data: text(),
    target: text(),
    features: z.array(text(), { error: expected('an array of column names') }).optional(),
    priorPrecision: positiveNumber(),
    noisePrecision: positiveNumber().optional(),
    classes: integerAtLeast(2).optional(),
    intercept: flag().default(true),
    standardize: flag().default(false),
  },
  { error: expected('an object') },
);

const registrySamplerSchema = z.strictObject({
  type: z.string(),
  stepSize: positiveNumber(),
  temperature: nonNegativeNumber().optional(),
});

const hamiltonianSamplerSchema = z.strictObject({
  type: z.string(),
  stepSize: positiveNumber().optional(),
  maxTreeDepth: integerAtLeast(1, 30).optional(),
  numIntegrationSteps: integerAtLeast(1).optional(),
  pathLength: positiveNumber().optional(),
  targetAcceptance: numberWhere('a number in (0, 1)', (v) => v > 0 && v < 1).optional(),
  adaptMetric: flag().optional(),
});

function samplerNames(): string[] {
  return [...listSamplers().map((entry) => entry.name), ...HAMILTONIAN_SAMPLERS];
}

const samplerSchema = z
  .looseObject({ type: text() }, { error: expected('an object') })
  .superRefine((value, context) => {
    const names = samplerNames();
    if (!names.includes(value.type)) {
      context.addIssue({ code: 'custom', path: ['type'], message: `unknown sampler ${show(value.type)}; known samplers: ${names.join(', ')}` });
      return;
    }
    const isHamiltonian = (HAMILTONIAN_SAMPLERS as readonly string[]).includes(value.type);
    const result = (isHamiltonian ? hamiltonianSamplerSchema : registrySamplerSchema).safeParse(value);
    if (result.success) return;
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = Object.keys((isHamiltonian ? hamiltonianSamplerSchema : registrySamplerSchema).shape);
        for (const key of issue.keys) {
          context.addIssue({ code: 'custom', path: [key], message: `not an option of sampler '${value.type}' (its options: ${known.join(', ')})` });
        }
      } else {
        context.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
      }
    }
  });

const runSchema = z
  .strictObject(
    {
      description: z.string({ error: expected('a string') }).optional(),
      model: modelSchema,
      sampler: samplerSchema,
      steps: integerAtLeast(1),
      burnIn: integerAtLeast(0).default(0),
      thin: integerAtLeast(1).default(1),
      chains: integerAtLeast(1, 10_000).default(4),
      seed: integerAtLeast(0, 2 ** 32 - 1).default(0),
      batchSize: integerAtLeast(1),
      batching: z.enum(['epochs', 'independent'], { error: expected("'epochs' or 'independent'") }).default('epochs'),
      checkpointEvery: integerAtLeast(1).default(1000),
      workers: integerAtLeast(1, 1024).optional(),
      initRadius: nonNegativeNumber().default(0),
    },
    { error: expected('a JSON object') },
  )
  .superRefine((config, context) => {
    if (config.burnIn >= config.steps) {
      context.addIssue({ code: 'custom', path: ['burnIn'], message: `must be less than steps (${config.steps}) so that some draws are kept, got ${config.burnIn}` });
    }
    const model = config.model;
    if (model.noisePrecision !== undefined && model.type !== 'linear-regression') {
      context.addIssue({ code: 'custom', path: ['model', 'noisePrecision'], message: `only linear-regression has a noise precision, not ${model.type}` });
    }
    if (model.classes !== undefined && model.type !== 'softmax-regression') {
      context.addIssue({ code: 'custom', path: ['model', 'classes'], message: `only softmax-regression has classes, not ${model.type}` });
    }
  });

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function knownFieldsAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(runSchema.shape);
  if (path.length === 1 && path[0] === 'model') return Object.keys(modelSchema.shape);
  return [];
}

/** One line per zod issue: the field path, then what is wrong. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownFieldsAt(issue.path);
      for (const key of issue.keys) {
        const field = pathText([...issue.path, key]);
        lines.push(`${field}: unknown field${known.length > 0 ? ` (known fields: ${known.join(', ')})` : ''}`);
      }
    } else {
      lines.push(`${pathText(issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

/**
 * Validate a parsed JSON value as a run configuration. `file` names the source in errors; `baseDir`
 * is where `model.data` is resolved from (the config file's directory).
 * @throws ConfigError listing every problem as `field.path: what is wrong`.
 */
export function parseRunConfig(value: unknown, file: string, baseDir: string): RunConfig {
  const result = runSchema.safeParse(value);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  const parsed = result.data;
  const { description, workers, ...rest } = parsed;
  const sampler = parsed.sampler as SamplerConfig;
  const model: ModelConfig = {
    ...parsed.model,
    data: isAbsolute(parsed.model.data) ? parsed.model.data : resolve(baseDir, parsed.model.data),
  };
  return {
    ...rest,
    model,
    sampler,
    ...(workers !== undefined ? { workers } : {}),
    ...(description !== undefined ? { description } : {}),
  };
}

/**
 * Read and validate a run configuration file (JSON). `model.data` is resolved relative to the
 * file's directory.
 * @throws ConfigError for a missing file, invalid JSON (with line and column) or invalid fields.
 */
export function loadRunConfig(path: string): RunConfig {
  let textContent: string;
  try {
    textContent = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ConfigError(path, [code === 'ENOENT' ? 'file not found' : `cannot read: ${(error as Error).message}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(textContent);
  } catch (error) {
    throw new ConfigError(path, [`invalid JSON: ${jsonErrorLocation(textContent, error as Error)}`]);
  }
  return parseRunConfig(value, path, dirname(resolve(path)));
}

/**
 * Where JSON text first goes wrong, as "unexpected ',' at line 3, column 13" (Node 20's JSON.parse
 * does not always give a position): a small recursive-descent scan of the JSON grammar (RFC 8259).
 */
function jsonErrorLocation(source: string, error: Error): string {
  let i = 0;
  const fail = (): never => {
    throw new RangeError('json');
  };
  const space = (): void => {
    while (i < source.length && ' \t\n\r'.includes(source[i])) i++;
  };
  const literal = (word: string): void => {
    if (source.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = (): void => {
    i++;
    while (i < source.length && source[i] !== '"') {
      if (source[i] === '\\') i++;
      else if (source.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= source.length) fail();
    i++;
  };
  const value = (): void => {
    space();
    const c = source[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (source[i] === close) {
        i++;
        return;
      }
      while (true) {
        if (c === '{') {
          space();
          if (source[i] !== '"') fail();
          string();
          space();
          if (source[i] !== ':') fail();
          i++;
        }
        value();
        space();
        if (source[i] === ',') i++;
        else if (source[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i));
    if (!number) fail();
    i += (number as RegExpExecArray)[0].length;
  };
  try {
    value();
    space();
    if (i < source.length) fail();
    return error.message;
  } catch {
    const before = source.slice(0, i);
    const line = before.split('\n').length;
    const column = i - before.lastIndexOf('\n');
    const what = i >= source.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(source[i])}`;
    return `${what} at line ${line}, column ${column}`;
  }
}

/** The configuration as JSON-ready data with keys in a fixed order, to store beside the run and compare on resume. */
export function canonicalConfig(config: RunConfig): Record<string, unknown> {
  const { workers: _workers, description: _description, ...rest } = config;
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return sortKeys(rest) as Record<string, unknown>;
}
